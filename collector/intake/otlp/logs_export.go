package otlp

import (
	"context"
	"time"

	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/hotpath-apm/hotpath/collector/intake"
)

// exportLogs maps ld into log events (and errors, for records of exceptions) and stores them.
func (r *Receiver) exportLogs(ctx context.Context, adm *intake.Admission, ld plog.Logs, meta *clientMetadata) (result, error) {
	var res result
	t := r.pool.Get().(*translator)
	defer r.pool.Put(t)
	t.batch = t.logs(ld, time.Now(), t.batch[:0])
	meta.apply(t.batch)
	err := r.process(ctx, adm, &t.batch, &res)
	t.reset()
	r.countItems(signalLogs, int64(ld.LogRecordCount()), res, err)
	return res, err
}
