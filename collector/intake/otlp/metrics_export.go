package otlp

import (
	"context"

	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/hotpath-apm/hotpath/collector"
	"github.com/hotpath-apm/hotpath/collector/intake"
)

// exportMetrics maps md into metricsets and stores them.
func (r *Receiver) exportMetrics(ctx context.Context, adm *intake.Admission, md pmetric.Metrics, meta *clientMetadata) (result, error) {
	var res result
	var rejected int64
	err := r.export(ctx, adm, meta, &res, func(t *translator, dst []collector.Event) []collector.Event {
		dst, rejected = t.metrics(md, dst)
		res.reject(rejected, "unsupported data points")
		return dst
	})
	r.countItems(signalMetrics, int64(md.DataPointCount())-rejected, res, err)
	return res, err
}
