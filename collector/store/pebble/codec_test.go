package pebble

import (
	"bytes"
	"math/rand/v2"
	"net/netip"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/hotpath-apm/hotpath/collector"
	"github.com/hotpath-apm/hotpath/collector/store/pebble/internal/codecgen"
)

// TestCodecGeneratedIsCurrent fails when collector.Event (or a type it holds) changed since codec_gen.go
// was generated: a new field would otherwise be silently dropped by the store.
func TestCodecGeneratedIsCurrent(t *testing.T) {
	lock, err := os.ReadFile("codec.lock")
	if err != nil {
		t.Fatal(err)
	}
	shared, byValue := codecgen.EventShared()
	code, newLock, err := codecgen.Generate(reflect.TypeFor[collector.Event](), "pebble", lock, shared, byValue)
	if err != nil {
		t.Fatalf("the codec cannot be generated for the current model: %v", err)
	}
	onDisk, err := os.ReadFile("codec_gen.go")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(code, onDisk) || !bytes.Equal(newLock, lock) {
		t.Fatal("codec_gen.go or codec.lock is out of date with collector.Event: run `go generate ./collector/store/pebble`")
	}
}

// filler sets fields of a value to random values. With full set, every field of every struct is set to
// a non-zero value (every pointer allocated, every slice non-empty, every Optional present); otherwise
// each field is set with probability p, which gives the sparse events real traffic looks like.
type filler struct {
	r    *rand.Rand
	full bool
	p    float64
}

var (
	timeT = reflect.TypeFor[time.Time]()
	addrT = reflect.TypeFor[netip.Addr]()
)

func (f *filler) set() bool { return f.full || f.r.Float64() < f.p }

func (f *filler) str() string {
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789 é日本-_/{}\"\\\x00\xff"
	n := 1 + f.r.IntN(40)
	if f.r.IntN(20) == 0 {
		n = 100 + f.r.IntN(400) // long enough for multi-byte length varints
	}
	var b strings.Builder
	for range n {
		b.WriteByte(alphabet[f.r.IntN(len(alphabet))])
	}
	return b.String()
}

func (f *filler) fill(v reflect.Value, depth int) {
	t := v.Type()
	switch {
	case t == timeT:
		// The whole int64 range of seconds (far outside UnixNano's), in UTC as the codec returns them.
		sec := f.r.Int64N(1<<40) - 1<<39
		if f.r.IntN(2) == 0 {
			sec = 1_700_000_000 + f.r.Int64N(1e8)
		}
		v.Set(reflect.ValueOf(time.Unix(sec, f.r.Int64N(1e9)).UTC()))
		return
	case t == addrT:
		var a netip.Addr
		switch f.r.IntN(3) {
		case 0:
			a = netip.AddrFrom4([4]byte{byte(1 + f.r.IntN(254)), byte(f.r.Int()), byte(f.r.Int()), byte(f.r.Int())})
		case 1:
			var b [16]byte
			for i := range b {
				b[i] = byte(f.r.Int())
			}
			b[0] = 0x20
			a = netip.AddrFrom16(b)
		default:
			a = netip.MustParseAddr("fe80::1").WithZone("eth" + f.str())
		}
		v.Set(reflect.ValueOf(a))
		return
	}
	switch t.Kind() {
	case reflect.Struct:
		if strings.HasPrefix(t.Name(), "Optional[") {
			v.Field(1).SetBool(true)
			f.fill(v.Field(0), depth)
			return
		}
		for i := range t.NumField() {
			if f.set() {
				f.fill(v.Field(i), depth)
			}
		}
	case reflect.Pointer:
		if depth > 4 {
			return
		}
		p := reflect.New(t.Elem())
		f.fill(p.Elem(), depth+1)
		v.Set(p)
	case reflect.Slice:
		if depth > 4 {
			return
		}
		n := 1 + f.r.IntN(3)
		s := reflect.MakeSlice(t, n, n)
		for i := range n {
			f.fill(s.Index(i), depth+1)
		}
		v.Set(s)
	case reflect.String:
		v.SetString(f.str())
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		x := f.r.Int64()
		if f.r.IntN(2) == 0 {
			x = -x
		}
		v.SetInt(x)
		if v.Int() == 0 {
			v.SetInt(-1)
		}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(f.r.Uint64())
		if v.Uint() == 0 {
			v.SetUint(1)
		}
	case reflect.Float64:
		x := f.r.NormFloat64() * 1e6
		if f.r.IntN(10) == 0 {
			x = -0.0001
		}
		v.SetFloat(x)
	default:
		panic("filler: no rule for " + t.String())
	}
}

// zeroLeaves lists the paths of fields of v that are still zero: the filler's own completeness check.
func zeroLeaves(v reflect.Value, path string, out *[]string) {
	t := v.Type()
	if t == timeT || t == addrT {
		if v.IsZero() {
			*out = append(*out, path)
		}
		return
	}
	switch t.Kind() {
	case reflect.Struct:
		for i := range t.NumField() {
			zeroLeaves(v.Field(i), path+"."+t.Field(i).Name, out)
		}
	case reflect.Pointer:
		if v.IsNil() {
			*out = append(*out, path)
			return
		}
		zeroLeaves(v.Elem(), path, out)
	case reflect.Slice:
		if v.Len() == 0 {
			*out = append(*out, path)
			return
		}
		zeroLeaves(v.Index(0), path+"[0]", out)
	default:
		if v.IsZero() {
			*out = append(*out, path)
		}
	}
}

func roundTrip(t *testing.T, in *collector.Event) {
	t.Helper()
	b := appendEvent(nil, in)
	var out collector.Event
	if err := decodeEvent(b, &out); err != nil {
		t.Fatalf("decode: %v", err)
	}
	if !reflect.DeepEqual(*in, out) {
		t.Fatalf("round trip changed the event:\n in: %+v\nout: %+v", *in, out)
	}
}

// TestCodecRoundTripFullyPopulated sets every field reachable from Event (the filler fails on a type it
// has no rule for, and zeroLeaves proves nothing was left unset), so a field the codec does not carry
// makes this test fail.
func TestCodecRoundTripFullyPopulated(t *testing.T) {
	for seed := range uint64(100) {
		f := &filler{r: rand.New(rand.NewPCG(seed, 1)), full: true}
		var e collector.Event
		f.fill(reflect.ValueOf(&e).Elem(), 0)
		// Exception.Cause is recursive: the filler stops at depth 4, so only check the top levels.
		var zero []string
		zeroLeaves(reflect.ValueOf(e), "Event", &zero)
		for _, z := range zero {
			if !strings.Contains(z, "Cause[0].Cause[0]") && !strings.Contains(z, "Stacktrace[0].Original") {
				t.Fatalf("filler left %s zero", z)
			}
		}
		roundTrip(t, &e)
	}
}

func TestCodecRoundTripSparse(t *testing.T) {
	for seed := range uint64(1000) {
		f := &filler{r: rand.New(rand.NewPCG(seed, 2)), p: 0.15}
		var e collector.Event
		f.fill(reflect.ValueOf(&e).Elem(), 0)
		roundTrip(t, &e)
	}
}

func TestCodecEdgeValues(t *testing.T) {
	cases := map[string]collector.Event{
		"zero":                     {},
		"optional zero values":     {Event: collector.EventInfo{Severity: collector.Some(int64(0))}, Faas: collector.Faas{ColdStart: collector.Some(false)}},
		"empty pointer":            {HTTP: &collector.HTTP{}, Span: &collector.Span{DB: &collector.DB{}}},
		"empty strings in a slice": {ChildIDs: []string{"", "a", ""}, Process: collector.Process{Argv: []string{""}}},
		"zero address in a slice":  {Host: collector.Host{IP: []netip.Addr{{}, netip.MustParseAddr("::1")}}},
		"epoch and before":         {Timestamp: time.Unix(-1, 5).UTC()},
		"negative zero":            {Transaction: &collector.Transaction{RepresentativeCount: negZero()}},
		"long string":              {Message: strings.Repeat("x", 300<<10)},
	}
	for name, e := range cases {
		t.Run(name, func(t *testing.T) { roundTrip(t, &e) })
	}
}

func negZero() float64 {
	z := 0.0
	return -z
}

func TestCodecSkipsUnknownFields(t *testing.T) {
	// A field written by a newer build (number 1000 in Event, each wire type) is skipped.
	e := collector.Event{Kind: collector.KindSpan, TraceID: "abc"}
	b := appendEvent(nil, &e)
	b = appendUint(b, 1000<<3, 7) // wire type 0: varint
	b = appendFloat(b, 1001<<3|1, 1.5)
	b = appendString(b, 1002<<3|2, "future")
	var out collector.Event
	if err := decodeEvent(b, &out); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(e, out) {
		t.Fatalf("got %+v", out)
	}
}

func TestCodecRejectsBadInput(t *testing.T) {
	good := appendEvent(nil, &collector.Event{TraceID: "0123456789abcdef", Message: "hello"})
	cases := map[string][]byte{
		"empty":         {},
		"version":       {99},
		"truncated":     good[:len(good)-2],
		"bad wire type": append([]byte{codecVersion}, 7<<3|5, 0),
		"overflow":      append([]byte{codecVersion}, 8, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f),
	}
	deep := []byte{codecVersion}
	for range 100 { // Error{Exception{Cause{Cause{...}}}}
		deep = append(deep, 0xfa, 0x01) // not decodable as nested: check the depth limit separately
	}
	cases["garbage"] = deep
	for name, b := range cases {
		t.Run(name, func(t *testing.T) {
			var out collector.Event
			if err := decodeEvent(b, &out); err == nil {
				t.Fatalf("decoded %x without error", b)
			}
		})
	}
	t.Run("nesting limit", func(t *testing.T) {
		ex := collector.Exception{Message: "leaf"}
		for range maxDepth + 2 {
			ex = collector.Exception{Cause: []collector.Exception{ex}}
		}
		b := appendEvent(nil, &collector.Event{Error: &collector.Error{Exception: &ex}})
		var out collector.Event
		if err := decodeEvent(b, &out); err == nil || !strings.Contains(err.Error(), "deeper") {
			t.Fatalf("want nesting error, got %v", err)
		}
	})
}

// FuzzDecodeEvent: no stored value may make the decoder panic or loop; whatever decodes must encode
// and decode again to the same event.
func FuzzDecodeEvent(f *testing.F) {
	for seed := range uint64(20) {
		fl := &filler{r: rand.New(rand.NewPCG(seed, 3)), p: 0.3, full: seed%5 == 0}
		var e collector.Event
		fl.fill(reflect.ValueOf(&e).Elem(), 0)
		f.Add(appendEvent(nil, &e))
	}
	f.Add([]byte{codecVersion})
	f.Fuzz(func(t *testing.T, b []byte) {
		var e collector.Event
		if err := decodeEvent(b, &e); err != nil {
			return
		}
		again := appendEvent(nil, &e)
		var e2 collector.Event
		if err := decodeEvent(again, &e2); err != nil {
			t.Fatalf("re-decode: %v", err)
		}
		// Compare encodings rather than values: NaN != NaN, but their bits are equal.
		if third := appendEvent(nil, &e2); !bytes.Equal(again, third) {
			t.Fatalf("not stable:\n%x\n%x", again, third)
		}
	})
}

// FuzzDecodeIndexValues: the other stored values a reader decodes (transaction and error summaries,
// escaped strings in keys, partition metas) never panic on bad bytes.
func FuzzDecodeIndexValues(f *testing.F) {
	g := newGen(30, t0)
	for _, e := range g.batch(40, 1) {
		switch {
		case e.Kind == collector.KindTransaction:
			s := txSummaryOf(&e, nil)
			f.Add(appendTxSummary(nil, &s))
		case e.Kind == collector.KindError:
			s := errSummaryOf(&e)
			f.Add(appendErrSummary(nil, &s))
		}
	}
	f.Add(appendEscaped(appendEscaped(nil, "a\x00b"), ""))
	p := partition{P: 7, FirstSeq: 1, LastSeq: 9, Events: 9}
	f.Add(p.marshal(nil))
	f.Fuzz(func(t *testing.T, b []byte) {
		var ts collector.TransactionSummary
		_ = decodeTxSummary(b, &ts)
		var es collector.ErrorSummary
		_ = decodeErrSummary(b, &es)
		var lt collector.LabelledTransaction
		_ = decodeLabelled(string(b), "n", "k", &lt)
		s, rest, ok := readEscaped(b)
		if ok {
			if again := appendEscaped(nil, s); !bytes.HasPrefix(b, again[:len(again)-2]) || len(rest) > len(b) {
				t.Fatalf("readEscaped(%q) = %q, %q", b, s, rest)
			}
		}
		if rest2, ok2 := skipEscaped(b); ok2 != ok || !bytes.Equal(rest2, rest) {
			t.Fatalf("skipEscaped(%q) = %q, %v; readEscaped's rest %q, %v", b, rest2, ok2, rest, ok)
		}
		var p partition
		_ = p.unmarshal(b)
	})
}
