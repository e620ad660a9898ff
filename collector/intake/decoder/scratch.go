package decoder

import (
	"time"

	"github.com/hotpath-apm/hotpath/collector"
)

// evScratch holds what an event's fields contribute to more than one output field, or in an order
// that the line does not fix, until finish applies them in apm-data's order. It is reset per event.
type evScratch struct {
	ts          time.Time
	tsSet       bool
	start       float64
	startSet    bool
	duration    float64
	durationSet bool
	outcome     string
	outcomeSet  bool
	sampled     bool
	sampledSet  bool
	sampleRate  float64
	rateSet     bool

	// coldUsed says that Decoder.cold holds this event's context (see Decoder.coldW).
	coldUsed bool

	// otel: the attributes object's text, decoded when the rest of the event is known.
	otelAttrs   []byte
	spanKind    string
	spanKindSet bool
	otelSet     bool

	links []collector.SpanLink // a region of the links slab

	// spans
	typ, subtype, action          string
	typSet, subtypeSet, actionSet bool

	// errors
	txID      string
	txIDSet   bool
	txRefSet  bool
	txSampled bool
	txSampSet bool
	txName    string
	txNameSet bool
	txType    string
	txTypeSet bool

	// metricsets
	msTxSet, msSpanSet bool
}

func (e *evScratch) reset() { *e = evScratch{} }

// evCold is the part of an event's scratch state that only events with a context (or a metricset
// service) use. It is large, so it is cleared when an event first writes to it rather than for every
// event.
type evCold struct {
	svc         serviceOverride
	user        collector.User
	userSet     bool
	request     requestContext
	page        pageContext
	response    collector.HTTPResponse
	responseSet bool
	statusSet   bool // context.response.status_code (transactions)
	message     collector.Message
	messageSet  bool
	cloudOrigin collector.CloudOrigin
	cloudSet    bool

	// spans
	spanHTTP        spanHTTP
	destResource    string
	destResourceSet bool
	destAddress     string
	destAddressSet  bool
	destPort        int64
	destPortSet     bool
	destSvc         *collector.DestinationService

	// metricsets
	msService        collector.NameVersion
	msServiceNameSet bool
}

// coldW returns the event's cold state for writing, clearing it on first use.
func (d *Decoder) coldW() *evCold {
	if !d.ev.coldUsed {
		d.cold = evCold{}
		d.ev.coldUsed = true
	}
	return &d.cold
}

// coldR returns the event's cold state for reading: all zero if the event wrote none.
func (d *Decoder) coldR() *evCold {
	if d.ev.coldUsed {
		return &d.cold
	}
	return &d.zeroCold
}
