// Command genevents regenerates the decoders of the intake v2 schema's objects (events_gen.go) from
// internal/eventgen's template and table. Run it with go generate in collector/intake/decoder after
// changing either; TestEventsGeneratedIsCurrent fails until you do.
package main

import (
	"fmt"
	"os"

	"github.com/hotpath-apm/hotpath/collector/intake/decoder/internal/eventgen"
)

func main() {
	src, err := eventgen.Generate()
	if err == nil {
		err = os.WriteFile("events_gen.go", src, 0o644)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "genevents:", err)
		os.Exit(1)
	}
}
