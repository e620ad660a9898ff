package decoder

import (
	"bytes"
	"os"
	"testing"

	"github.com/hotpath-apm/hotpath/collector/intake/decoder/internal/eventgen"
)

// TestEventsGeneratedIsCurrent fails when events_gen.go is not what internal/eventgen writes from its
// template and table: an edit of either would otherwise be lost, or never take effect.
func TestEventsGeneratedIsCurrent(t *testing.T) {
	want, err := eventgen.Generate()
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile("events_gen.go")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("events_gen.go is out of date with internal/eventgen: run `go generate ./collector/intake/decoder`")
	}
}
