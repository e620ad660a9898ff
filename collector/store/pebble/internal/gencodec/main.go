// Command gencodec regenerates the store's event codec (codec_gen.go) and its field-number lock
// (codec.lock) from collector.Event. Run it with go generate in collector/store/pebble after changing the
// model; TestCodecGeneratedIsCurrent fails until you do.
package main

import (
	"fmt"
	"os"
	"reflect"

	"github.com/hotpath-apm/hotpath/collector"
	"github.com/hotpath-apm/hotpath/collector/store/pebble/internal/codecgen"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "gencodec:", err)
		os.Exit(1)
	}
}

func run() error {
	lock, err := os.ReadFile("codec.lock")
	if err != nil && !os.IsNotExist(err) {
		return err
	}
	shared, byValue := codecgen.EventShared()
	code, newLock, err := codecgen.Generate(reflect.TypeFor[collector.Event](), "pebble", lock, shared, byValue)
	if err != nil {
		return err
	}
	if err := os.WriteFile("codec_gen.go", code, 0o644); err != nil {
		return err
	}
	return os.WriteFile("codec.lock", newLock, 0o644)
}
