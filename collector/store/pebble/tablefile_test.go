package pebble

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"slices"
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
		want = append(want, p...) // before the write: a vfs.File may change what it is given
		if w, err := f.Write(p); err != nil || w != n {
			t.Fatalf("write %d: %d, %v", n, w, err)
		}
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
// that writes it out (a later write that does not fit, a sync, Close) returns the error.
func TestTableFileWriteErrorSurfaces(t *testing.T) {
	fs := vfs.NewMem()
	var tables tableFiles
	for _, end := range []string{"Write", "Sync", "Close"} {
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
		switch end {
		case "Write":
			_, err = f.Write(make([]byte, tableFileBuffer))
			_ = f.Close()
		case "Sync":
			err = f.Sync()
			_ = f.Close()
		default:
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
	checkPerCall(t, "the flush wrote tables and blob files", writes, written, 32<<10)
}

// checkPerCall fails t unless calls moved at least min bytes each on average (and there were calls).
func checkPerCall(t *testing.T, what string, calls, nbytes, min int) {
	t.Helper()
	if calls == 0 {
		t.Fatalf("%s: no calls", what)
	}
	t.Logf("%s: %d bytes in %d calls, %d per call", what, nbytes, calls, nbytes/calls)
	if nbytes/calls < min {
		t.Errorf("%s: %d bytes in %d calls, %d per call, want at least %d", what, nbytes, calls, nbytes/calls, min)
	}
}

// TestSeqTableReadsWhatTheFileHolds compares reads through a window with reads of the file itself:
// forward, backward, across the window's end and the file's.
func TestSeqTableReadsWhatTheFileHolds(t *testing.T) {
	fs := vfs.NewMem()
	r := rand.New(rand.NewPCG(3, 4))
	content := make([]byte, 5*seqTableWindow+123)
	for i := range content {
		content[i] = byte(r.Uint32())
	}
	f, err := fs.Create("000003.sst", vfs.WriteCategoryUnspecified)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(content); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	var tables tableFiles
	plain, err := fs.Open("000003.sst")
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	seq, err := fs.Open("000003.sst", vfs.SequentialReadsOption)
	if err != nil {
		t.Fatal(err)
	}
	win := tables.readSequential(seq, "000003.sst", []vfs.OpenOption{vfs.SequentialReadsOption})
	if _, ok := win.(*seqTable); !ok {
		t.Fatalf("a table opened for sequential reads is a %T", win)
	}
	defer win.Close()
	off := int64(0)
	for i := range 2000 {
		n := 1 + r.IntN(5000)
		switch i % 50 {
		case 7:
			off = r.Int64N(int64(len(content)) + 10) // anywhere, past the end too
		case 13:
			n = seqTableWindow/2 + 1 // passed on
		case 21:
			off = int64(len(content)) - int64(n) + 1 // across the end
		}
		want, got := make([]byte, n), make([]byte, n)
		wn, werr := plain.ReadAt(want, off)
		gn, gerr := win.ReadAt(got, off)
		if gn != wn || (gerr == nil) != (werr == nil) || !bytes.Equal(got[:gn], want[:wn]) {
			t.Fatalf("ReadAt(%d bytes, %d): %d, %v; the file: %d, %v", n, off, gn, gerr, wn, werr)
		}
		off += int64(n)
		if off >= int64(len(content)) {
			off = 0
		}
	}
	if other := tables.readSequential(plain, "000003.sst", nil); other != plain {
		t.Error("a table not opened for sequential reads is read through a window")
	}
}

// TestSeqTablesGatherCompactionReads: a compaction reads its input tables in reads of tens of KiB, not
// a block (~1.4 KB) at a time.
func TestSeqTablesGatherCompactionReads(t *testing.T) {
	fs := &countingFS{FS: vfs.NewMem()}
	s := openTest(t, Config{Dir: "/store", fs: fs, MinFreeDisk: -1, DiskReserve: -1, MemTableBytes: 4 << 20})
	g := newGen(8, t0)
	for range 100 {
		mustProcess(t, s, g.batch(500, 5))
	}
	if err := s.db.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := s.db.Compact(context.Background(), []byte{0}, []byte{0xff}, false); err != nil {
		t.Fatal(err)
	}
	reads, nbytes := fs.seqCounts()
	checkPerCall(t, "the compaction read tables sequentially", reads, nbytes, 16<<10)
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

// countingFS counts the writes to the table and blob files it creates, and the reads of the tables it
// opens for sequential reads, below the store's buffering.
type countingFS struct {
	vfs.FS
	mu                  sync.Mutex
	writes, nbytes      int
	seqReads, seqNbytes int
}

func (fs *countingFS) Open(name string, opts ...vfs.OpenOption) (vfs.File, error) {
	f, err := fs.FS.Open(name, opts...)
	if f != nil && isTableFile(fs.PathBase(name)) && slices.Contains(opts, vfs.SequentialReadsOption) {
		f = &countedFile{File: f, fs: fs}
	}
	return f, err
}

func (fs *countingFS) seqCounts() (reads, nbytes int) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	return fs.seqReads, fs.seqNbytes
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

func (f *countedFile) ReadAt(p []byte, off int64) (int, error) {
	n, err := f.File.ReadAt(p, off)
	f.fs.mu.Lock()
	f.fs.seqReads++
	f.fs.seqNbytes += n
	f.fs.mu.Unlock()
	return n, err
}

func (f *countedFile) Write(p []byte) (int, error) {
	f.fs.mu.Lock()
	f.fs.writes++
	f.fs.nbytes += len(p)
	f.fs.mu.Unlock()
	return f.File.Write(p)
}
