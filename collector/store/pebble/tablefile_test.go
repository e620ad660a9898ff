package pebble

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"
)

// TestTableFileWritesWhatItIsGiven writes a file through a tableFile in writes of every size around the
// buffer's, checking after each one that the file's size and contents are what was written so far.
func TestTableFileWritesWhatItIsGiven(t *testing.T) {
	fs := vfs.NewMem()
	var tables tableFiles
	inner, err := fs.Create("000001.sst", vfs.WriteCategoryUnspecified)
	if err != nil {
		t.Fatal(err)
	}
	f := tables.wrap(inner)
	r := rand.New(rand.NewPCG(1, 2))
	var want []byte
	sizes := []int{1, 4096, 4607, tableFileBuffer - 1, tableFileBuffer, tableFileBuffer + 1, 3 * tableFileBuffer, 0, 17}
	for i := range 60 {
		n := sizes[i%len(sizes)]
		if i >= len(sizes) {
			n = r.IntN(tableFileBuffer / 3)
		}
		p := make([]byte, n)
		for j := range p {
			p[j] = byte(r.Uint32())
		}
		if w, err := f.Write(p); err != nil || w != n {
			t.Fatalf("write %d: %d, %v", n, w, err)
		}
		want = append(want, p...)
		for j := range p {
			p[j] = 0 // Pebble may reuse what it wrote
		}
		switch i % 3 {
		case 0:
			fi, err := f.Stat()
			if err != nil || fi.Size() != int64(len(want)) {
				t.Fatalf("after %d bytes, Stat: %v, %v", len(want), fi.Size(), err)
			}
		case 1:
			got := make([]byte, min(len(want), 1000))
			if _, err := f.ReadAt(got, int64(len(want)-len(got))); err != nil || !bytes.Equal(got, want[len(want)-len(got):]) {
				t.Fatalf("after %d bytes, ReadAt of the last %d: %v", len(want), len(got), err)
			}
		}
	}
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write([]byte("tail")); err != nil {
		t.Fatal(err)
	}
	want = append(want, "tail"...)
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	got := readAll(t, fs, "000001.sst")
	if !bytes.Equal(got, want) {
		t.Fatalf("the file holds %d bytes, want the %d written", len(got), len(want))
	}
}

// TestTableFileWriteErrorSurfaces: a write the buffer took fails when it is written out, and the call
// that writes it out (a sync, Close) returns the error.
func TestTableFileWriteErrorSurfaces(t *testing.T) {
	fs := vfs.NewMem()
	var tables tableFiles
	for _, end := range []string{"Sync", "Close"} {
		inner, err := fs.Create("000002.sst", vfs.WriteCategoryUnspecified)
		if err != nil {
			t.Fatal(err)
		}
		ff := &failingFile{File: inner}
		f := tables.wrap(ff)
		if _, err := f.Write(make([]byte, 100)); err != nil {
			t.Fatalf("a buffered write failed at once: %v", err)
		}
		ff.fail = errors.New("no space left on device")
		if end == "Sync" {
			err = f.Sync()
			_ = f.Close()
		} else {
			err = f.Close()
		}
		if !errors.Is(err, ff.fail) {
			t.Errorf("%s after a failed buffered write: %v, want %v", end, err, ff.fail)
		}
	}
}

// TestTableFilesGatherPebblesWrites: the tables and blob files a store's flush writes reach the
// filesystem in writes of tens of KiB, not a block (~4 KiB) at a time.
func TestTableFilesGatherPebblesWrites(t *testing.T) {
	fs := &countingFS{FS: vfs.NewMem()}
	s := openTest(t, Config{Dir: "/store", fs: fs, MinFreeDisk: -1, DiskReserve: -1})
	g := newGen(7, t0)
	for range 20 {
		mustProcess(t, s, g.batch(500, 5))
	}
	if err := s.db.Flush(); err != nil {
		t.Fatal(err)
	}
	writes, written := fs.counts()
	if writes == 0 {
		t.Fatal("the flush wrote no table")
	}
	t.Logf("%d bytes of tables and blob files in %d writes: %d per write", written, writes, written/writes)
	if written/writes < 32<<10 {
		t.Errorf("%d bytes of tables and blob files in %d writes: %d per write, want at least 32 KiB", written, writes, written/writes)
	}
}

func readAll(t *testing.T, fs vfs.FS, name string) []byte {
	t.Helper()
	f, err := fs.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b, err := io.ReadAll(f)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

type failingFile struct {
	vfs.File
	fail error
}

func (f *failingFile) Write(p []byte) (int, error) {
	if f.fail != nil {
		return 0, f.fail
	}
	return f.File.Write(p)
}

// countingFS counts the writes to the table and blob files it creates, below the store's buffering.
type countingFS struct {
	vfs.FS
	mu             sync.Mutex
	writes, nbytes int
}

func (fs *countingFS) Create(name string, c vfs.DiskWriteCategory) (vfs.File, error) {
	f, err := fs.FS.Create(name, c)
	if f != nil && isTableFile(fs.PathBase(name)) {
		f = &countedFile{File: f, fs: fs}
	}
	return f, err
}

func (fs *countingFS) counts() (writes, nbytes int) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	return fs.writes, fs.nbytes
}

type countedFile struct {
	vfs.File
	fs *countingFS
}

func (f *countedFile) Write(p []byte) (int, error) {
	f.fs.mu.Lock()
	f.fs.writes++
	f.fs.nbytes += len(p)
	f.fs.mu.Unlock()
	return f.File.Write(p)
}
