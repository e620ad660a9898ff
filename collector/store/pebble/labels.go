package pebble

import (
	"strconv"

	"github.com/hotpath-apm/hotpath/collector"
)

// Bounds of the labels kept in a TransactionSummary: the transaction's own labels (not the agent's
// global labels, which every event of the service repeats), the first maxSummaryLabels in the order
// the agent sent them, values cut at maxSummaryLabelValue bytes (a cut value matches no filter), array
// labels left out.
const (
	maxSummaryLabels     = 16
	maxSummaryLabelValue = 256
)

// summaryLabels returns the labels of e kept in its transaction summary, in out's array.
func summaryLabels(out []collector.SummaryLabel, e *collector.Event) []collector.SummaryLabel {
	out = out[:0]
	for _, l := range e.Labels {
		if l.Global || l.Values != nil || len(out) == maxSummaryLabels {
			continue
		}
		out = append(out, collector.SummaryLabel{Key: l.Key, Value: cutLabel(l.Value)})
	}
	for _, l := range e.NumericLabels {
		if l.Global || l.Values != nil || len(out) == maxSummaryLabels {
			continue
		}
		out = append(out, collector.SummaryLabel{Key: l.Key, Value: strconv.FormatFloat(l.Value, 'f', -1, 64)})
	}
	return out
}

func cutLabel(v string) string {
	if len(v) > maxSummaryLabelValue {
		return v[:maxSummaryLabelValue]
	}
	return v
}

// appendSummaryLabels writes each label as a length-delimited field of the summary, holding the key and
// the value as two strings.
func appendSummaryLabels(b []byte, key uint64, ls []collector.SummaryLabel) []byte {
	for _, l := range ls {
		b = appendKey(b, key)
		m := len(b)
		b = append(b, 0)
		b = appendString(b, 1<<3|2, l.Key)
		b = appendString(b, 2<<3|2, l.Value)
		b = finishMessage(b, m)
	}
	return b
}

func decodeSummaryLabel(d *decoder) (collector.SummaryLabel, error) {
	var l collector.SummaryLabel
	sub, err := d.sub()
	if err != nil {
		return l, err
	}
	for sub.more() {
		key, err := sub.key()
		if err != nil {
			return l, err
		}
		switch key {
		case 1<<3 | 2:
			l.Key, err = sub.bytes()
		case 2<<3 | 2:
			l.Value, err = sub.bytes()
		default:
			err = sub.skip(key)
		}
		if err != nil {
			return l, err
		}
	}
	return l, nil
}

// hasLabels reports whether ls holds every label of want (same key and value).
func hasLabels(ls, want []collector.SummaryLabel) bool {
	for _, w := range want {
		found := false
		for _, l := range ls {
			if l == w {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}
