package otelattr

import (
	"strconv"
	"strings"
	"unicode"

	"github.com/hotpath-apm/hotpath/collector"
)

// Kind is the type of an attribute value (pcommon's value types that the mapping reads).
type Kind uint8

// The kinds of Value. None is every type the mapping ignores (maps, bytes, empty values).
const (
	None Kind = iota
	Str
	Bool
	Int
	Double
	Slice
)

// Value is one attribute value.
type Value struct {
	Kind   Kind
	Str    string
	Bool   bool
	Int    int64
	Double float64
	Slice  []Value // elements of a Slice, in order
}

// Attr is one attribute: a key and its value.
type Attr struct {
	Key string
	Value
}

// Builder receives what the mapping produces besides the Event's own fields: labels, and the
// structures an Event points to. SetLabel and SetNumericLabel replace a label of the same key.
type Builder interface {
	SetLabel(collector.Label)
	SetNumericLabel(collector.NumericLabel)
	NewHTTP() *collector.HTTP
	NewMessage() *collector.Message
	NewDB() *collector.DB
	NewDestinationService() *collector.DestinationService
}

// KeywordLength is the length, in characters, to which apm-data truncates keyword values.
const KeywordLength = 1024

// Truncate cuts s to KeywordLength characters.
func Truncate(s string) string {
	j := 0
	for i := range s {
		if j == KeywordLength {
			return s[:i]
		}
		j++
	}
	return s
}

// ReplaceDots returns s with every '.' replaced by '_', as label keys are written.
func ReplaceDots(s string) string {
	if strings.IndexByte(s, '.') < 0 {
		return s
	}
	return strings.ReplaceAll(s, ".", "_")
}

// SetLabel is apm-data's setLabel: the value becomes a label (strings, booleans as strings, arrays of
// them) or a numeric label (numbers, arrays of them). An array takes the type of its first element
// and keeps only the elements of that type. Other values are dropped.
func SetLabel(b Builder, key string, v *Value) {
	switch v.Kind {
	case Str:
		b.SetLabel(collector.Label{Key: key, Value: Truncate(v.Str)})
	case Bool:
		b.SetLabel(collector.Label{Key: key, Value: strconv.FormatBool(v.Bool), Bool: true})
	case Int:
		b.SetNumericLabel(collector.NumericLabel{Key: key, Value: float64(v.Int)})
	case Double:
		b.SetNumericLabel(collector.NumericLabel{Key: key, Value: v.Double})
	case Slice:
		if len(v.Slice) == 0 {
			return
		}
		first := v.Slice[0].Kind
		var strs []string
		var nums []float64
		for i := range v.Slice {
			e := &v.Slice[i]
			if e.Kind != first {
				continue
			}
			switch e.Kind {
			case Str:
				strs = append(strs, Truncate(e.Str))
			case Bool:
				strs = append(strs, strconv.FormatBool(e.Bool))
			case Int:
				nums = append(nums, float64(e.Int))
			case Double:
				nums = append(nums, e.Double)
			}
		}
		switch first {
		case Str, Bool:
			b.SetLabel(collector.Label{Key: key, Values: strs, Bool: first == Bool})
		case Int, Double:
			b.SetNumericLabel(collector.NumericLabel{Key: key, Values: nums})
		}
	}
}

const (
	disallowedDatasetRunes   = "-\\/*?\"<>| ,#:"
	disallowedNamespaceRunes = "\\/*?\"<>| ,#:"
)

// SanitizeDataset makes v a valid data stream dataset, as apm-data does (lower case, reserved
// characters replaced by '_', at most 100 bytes).
func SanitizeDataset(v string) string { return sanitizeDataStream(v, disallowedDatasetRunes) }

// SanitizeNamespace makes v a valid data stream namespace, as apm-data does.
func SanitizeNamespace(v string) string { return sanitizeDataStream(v, disallowedNamespaceRunes) }

func sanitizeDataStream(v, disallowed string) string {
	v = strings.Map(func(r rune) rune {
		if strings.ContainsRune(disallowed, r) {
			return '_'
		}
		return unicode.ToLower(r)
	}, v)
	if len(v) > 100 {
		v = v[:100]
	}
	return v
}

// IsDoubleAttribute reports whether the attribute key's numbers are doubles even when written as
// integers (the intake's JSON has no integer type).
func IsDoubleAttribute(k string) bool {
	return k == "aws.dynamodb.provisioned_read_capacity" || k == "aws.dynamodb.provisioned_write_capacity"
}

func setNetwork(n *collector.Network, key, v string) bool {
	switch key {
	case "network.connection.type":
		n.ConnectionType = v
	case "network.connection.subtype":
		n.ConnectionSubtype = v
	case "network.carrier.mcc":
		n.CarrierMCC = v
	case "network.carrier.mnc":
		n.CarrierMNC = v
	case "network.carrier.name":
		n.CarrierName = v
	case "network.carrier.icc":
		n.CarrierICC = v
	default:
		return false
	}
	return true
}

// jaegerSampler gathers the sampler.type and sampler.param attributes of a span from a Jaeger agent,
// which set the representative count rather than labels.
type jaegerSampler struct {
	on         bool // the agent is Jaeger's
	typ, param Value
	typSet     bool
}

func newJaegerSampler(ev *collector.Event) jaegerSampler {
	return jaegerSampler{on: strings.HasPrefix(ev.Agent.Name, "Jaeger")}
}

// take keeps a, and reports true, if it is one of the sampler's attributes.
func (j *jaegerSampler) take(a *Attr) bool {
	if !j.on {
		return false
	}
	switch a.Key {
	case "sampler.type":
		j.typ, j.typSet = a.Value, true
	case "sampler.param":
		j.param = a.Value
	default:
		return false
	}
	return true
}

// apply applies the sampler, once the rest of the event is mapped.
func (j *jaegerSampler) apply(ev *collector.Event, b Builder) {
	if j.typSet {
		samplerAttributes(ev, &j.typ, &j.param, b)
	}
}

// SetDataStream sets the data stream field key names (data_stream.dataset or data_stream.namespace)
// to v, sanitized as apm-data does, and reports whether key was one of them.
func SetDataStream(ds *collector.DataStream, key, v string) bool {
	switch key {
	case "data_stream.dataset":
		ds.Dataset = SanitizeDataset(v)
	case "data_stream.namespace":
		ds.Namespace = SanitizeNamespace(v)
	default:
		return false
	}
	return true
}

// samplerAttributes is apm-data's parseSamplerAttributes, for Jaeger's sampler.type/sampler.param.
func samplerAttributes(ev *collector.Event, typ, param *Value, b Builder) {
	t := ""
	if typ.Kind == Str {
		t = typ.Str
	}
	if t == "probabilistic" {
		p := 0.0
		if param.Kind == Double {
			p = param.Double
		}
		if p > 0 && p <= 1 {
			if ev.Span != nil {
				ev.Span.RepresentativeCount = 1 / p
			}
			if ev.Transaction != nil {
				ev.Transaction.RepresentativeCount = 1 / p
			}
		}
		return
	}
	if ev.Span != nil {
		ev.Span.RepresentativeCount = 0
	}
	if ev.Transaction != nil {
		ev.Transaction.RepresentativeCount = 0
	}
	b.SetLabel(collector.Label{Key: "sampler_type", Value: t})
	switch param.Kind {
	case Bool:
		b.SetLabel(collector.Label{Key: "sampler_param", Value: strconv.FormatBool(param.Bool), Bool: true})
	case Double:
		b.SetNumericLabel(collector.NumericLabel{Key: "sampler_param", Value: param.Double})
	}
}

var grpcCodes = [...]string{"OK", "Canceled", "Unknown", "InvalidArgument", "DeadlineExceeded", "NotFound",
	"AlreadyExists", "PermissionDenied", "ResourceExhausted", "FailedPrecondition", "Aborted", "OutOfRange",
	"Unimplemented", "Internal", "Unavailable", "DataLoss", "Unauthenticated"}

// grpcCodeString is google.golang.org/grpc/codes.Code.String.
func grpcCodeString(c uint32) string {
	if int(c) < len(grpcCodes) {
		return grpcCodes[c]
	}
	return "Code(" + strconv.FormatInt(int64(c), 10) + ")"
}

// HTTPStatusCodeResult is the transaction result of an HTTP status code ("HTTP 2xx").
func HTTPStatusCodeResult(code int64) string {
	switch code / 100 {
	case 1, 2, 3, 4, 5:
		return "HTTP " + strconv.FormatInt(code/100, 10) + "xx"
	}
	return "HTTP " + strconv.FormatInt(code, 10)
}

func schemeDefaultPort(scheme string) int {
	switch scheme {
	case "http":
		return 80
	case "https":
		return 443
	}
	return 0
}
