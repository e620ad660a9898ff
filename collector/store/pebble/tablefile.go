package pebble

import (
	"io"
	"slices"
	"strings"
	"sync"

	"github.com/cockroachdb/pebble/v2/vfs"
)

// Pebble writes a table or blob file a block at a time through a 4 KiB bufio.Writer, which passes
// blocks of 4 KiB and more straight to the file: a write system call per block, ~4.6 KB on average
// under intake load (strace of the collector: ~1,500 a second, most of its write calls; BENCHMARKS.md,
// "On f854e02"). In a VM a system call costs microseconds, and a blocking one makes the Go scheduler
// hand its P to another thread. tableFile gathers the writes of the files flushes and compactions
// create into tableFileBuffer bytes, so that a table costs a few write calls instead of hundreds. The
// journal, the manifest and the other files are written as they are: their writes are few and each
// one counts (health.go).
//
// Compactions read their input tables block by block (~1.4 KB a read under intake load, strace) from
// files opened for sequential reads: a pread call per block. seqTable reads such a table through a
// window of seqTableWindow bytes, so that a compaction costs a read call per window.

// tableFileBuffer is the write buffer of a table or blob file being written. Pebble syncs a file being
// written every 512 KiB (Options.BytesPerSync), which flushes it too.
const tableFileBuffer = 256 << 10

// seqTableWindow is what a table opened for sequential reads (a compaction's input) reads at a time.
const seqTableWindow = 64 << 10

// tableFiles hands out the buffers of the table and blob files being written, and the windows of the
// tables being read by compactions: flushes and compactions create and read dozens of files a second
// under load, each by one goroutine.
type tableFiles struct {
	bufs    sync.Pool // *[]byte of capacity tableFileBuffer
	windows sync.Pool // *[]byte of length seqTableWindow
}

// isTableFile reports whether name is a table or blob file, whose writes tableFile gathers.
func isTableFile(name string) bool {
	return strings.HasSuffix(name, ".sst") || strings.HasSuffix(name, ".blob")
}

// wrap returns f writing through a buffer.
func (t *tableFiles) wrap(f vfs.File) vfs.File {
	return &tableFile{File: f, pool: &t.bufs}
}

// tableFile is a table or blob file being written, its writes gathered in a buffer. Every method but
// Write, Preallocate, Prefetch and Fd writes the buffer out first, so the file's size, contents and
// syncs are what they would be without it; an error of a buffered write is returned by the call that
// writes it out (Pebble abandons the file, as after any failed write).
type tableFile struct {
	vfs.File
	pool *sync.Pool

	mu  sync.Mutex // a file is written by one goroutine; Pebble may sync it from another
	buf *[]byte    // nil until the first write, and after Close
}

func (f *tableFile) Write(p []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.buf == nil {
		if b, ok := f.pool.Get().(*[]byte); ok {
			f.buf = b
		} else {
			b := make([]byte, 0, tableFileBuffer)
			f.buf = &b
		}
	}
	b := *f.buf
	if len(b)+len(p) > cap(b) {
		if err := f.flushLocked(); err != nil {
			return 0, err
		}
		if len(p) >= cap(b) {
			return f.File.Write(p)
		}
		b = *f.buf
	}
	*f.buf = append(b, p...)
	return len(p), nil
}

// flushLocked writes the buffer out. On an error the bytes not written stay buffered.
func (f *tableFile) flushLocked() error {
	if f.buf == nil || len(*f.buf) == 0 {
		return nil
	}
	b := *f.buf
	n, err := f.File.Write(b)
	*f.buf = b[:copy(b, b[n:])]
	return err
}

func (f *tableFile) flush() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.flushLocked()
}

func (f *tableFile) WriteAt(p []byte, off int64) (int, error) {
	if err := f.flush(); err != nil {
		return 0, err
	}
	return f.File.WriteAt(p, off)
}

func (f *tableFile) Read(p []byte) (int, error) {
	if err := f.flush(); err != nil {
		return 0, err
	}
	return f.File.Read(p)
}

func (f *tableFile) ReadAt(p []byte, off int64) (int, error) {
	if err := f.flush(); err != nil {
		return 0, err
	}
	return f.File.ReadAt(p, off)
}

func (f *tableFile) Stat() (vfs.FileInfo, error) {
	if err := f.flush(); err != nil {
		return nil, err
	}
	return f.File.Stat()
}

func (f *tableFile) Sync() error {
	if err := f.flush(); err != nil {
		return err
	}
	return f.File.Sync()
}

func (f *tableFile) SyncData() error {
	if err := f.flush(); err != nil {
		return err
	}
	return f.File.SyncData()
}

func (f *tableFile) SyncTo(length int64) (bool, error) {
	if err := f.flush(); err != nil {
		return false, err
	}
	return f.File.SyncTo(length)
}

// Close writes the buffer out and closes the file; the file is closed even if the write fails.
func (f *tableFile) Close() error {
	f.mu.Lock()
	err := f.flushLocked()
	if f.buf != nil {
		*f.buf = (*f.buf)[:0]
		f.pool.Put(f.buf)
		f.buf = nil
	}
	f.mu.Unlock()
	if cerr := f.File.Close(); err == nil {
		err = cerr
	}
	return err
}

// readSequential returns f, opened with opts, reading through a window if it is a table opened for
// sequential reads.
func (t *tableFiles) readSequential(f vfs.File, name string, opts []vfs.OpenOption) vfs.File {
	if f == nil || !strings.HasSuffix(name, ".sst") || !slices.Contains(opts, vfs.SequentialReadsOption) {
		return f
	}
	return &seqTable{File: f, pool: &t.windows}
}

// seqTable is a table (immutable once written) that a compaction reads from start to end. ReadAt
// serves a read from its window; a read that follows the one before it (a compaction's reads of data
// blocks) and is not in the window reads the window anew at the read's offset. Other reads (a table's
// footer and index, read before its blocks) and reads larger than half the window are passed on.
type seqTable struct {
	vfs.File
	pool *sync.Pool

	mu   sync.Mutex
	win  *[]byte // nil until the first windowed read, and after Close
	off  int64   // the file offset of the window's first byte
	n    int     // the window's bytes read
	next int64   // the offset after the last read
}

func (f *seqTable) ReadAt(p []byte, off int64) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.win != nil && off >= f.off && off+int64(len(p)) <= f.off+int64(f.n) {
		f.next = off + int64(len(p))
		return copy(p, (*f.win)[off-f.off:]), nil
	}
	if off != f.next || len(p) > seqTableWindow/2 || off < 0 {
		n, err := f.File.ReadAt(p, off)
		f.next = off + int64(n)
		return n, err
	}
	f.next = off + int64(len(p))
	if f.win == nil {
		if w, ok := f.pool.Get().(*[]byte); ok {
			f.win = w
		} else {
			w := make([]byte, seqTableWindow)
			f.win = &w
		}
	}
	n, err := f.File.ReadAt(*f.win, off)
	f.off, f.n = off, n
	if n >= len(p) {
		return copy(p, (*f.win)[:n]), nil // io.EOF: the window passed the end of the file, not the read
	}
	if err == nil {
		err = io.ErrUnexpectedEOF // ReadAt returns fewer bytes only with an error
	}
	return copy(p, (*f.win)[:n]), err
}

func (f *seqTable) Close() error {
	f.mu.Lock()
	if f.win != nil {
		f.pool.Put(f.win)
		f.win, f.n = nil, 0
	}
	f.mu.Unlock()
	return f.File.Close()
}
