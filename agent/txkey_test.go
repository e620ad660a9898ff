package agent

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"go.elastic.co/apm/v2"
	"go.elastic.co/apm/v2/apmtest"
)

// TestTransactionKey: with the apm this module requires, the naming context holds the transaction
// itself (transactionKey learns apm's key), and apm finds the transaction in it and in the contexts a
// handler derives from it. If this fails, apm changed how it keeps a transaction in a context: Wrap
// still works (the fallback, tested in every mode by the tests using WithoutTransactionKey), but costs
// an allocation more per request.
func TestTransactionKey(t *testing.T) {
	key := transactionKey()
	if key == nil {
		t.Fatal("transactionKey found no key in this apm: the naming context falls back to apm.ContextWithTransaction's")
	}
	tx := new(apm.Transaction)
	if got := apm.ContextWithTransaction(context.Background(), tx).Value(key); got != tx {
		t.Errorf("apm.ContextWithTransaction's context answers the key with %v, want the transaction", got)
	}
	c := &lazyName{Context: context.Background(), tx: tx, txKey: key, r: &http.Request{}, names: &patternNames{}}
	derived := context.WithValue(c, otherKey{}, 1)
	for name, ctx := range map[string]context.Context{"naming": c, "derived": derived, "detached": apm.DetachedContext(derived)} {
		if got := apm.TransactionFromContext(ctx); got != tx {
			t.Errorf("%s context: apm.TransactionFromContext = %p, want %p", name, got, tx)
		}
		if apm.SpanFromContext(ctx) != nil || apm.BodyCapturerFromContext(ctx) != nil {
			t.Errorf("%s context: holds a span or a body capturer", name)
		}
	}
	if wd := Wrap(http.NewServeMux()).(*handler); wd.txKey != key {
		t.Errorf("Wrap's key %v, want %v", wd.txKey, key)
	}
	// The context a listener's Request holds.
	lc := &txContext{Context: context.Background(), key: key, tx: tx}
	if got := apm.TransactionFromContext(context.WithValue(lc, otherKey{}, 1)); got != tx {
		t.Errorf("a listener's context: apm.TransactionFromContext = %p, want %p", got, tx)
	}
}

// otherKey is a context key of a package that replaces apm's context functions.
type otherKey struct{}

// TestTransactionKeyOverridden: a package that replaces apm's Override* functions at init (apmot, some
// apmotel versions) makes transactionKey give up unless apm is still seen to keep the transaction as one
// value under one key, which then is the key learned, whatever its type; and Wrap then still gives the
// handler what apm.ContextWithTransaction would (the other package's value too).
func TestTransactionKeyOverridden(t *testing.T) {
	set, get := apm.OverrideContextWithTransaction, apm.OverrideTransactionFromContext
	t.Cleanup(func() { apm.OverrideContextWithTransaction, apm.OverrideTransactionFromContext = set, get })
	for _, tc := range []struct {
		name    string
		set     func(context.Context, *apm.Transaction) context.Context
		get     func(context.Context) *apm.Transaction
		learned any // nil: no key
	}{
		{"the defaults", set, get, transactionKey()},
		{"a value added to the transaction's (an OpenTelemetry span)", func(ctx context.Context, tx *apm.Transaction) context.Context {
			return context.WithValue(set(ctx, tx), otherKey{}, "span")
		}, get, nil},
		{"a value added under the transaction's", func(ctx context.Context, tx *apm.Transaction) context.Context {
			return set(context.WithValue(ctx, otherKey{}, "span"), tx)
		}, get, nil},
		{"kept under another key", func(ctx context.Context, tx *apm.Transaction) context.Context {
			return context.WithValue(ctx, otherKey{}, tx)
		}, func(ctx context.Context) *apm.Transaction {
			tx, _ := ctx.Value(otherKey{}).(*apm.Transaction)
			return tx
		}, otherKey{}},
		{"read from two keys", set, func(ctx context.Context) *apm.Transaction {
			if tx, ok := ctx.Value(otherKey{}).(*apm.Transaction); ok {
				return tx
			}
			return get(ctx)
		}, nil},
		{"kept in a context of its own", func(ctx context.Context, tx *apm.Transaction) context.Context {
			return &keyAnswer{Context: ctx, key: otherKey{}, tx: tx}
		}, func(ctx context.Context) *apm.Transaction {
			tx, _ := ctx.Value(otherKey{}).(*apm.Transaction)
			return tx
		}, nil},
		{"an uncomparable key", func(ctx context.Context, tx *apm.Transaction) context.Context {
			return &keyAnswer{Context: ctx, key: []int{1}, tx: tx}
		}, func(ctx context.Context) *apm.Transaction {
			tx, _ := ctx.Value([]int{1}).(*apm.Transaction)
			return tx
		}, nil},
		{"a panic", func(context.Context, *apm.Transaction) context.Context { panic("override") }, get, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			apm.OverrideContextWithTransaction, apm.OverrideTransactionFromContext = tc.set, tc.get
			defer func() { apm.OverrideContextWithTransaction, apm.OverrideTransactionFromContext = set, get }()
			if got := transactionKey(); got != tc.learned {
				t.Fatalf("transactionKey() = %#v, want %#v", got, tc.learned)
			}
			if tc.name == "a panic" || tc.name == "an uncomparable key" {
				return // these overrides would fail in the handler too
			}
			tracer := apmtest.NewRecordingTracer()
			defer tracer.Close()
			mux := http.NewServeMux()
			var found bool
			var other any
			mux.HandleFunc("GET /items/{id}", func(w http.ResponseWriter, r *http.Request) {
				found = apm.TransactionFromContext(r.Context()) != nil
				other = r.Context().Value(otherKey{})
			})
			Wrap(mux, WithTracer(tracer.Tracer)).ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/items/1", nil))
			want := tc.set(context.Background(), new(apm.Transaction)).Value(otherKey{})
			if _, isTx := want.(*apm.Transaction); isTx {
				want = "tx"
				if _, ok := other.(*apm.Transaction); ok {
					other = "tx"
				}
			}
			if !found || other != want {
				t.Errorf("the handler found the transaction: %v, the other package's value %v, want %v", found, other, want)
			}
		})
	}
}
