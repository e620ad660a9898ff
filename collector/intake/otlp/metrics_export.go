package otlp

import (
	"context"

	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/hotpath-apm/hotpath/collector/intake"
)

// exportMetrics maps md into metricsets and stores them.
func (r *Receiver) exportMetrics(ctx context.Context, adm *intake.Admission, md pmetric.Metrics, meta *clientMetadata) (result, error) {
	var res result
	t := r.pool.Get().(*translator)
	defer r.pool.Put(t)
	var rejected int64
	t.batch, rejected = t.metrics(md, t.batch[:0])
	res.reject(rejected, "unsupported data points")
	meta.apply(t.batch)
	err := r.process(ctx, adm, &t.batch, &res)
	t.reset()
	r.countItems(signalMetrics, int64(md.DataPointCount())-rejected, res, err)
	return res, err
}
