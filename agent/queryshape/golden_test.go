package queryshape_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hotpath-apm/hotpath/agent/queryshape"
)

var update = flag.Bool("update", false, "rewrite testdata/golden.json")

// TestGolden pins the shapes of testdata/bodies: an id that changes breaks every stored aggregate and
// every Kibana grouping by the label, so a change of the rules must change Version, on purpose
// (refresh with -update).
func TestGolden(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "bodies", "*"))
	if err != nil || len(files) == 0 {
		t.Fatalf("bodies: %v %v", files, err)
	}
	got := map[string]queryshape.Shape{}
	for _, f := range files {
		body, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		path := "/products/_search"
		if strings.HasSuffix(f, ".ndjson") {
			path = "/products/_msearch"
		}
		s, ok := queryshape.Request(path, body)
		if !ok {
			t.Fatalf("%s: no shape", f)
		}
		checkShape(t, s)
		got[filepath.Base(f)] = s
	}
	out, err := json.MarshalIndent(got, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	out = append(out, '\n')
	golden := filepath.Join("testdata", "golden.json")
	if *update {
		if err := os.WriteFile(golden, out, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out, want) {
		t.Errorf("shapes differ from %s (run with -update if the change is meant, and change Version):\n%s", golden, out)
	}
}
