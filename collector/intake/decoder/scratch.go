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

	// otel: the attributes object's text, decoded when the rest of the event is known.
	otelAttrs   []byte
	spanKind    string
	spanKindSet bool
	otelSet     bool

	links []collector.SpanLink // a region of the links slab

	// spans
	typ, subtype, action          string
	typSet, subtypeSet, actionSet bool
	spanHTTP                      spanHTTP
	destResource                  string
	destResourceSet               bool
	destAddress                   string
	destAddressSet                bool
	destPort                      int64
	destPortSet                   bool
	destSvc                       *collector.DestinationService

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
	msService          collector.NameVersion
	msServiceNameSet   bool
	msTxSet, msSpanSet bool
}

func (e *evScratch) reset() { *e = evScratch{} }
