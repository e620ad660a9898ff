package agent

// WithoutTransactionKey makes Wrap serve as it does when apm's context key of the transaction cannot be
// learned (transactionKey returns nil): the naming context wraps apm.ContextWithTransaction's. The tests
// run that fallback with it.
func WithoutTransactionKey() Option {
	return func(c *config) { c.noTxKey = true }
}
