package agent

import (
	"context"
	"fmt"

	"go.elastic.co/apm/v2"
)

// transactionKey returns the key apm keeps a transaction under in a context, or nil if apm does not keep
// it as context.WithValue would, under one key that apm.TransactionFromContext looks up.
//
// With the key, the naming context (lazyName) answers it with the transaction itself, instead of
// wrapping the context apm.ContextWithTransaction makes: one allocation fewer per request
// (context.WithValue's), and one link fewer in every lookup in the request's context. The key is of
// apm's unexported type, so it is learned, not named, without reflection: a probe context records the
// keys apm.TransactionFromContext asks it for. The key is used only if apm, with whatever packages have
// replaced its Override* functions at init (apmot does; some apmotel versions add an OpenTelemetry span
// to ContextWithTransaction's context), is seen to keep the transaction as its defaults do:
//
//   - apm.TransactionFromContext asks the context for one key, and returns the transaction a context
//     answers that key with;
//   - apm.ContextWithTransaction(parent, tx) answers that key with tx, and it is described (the String
//     method of the context package's contexts) as context.WithValue(parent, key, tx) is: one value
//     stored over the parent, nothing else.
//
// Otherwise (nil), the naming context wraps apm.ContextWithTransaction's context, as before, at the cost
// of that allocation. TestTransactionKey fails if this apm no longer gives the key away.
func transactionKey() (key any) {
	defer func() {
		if recover() != nil { // an uncomparable key (context.WithValue panics), an override's panic
			key = nil
		}
	}()
	tx := new(apm.Transaction) // a sentinel, never started: only its address is compared
	p := &keyProbe{Context: context.Background()}
	if apm.TransactionFromContext(p) != nil || len(p.asked) != 1 {
		return nil
	}
	key = p.asked[0]
	if apm.TransactionFromContext(&keyAnswer{Context: context.Background(), key: key, tx: tx}) != tx {
		return nil
	}
	set := apm.ContextWithTransaction(p, tx)
	if set.Value(key) != tx || describe(set) == "" || describe(set) != describe(context.WithValue(p, key, tx)) {
		return nil
	}
	return key
}

// describe is a context's String, or "" if it has none.
func describe(ctx context.Context) string {
	if s, ok := ctx.(fmt.Stringer); ok {
		return s.String()
	}
	return ""
}

// keyProbe is a context holding no value that records the keys it is asked for.
type keyProbe struct {
	context.Context
	asked []any
}

func (p *keyProbe) Value(key any) any {
	p.asked = append(p.asked, key)
	return nil
}

func (p *keyProbe) String() string { return "agent.keyProbe" }

// keyAnswer is a context answering key with tx, and nothing else.
type keyAnswer struct {
	context.Context
	key any
	tx  *apm.Transaction
}

func (a *keyAnswer) Value(key any) any {
	if key == a.key {
		return a.tx
	}
	return nil
}
