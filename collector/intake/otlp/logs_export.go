package otlp

import (
	"context"
	"time"

	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/hotpath-apm/hotpath/collector"
	"github.com/hotpath-apm/hotpath/collector/intake"
)

// exportLogs maps ld into log events (and errors, for records of exceptions) and stores them.
func (r *Receiver) exportLogs(ctx context.Context, adm *intake.Admission, ld plog.Logs, meta *clientMetadata) (result, error) {
	var res result
	err := r.export(ctx, adm, meta, &res, func(t *translator, dst []collector.Event) []collector.Event {
		return t.logs(ld, time.Now(), dst)
	})
	r.countItems(signalLogs, int64(ld.LogRecordCount()), res, err)
	return res, err
}
