package collector

import (
	"net/netip"
	"time"
)

// Kind says which of the five event types an Event is; exactly one of the matching pointer fields of
// Event (Transaction, Span, Error, Metricset, or none for a log) is set.
type Kind uint8

// The event kinds of intake v2.
const (
	KindUnknown Kind = iota
	KindTransaction
	KindSpan
	KindError
	KindMetricset
	KindLog
)

var kindNames = [...]string{"unknown", "transaction", "span", "error", "metricset", "log"}

// String returns the intake v2 name of the kind ("transaction", "span", ...).
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "unknown"
}

// Optional is a value that may be absent, for the fields where absence and the zero value mean different
// things (a span count of 0 versus none sent). It is a value type, so optional fields cost no allocation.
type Optional[T any] struct {
	V     T
	Valid bool
}

// Some returns a present Optional holding v.
func Some[T any](v T) Optional[T] { return Optional[T]{V: v, Valid: true} }

// RawJSON is one JSON value (object, array, string, number, bool or null) kept as its text. The decoder
// validates it, so consumers may copy it into JSON output as it is. It is used where the intake schema
// allows any value: custom context, request bodies, stack-frame vars, exception attributes.
type RawJSON string

// KeyValue is a key with an arbitrary JSON value, in the order the agent sent them.
type KeyValue struct {
	Key   string
	Value RawJSON
}

// Header is an HTTP or message header with all of its values.
type Header struct {
	Key    string
	Values []string
}

// Event is one decoded APM event with its stream metadata merged in. Field comments name the ECS field
// Elastic APM writes the value to. Zero values mean "absent" unless the field is an Optional.
//
// Events in a Batch are values; the decoder fills them in place. Slices inside an Event may be shared
// with other events of the same batch (metadata labels, say): treat them as read-only.
type Event struct {
	Kind      Kind
	Timestamp time.Time // @timestamp

	TraceID  string   // trace.id (hex)
	ParentID string   // parent.id
	ChildIDs []string // child.id
	Message  string   // message (logs; errors copy their log or exception message here)

	Event EventInfo // event.*

	Agent       Agent       // agent.*
	Service     Service     // service.*
	Host        Host        // host.*
	Process     Process     // process.*
	Container   Container   // container.*
	Kubernetes  Kubernetes  // kubernetes.*
	Cloud       Cloud       // cloud.*
	Faas        Faas        // faas.*
	Network     Network     // network.*
	User        User        // user.*
	UserAgent   UserAgent   // user_agent.*
	Client      Client      // client.*
	Source      Source      // source.*
	Destination Destination // destination.*
	Device      Device      // device.* (mobile apps, from OpenTelemetry resources)
	Session     Session     // session.*
	URL         URL         // url.*
	Observer    Observer    // observer.*
	DataStream  DataStream  // data_stream.*

	// Labels are the string and boolean labels (labels.*), NumericLabels the numeric ones
	// (numeric_labels.*). Metadata labels come first and are marked Global; an event label with the same
	// key replaces the metadata one.
	Labels        []Label
	NumericLabels []NumericLabel

	HTTP        *HTTP        // http.*
	Log         *Log         // log.* (log events)
	Transaction *Transaction // transaction.* (transactions; errors and spans carry a partial one)
	Span        *Span        // span.*
	Error       *Error       // error.*
	Metricset   *Metricset   // metricset.* (and span/transaction breakdown fields)
}

// EventInfo is the ECS event.* group.
type EventInfo struct {
	Outcome  string        // event.outcome: "success", "failure" or "unknown"
	Duration time.Duration // event.duration (transactions and spans)
	Action   string        // event.action
	Dataset  string        // event.dataset
	Kind     string        // event.kind
	Category string        // event.category
	Type     string        // event.type
	Module   string        // event.module
	Severity Optional[int64]
	// Present writes "event": {} even when nothing else is set, as APM Server does for every OTLP event
	// (its event.received, which it removes before indexing, made the object).
	Present bool
}

// Agent is the agent that sent the event.
type Agent struct {
	Name             string // agent.name
	Version          string // agent.version
	EphemeralID      string // agent.ephemeral_id
	ActivationMethod string // agent.activation_method
}

// Service is the instrumented service.
type Service struct {
	Name        string // service.name
	Version     string // service.version
	Environment string // service.environment
	NodeName    string // service.node.name
	Language    NameVersion
	Runtime     NameVersion
	Framework   NameVersion
	Origin      ServiceOrigin // service.origin.*
	Target      ServiceTarget // service.target.*
}

// NameVersion is a name and a version (service.language, service.runtime, service.framework).
type NameVersion struct {
	Name    string
	Version string
}

// ServiceOrigin is where a message or request came from (service.origin.*).
type ServiceOrigin struct {
	ID      string
	Name    string
	Version string
}

// ServiceTarget is the service a span calls (service.target.*).
type ServiceTarget struct {
	Name string
	Type string
}

// Host is the machine the service runs on.
type Host struct {
	Hostname     string       // host.hostname (detected)
	Name         string       // host.name (configured, or the detected hostname)
	ID           string       // host.id
	Architecture string       // host.architecture
	Type         string       // host.type
	IP           []netip.Addr // host.ip
	OS           OS           // host.os.*
	// Present writes "host": {} even when nothing else is set: an OTLP resource with host attributes
	// whose host name APM Server then removed (Kubernetes without a node name).
	Present bool
}

// OS is the host's operating system.
type OS struct {
	Name     string
	Version  string
	Platform string
	Full     string
	Type     string
}

// Process is the service's process.
type Process struct {
	PID         int32    // process.pid
	PPID        int32    // process.parent.pid
	Title       string   // process.title
	Argv        []string // process.args
	CommandLine string   // process.command_line
	Executable  string   // process.executable
	ThreadName  string   // process.thread.name
	ThreadID    int64    // process.thread.id
}

// Container is the container the service runs in.
type Container struct {
	ID        string
	Name      string
	Runtime   string
	ImageName string
	ImageTag  string
}

// Kubernetes is the pod the service runs in.
type Kubernetes struct {
	Namespace string
	NodeName  string
	PodName   string
	PodUID    string
}

// Cloud is the cloud the service runs in.
type Cloud struct {
	AccountID        string
	AccountName      string
	AvailabilityZone string
	InstanceID       string
	InstanceName     string
	MachineType      string
	ProjectID        string
	ProjectName      string
	Provider         string
	Region           string
	ServiceName      string
	Origin           CloudOrigin // cloud.origin.*
}

// CloudOrigin is the cloud a message or request came from.
type CloudOrigin struct {
	AccountID   string
	Provider    string
	Region      string
	ServiceName string
}

// Faas is the function-as-a-service invocation.
type Faas struct {
	ID               string
	ColdStart        Optional[bool]
	Execution        string
	TriggerType      string
	TriggerRequestID string
	Name             string
	Version          string
}

// Network is the client's network (RUM and mobile agents).
type Network struct {
	ConnectionType    string
	ConnectionSubtype string
	CarrierName       string
	CarrierMCC        string
	CarrierMNC        string
	CarrierICC        string
}

// User is the authenticated user of the request.
type User struct {
	ID     string
	Email  string
	Name   string
	Domain string
}

// UserAgent is the client's user agent.
type UserAgent struct {
	Original string
	Name     string
}

// Client is the originator of the request (client.*).
type Client struct {
	IP     netip.Addr
	Domain string
	Port   uint16
}

// Source is the network peer of the request (source.*).
type Source struct {
	IP     netip.Addr
	NATIP  netip.Addr
	Domain string
	Port   uint16
}

// Destination is the address a span connected to.
type Destination struct {
	Address string
	Port    uint16
}

// Device is the device a mobile app runs on (device.*).
type Device struct {
	ID              string // device.id
	Manufacturer    string // device.manufacturer
	ModelIdentifier string // device.model.identifier
	ModelName       string // device.model.name
}

// Session is the RUM user session.
type Session struct {
	ID       string
	Sequence int64
}

// URL is the request URL (url.*).
type URL struct {
	Original string
	Scheme   string
	Full     string
	Domain   string
	Path     string
	Query    string
	Fragment string
	Port     uint16
}

// Observer is what received the event (observer.*): set by the collector, not by agents.
type Observer struct {
	Hostname    string
	Name        string
	Type        string
	Version     string
	EphemeralID string
}

// DataStream names the Elasticsearch data stream the event belongs to.
type DataStream struct {
	Type      string // "traces", "logs", "metrics"
	Dataset   string // "apm", "apm.error", "apm.app.<service>", "apm.internal", ...
	Namespace string // "default"
}

// Label is a string or boolean label. Booleans are kept as "true"/"false" with Bool set, so that
// renderings can restore their type. Values holds an array label.
type Label struct {
	Key    string
	Value  string
	Values []string
	Bool   bool
	Global bool
}

// NumericLabel is a numeric label; Values holds an array label.
type NumericLabel struct {
	Key    string
	Value  float64
	Values []float64
	Global bool
}

// HTTP is the HTTP request and response of a transaction, span or error.
type HTTP struct {
	Version  string // http.version
	Request  HTTPRequest
	Response HTTPResponse
}

// HTTPRequest is http.request.*.
type HTTPRequest struct {
	ID       string
	Method   string
	Referrer string
	Headers  []Header
	Env      []KeyValue
	Cookies  []KeyValue
	Body     RawJSON // http.request.body.original
}

// HTTPResponse is http.response.*.
type HTTPResponse struct {
	StatusCode      int32
	Headers         []Header
	Finished        Optional[bool]
	HeadersSent     Optional[bool]
	TransferSize    Optional[int64]
	EncodedBodySize Optional[int64]
	DecodedBodySize Optional[int64]
	// Present is true when the agent sent a response object, even one in which nothing was usable
	// (only empty headers, say): APM Server then writes "http.response": {} in the document.
	Present bool
}

// Log is log.* of a log event.
type Log struct {
	Level        string
	Logger       string
	FunctionName string // log.origin.function
	FileName     string // log.origin.file.name
	FileLine     int32  // log.origin.file.line
	// Present writes "log": {} even when nothing else is set, as APM Server does for an OTLP log
	// record without severity text.
	Present bool
}

// Transaction is transaction.*. On errors and spans only ID, Name, Type and Sampled are set.
type Transaction struct {
	ID     string
	Name   string
	Type   string
	Result string
	// Sampled is false for an unsampled transaction, which carries no spans or context.
	Sampled             bool
	Root                bool
	RepresentativeCount float64 // 1 / sample rate
	SpanCount           SpanCount
	Custom              []KeyValue
	Marks               []Mark
	Experience          *UserExperience
	Message             *Message
	DroppedSpansStats   []DroppedSpanStats
	ProfilerStackTraces []string // transaction.profiler_stack_trace_ids
	// DurationSummary and DurationHistogram are set on transaction metricsets.
	DurationSummary   *SummaryMetric
	DurationHistogram *Histogram
}

// SpanCount is transaction.span_count.*.
type SpanCount struct {
	Started Optional[int32]
	Dropped Optional[int32]
}

// Mark is a group of RUM navigation-timing marks (transaction.marks.<Group>.<name>).
type Mark struct {
	Group        string
	Measurements []Measurement
}

// Measurement is one named mark value.
type Measurement struct {
	Name  string
	Value float64
}

// UserExperience is transaction.experience.* (RUM web vitals).
type UserExperience struct {
	CLS      Optional[float64]
	FID      Optional[float64]
	TBT      Optional[float64]
	LongTask *LongTask
}

// LongTask is transaction.experience.longtask.*.
type LongTask struct {
	Count int64
	Sum   float64
	Max   float64
}

// Message is a messaging-system message (transaction.message, span.message).
type Message struct {
	Body       string
	Headers    []Header
	AgeMillis  Optional[int64]
	QueueName  string
	RoutingKey string
}

// DroppedSpanStats summarises spans the agent dropped, by destination.
type DroppedSpanStats struct {
	DestinationServiceResource string
	ServiceTargetType          string
	ServiceTargetName          string
	Outcome                    string
	Count                      int64
	SumMicros                  int64
}

// Span is span.*.
type Span struct {
	ID                  string
	Name                string
	Type                string
	Subtype             string
	Action              string
	Kind                string // OpenTelemetry span kind: CLIENT, SERVER, ...
	Sync                Optional[bool]
	RepresentativeCount float64
	DB                  *DB
	Message             *Message
	Composite           *Composite
	DestinationService  *DestinationService
	Stacktrace          []StackFrame
	Links               []SpanLink
	// SelfTime is set on breakdown metricsets (span.self_time.*).
	SelfTime *AggregatedDuration
}

// DB is span.db.*.
type DB struct {
	Instance     string
	Statement    string
	Type         string
	UserName     string
	Link         string
	RowsAffected Optional[int64]
}

// Composite describes a compressed span standing for several similar ones.
type Composite struct {
	CompressionStrategy string // "exact_match" or "same_kind"
	Count               int32
	SumMillis           float64 // span.composite.sum.us is derived from it
}

// DestinationService is span.destination.service.* (deprecated by service.target, still written).
type DestinationService struct {
	Type     string
	Name     string
	Resource string
}

// SpanLink links a span to another trace's span.
type SpanLink struct {
	TraceID string
	SpanID  string
}

// AggregatedDuration is a count and a summed duration.
type AggregatedDuration struct {
	Count int64
	Sum   time.Duration
}

// Error is error.*.
type Error struct {
	ID          string
	GroupingKey string
	Culprit     string
	Custom      []KeyValue
	Exception   *Exception
	Log         *ErrorLog
	// Message and Type hold error.message / error.type for errors that come without an exception or log.
	Message string
	Type    string
	// StackTrace is error.stack_trace: the plain-text stack trace a log event carries when it records an
	// error (ECS logging's error.stack_trace).
	StackTrace string
}

// Exception is error.exception; Cause holds the chained exceptions (rendered flattened, with parent).
type Exception struct {
	Message    string
	Module     string
	Code       string // numbers are kept as their text
	Type       string
	Handled    Optional[bool]
	Attributes []KeyValue
	Stacktrace []StackFrame
	Cause      []Exception
}

// ErrorLog is error.log.
type ErrorLog struct {
	Message      string
	Level        string
	ParamMessage string
	LoggerName   string
	Stacktrace   []StackFrame
}

// StackFrame is one frame of a stack trace.
type StackFrame struct {
	AbsPath             string
	Filename            string
	Classname           string
	Function            string
	Module              string
	ContextLine         string
	PreContext          []string
	PostContext         []string
	Lineno              Optional[int32]
	Colno               Optional[int32]
	Vars                []KeyValue
	LibraryFrame        bool
	ExcludeFromGrouping bool
	SourcemapUpdated    bool
	SourcemapError      string
	Original            *OriginalFrame
}

// OriginalFrame is the frame as the agent sent it, kept when a source map rewrote it.
type OriginalFrame struct {
	AbsPath      string
	Filename     string
	Classname    string
	Function     string
	Lineno       Optional[int32]
	Colno        Optional[int32]
	LibraryFrame bool
}

// Metricset is metricset.*: a set of samples taken at one time.
type Metricset struct {
	Name     string // "app", "span_breakdown", "transaction", ...
	Interval string
	Samples  []MetricSample
	DocCount int64
}

// MetricType is the type of a metric sample.
type MetricType uint8

// The metric types of intake v2.
const (
	MetricUnspecified MetricType = iota
	MetricGauge
	MetricCounter
	MetricHistogram
	MetricSummary
)

var metricTypeNames = [...]string{"", "gauge", "counter", "histogram", "summary"}

// String returns the intake v2 name of the type ("gauge", ...), or "" when unspecified.
func (t MetricType) String() string {
	if int(t) < len(metricTypeNames) {
		return metricTypeNames[t]
	}
	return ""
}

// MetricSample is one named metric value, or a histogram or summary.
type MetricSample struct {
	Name      string
	Type      MetricType
	Unit      string
	Value     float64
	Histogram *Histogram
	Summary   *SummaryMetric
}

// Histogram is a histogram of values with their counts.
type Histogram struct {
	Values []float64
	Counts []uint64
}

// SummaryMetric is a count and a sum.
type SummaryMetric struct {
	Count int64
	Sum   float64
}

// APMType is the type APM Server derives from the event's content (apm-data's APMEvent.Type), which its
// routing to data streams, its dropping of unsampled transactions and its documents follow. It differs
// from Kind for a log event that records an error (error.type, error.message or error.stack_trace):
// APM Server treats it as an error.
func (e *Event) APMType() Kind {
	switch {
	case e.Metricset != nil:
		return KindMetricset
	case e.Error != nil:
		return KindError
	case e.Log != nil || e.Event.Kind == "event":
		return KindLog
	case e.Span != nil && e.Span.Type != "":
		return KindSpan
	case e.Transaction != nil && e.Transaction.Type != "":
		return KindTransaction
	}
	return e.Kind
}
