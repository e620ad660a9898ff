package decoder

import (
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"unicode"

	"github.com/hotpath-apm/hotpath/collector"
)

// OpenTelemetry bridge fields (otel.attributes, otel.span_kind) are mapped the way apm-data maps them:
// through its OTLP translation (input/otlp TranslateTransaction and TranslateSpan), which turns known
// semantic-convention attributes into ECS fields and the rest into labels.

// attrKind is the pcommon value type an attribute decodes to.
type attrKind uint8

const (
	attrNone attrKind = iota
	attrStr
	attrBool
	attrInt
	attrDouble
	attrSlice
)

type attr struct {
	key  string
	kind attrKind
	str  string
	b    bool
	i    int64
	f    float64
	raw  []byte // attrSlice: the array's text
}

// readAttr reads the next attribute value, as apm-data's otelAttributeValue converts it.
func (d *Decoder) readAttr(s *scanner, a *attr) {
	a.kind = attrNone
	switch c := s.peek(); {
	case c == '"':
		a.str, _ = s.str()
		a.kind = attrStr
	case c == 't' || c == 'f':
		a.b, _ = s.bool()
		a.kind = attrBool
	case isNumberStart(c):
		text, _ := s.looseNumber()
		if s.err != nil {
			return
		}
		if !isOTelDoubleAttribute(a.key) {
			if v, err := strconv.ParseInt(bytesToString(text), 10, 64); err == nil {
				a.i, a.kind = v, attrInt
				return
			}
		}
		if v, err := strconv.ParseFloat(bytesToString(text), 64); err == nil {
			a.f, a.kind = v, attrDouble
		}
	case c == '[':
		start := s.pos
		s.skip()
		a.raw, a.kind = s.buf[start:s.pos:s.pos], attrSlice
	default:
		s.skip() // objects and null are dropped
	}
}

func isOTelDoubleAttribute(k string) bool {
	return k == "aws.dynamodb.provisioned_read_capacity" || k == "aws.dynamodb.provisioned_write_capacity"
}

// attrKey is the key of an attribute.
func attrKey(a *attr) string { return a.key }

// eachAttr calls fn for every attribute, in the order the agent sent them; a repeated key counts once,
// with its last value, as in the map apm-data decodes the attributes into.
func (d *Decoder) eachAttr(fn func(a *attr)) {
	s := scanner{arena: &d.arena}
	s.reset(d.ev.otelAttrs)
	if !s.beginObject() {
		return
	}
	attrs := d.attrTmp[:0]
	d.attrIdx.reset()
	var key []byte
	for first := true; s.nextKey(&first, &key); {
		a := attr{key: d.arena.str(key)}
		d.readAttr(&s, &a)
		if s.err != nil {
			break
		}
		if i := find(&d.attrIdx, attrs, a.key, attrKey); i >= 0 {
			attrs[i] = a
		} else {
			attrs = append(attrs, a)
		}
	}
	d.attrTmp = attrs
	for i := range attrs {
		if attrs[i].kind != attrNone {
			fn(&attrs[i])
		}
	}
}

// sliceElems decodes the elements of an attribute array (nested arrays and other values ignored).
func (d *Decoder) sliceElems(raw []byte, key string, fn func(a *attr)) {
	s := scanner{arena: &d.arena}
	s.reset(raw)
	if !s.beginArray() {
		return
	}
	var a attr
	for first := true; s.nextElem(&first); {
		a = attr{key: key}
		d.readAttr(&s, &a)
		if s.err != nil {
			return
		}
		if a.kind != attrNone {
			fn(&a)
		}
	}
}

// truncateKeyword cuts s to 1024 characters.
func truncateKeyword(s string) string {
	j := 0
	for i := range s {
		if j == 1024 {
			return s[:i]
		}
		j++
	}
	return s
}

func replaceDots(s string) string {
	if strings.IndexByte(s, '.') < 0 {
		return s
	}
	return strings.ReplaceAll(s, ".", "_")
}

// setAttrLabel is apm-data's setLabel: the attribute becomes a label or numeric label.
func (d *Decoder) setAttrLabel(key string, a *attr) {
	ls := &d.pool.ls
	switch a.kind {
	case attrStr:
		ls.set(collector.Label{Key: key, Value: truncateKeyword(a.str)})
	case attrBool:
		ls.set(collector.Label{Key: key, Value: strconv.FormatBool(a.b), Bool: true})
	case attrInt:
		ls.setNumeric(collector.NumericLabel{Key: key, Value: float64(a.i)})
	case attrDouble:
		ls.setNumeric(collector.NumericLabel{Key: key, Value: a.f})
	case attrSlice:
		first := attrNone
		var strs []string
		var nums []float64
		d.sliceElems(a.raw, a.key, func(e *attr) {
			if first == attrNone {
				first = e.kind
			}
			if e.kind != first {
				return
			}
			switch e.kind {
			case attrStr:
				strs = append(strs, truncateKeyword(e.str))
			case attrBool:
				strs = append(strs, strconv.FormatBool(e.b))
			case attrInt:
				nums = append(nums, float64(e.i))
			case attrDouble:
				nums = append(nums, e.f)
			}
		})
		switch first {
		case attrStr, attrBool:
			ls.set(collector.Label{Key: key, Values: strs, Bool: first == attrBool})
		case attrInt, attrDouble:
			ls.setNumeric(collector.NumericLabel{Key: key, Values: nums})
		}
	}
}

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

const (
	disallowedDatasetRunes   = "-\\/*?\"<>| ,#:"
	disallowedNamespaceRunes = "\\/*?\"<>| ,#:"
)

// otelTransaction maps a transaction's OpenTelemetry fields (apm-data's mapOTelAttributesTransaction).
func (d *Decoder) otelTransaction(ev *collector.Event) {
	e := &d.ev
	tx := ev.Transaction
	if e.spanKindSet {
		ev.Span.Kind = e.spanKind
	}
	isJaeger := strings.HasPrefix(ev.Agent.Name, "Jaeger")
	var (
		netHostName                               string
		netHostPort                               int64
		httpScheme, httpURL, httpServerName, host string
		urlPath, urlQuery                         string
		http                                      collector.HTTP
		httpSet                                   bool
		statusCode                                int64
		isHTTP, isRPC, isMessaging                bool
		queueName                                 string
		sourceTouched                             bool
		samplerType, samplerParam                 attr
		samplerTypeSet                            bool
	)
	d.eachAttr(func(a *attr) {
		if isJaeger {
			switch a.key {
			case "sampler.type":
				samplerType, samplerTypeSet = *a, true
				return
			case "sampler.param":
				samplerParam = *a
				return
			}
		}
		k := replaceDots(a.key)
		switch a.kind {
		case attrSlice:
			if a.key == "elastic.profiler_stack_trace_ids" {
				d.sliceElems(a.raw, a.key, func(e *attr) {
					if e.kind == attrStr {
						tx.ProfilerStackTraces = append(tx.ProfilerStackTraces, e.str)
					}
				})
				return
			}
			d.setAttrLabel(k, a)
		case attrInt:
			switch a.key {
			case "http.status_code", "http.response.status_code":
				isHTTP = true
				statusCode, httpSet = a.i, true
				http.Response.StatusCode = int32(uint32(a.i))
			case "net.peer.port", "client.port":
				ev.Source.Port = uint16(a.i)
				sourceTouched = true
			case "net.host.port", "server.port":
				netHostPort = a.i
			case "rpc.grpc.status_code":
				isRPC = true
				tx.Result = grpcCodeString(uint32(a.i))
			default:
				d.setAttrLabel(k, a)
			}
		case attrStr:
			v := truncateKeyword(a.str)
			switch a.key {
			case "http.method", "http.request.method":
				isHTTP = true
				http.Request.Method, httpSet = v, true
			case "http.url", "url.full", "http.target", "http.path":
				isHTTP = true
				httpURL = v
			case "url.path":
				isHTTP = true
				urlPath = v
			case "url.query":
				isHTTP = true
				urlQuery = v
			case "http.host":
				isHTTP = true
				host = v
			case "http.scheme", "url.scheme":
				isHTTP = true
				httpScheme = v
			case "http.status_code", "http.response.status_code":
				if n, err := strconv.Atoi(v); err == nil {
					isHTTP = true
					statusCode, httpSet = int64(n), true
					http.Response.StatusCode = int32(uint32(n))
				}
			case "http.protocol", "http.flavor":
				if a.key == "http.protocol" {
					if !strings.HasPrefix(v, "HTTP/") {
						d.pool.ls.set(collector.Label{Key: k, Value: v})
						return
					}
					v = strings.TrimPrefix(v, "HTTP/")
				}
				isHTTP = true
				http.Version, httpSet = v, true
			case "http.server_name":
				isHTTP = true
				httpServerName = v
			case "http.client_ip":
				if ip, err := netip.ParseAddr(v); err == nil {
					ev.Client.IP = ip.WithZone("")
				}
			case "http.user_agent", "user_agent.original":
				ev.UserAgent.Original = v
			case "net.peer.ip", "net.sock.peer.addr":
				sourceTouched = true
				if ip, err := netip.ParseAddr(v); err == nil {
					ev.Source.IP = ip.WithZone("")
				}
			case "net.peer.name", "client.address":
				sourceTouched = true
				ev.Source.Domain = v
			case "net.host.name", "server.address":
				netHostName = v
			case "network.connection.type", "network.connection.subtype", "network.carrier.mcc",
				"network.carrier.mnc", "network.carrier.name", "network.carrier.icc":
				setNetwork(&ev.Network, a.key, v)
			case "messaging.destination", "messaging.destination.name", "message_bus.destination":
				isMessaging = true
				queueName = v
			case "messaging.system", "messaging.operation", "messaging.operation.type", "messaging.operation.name":
				isMessaging = true
				d.pool.ls.set(collector.Label{Key: k, Value: v})
			case "rpc.system", "rpc.grpc.status_code":
				isRPC = true
			case "rpc.service", "rpc.method":
			case "type":
				tx.Type = v
			case "session.id":
				ev.Session.ID = v
			case "service.version":
				ev.Service.Version = v
			case "data_stream.dataset":
				ev.DataStream.Dataset = sanitizeDataStream(v, disallowedDatasetRunes)
			case "data_stream.namespace":
				ev.DataStream.Namespace = sanitizeDataStream(v, disallowedNamespaceRunes)
			default:
				d.pool.ls.set(collector.Label{Key: k, Value: v})
			}
		default:
			d.setAttrLabel(k, a)
		}
	})

	if tx.Type == "" {
		switch {
		case isMessaging:
			tx.Type = "messaging"
		case isHTTP, isRPC:
			tx.Type = "request"
		default:
			tx.Type = "unknown"
		}
	}
	if isHTTP {
		if httpSet {
			h := d.pool.http.one()
			*h = http
			ev.HTTP = h
		}
		if statusCode > 0 {
			if ev.Event.Outcome == "unknown" {
				ev.Event.Outcome = "success"
				if statusCode >= 500 {
					ev.Event.Outcome = "failure"
				}
			}
			if tx.Result == "" {
				tx.Result = httpStatusCodeResult(statusCode)
			}
		}
		if host == "" {
			host = httpServerName
			if host == "" {
				host = netHostName
				if host == "" {
					host = ev.Host.Hostname
				}
			}
			if host != "" && netHostPort > 0 {
				host = net.JoinHostPort(host, strconv.FormatInt(netHostPort, 10))
			}
		}
		u := httpURL
		if u == "" && urlPath != "" {
			u = urlPath
			if urlQuery != "" {
				u += "?" + urlQuery
			}
		}
		ev.URL = parseURL(u, host, httpScheme)
	}
	if isMessaging {
		tx.Message = nil
		if queueName != "" {
			m := d.pool.msg.one()
			m.QueueName = queueName
			tx.Message = m
		}
	}
	if ev.Client == (collector.Client{}) && (sourceTouched || ev.Source != (collector.Source{})) {
		ev.Client = collector.Client{IP: ev.Source.IP, Port: ev.Source.Port, Domain: ev.Source.Domain}
	}
	if samplerTypeSet {
		d.samplerAttributes(ev, &samplerType, &samplerParam)
	}
	if ev.Event.Outcome == "unknown" {
		ev.Event.Outcome = "success"
		if tx.Result == "" {
			tx.Result = "Success"
		}
	}
	if ev.Span.Kind == "" {
		switch tx.Type {
		case "messaging":
			ev.Span.Kind = "CONSUMER"
		case "request":
			ev.Span.Kind = "SERVER"
		default:
			ev.Span.Kind = "INTERNAL"
		}
	}
}

func setNetwork(n *collector.Network, key, v string) {
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
	}
}

// samplerAttributes is apm-data's parseSamplerAttributes, for Jaeger's sampler.type/sampler.param.
func (d *Decoder) samplerAttributes(ev *collector.Event, typ, param *attr) {
	t := ""
	if typ.kind == attrStr {
		t = typ.str
	}
	if t == "probabilistic" {
		p := 0.0
		if param.kind == attrDouble {
			p = param.f
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
	d.pool.ls.set(collector.Label{Key: "sampler_type", Value: t})
	switch param.kind {
	case attrBool:
		d.pool.ls.set(collector.Label{Key: "sampler_param", Value: strconv.FormatBool(param.b), Bool: true})
	case attrDouble:
		d.pool.ls.setNumeric(collector.NumericLabel{Key: "sampler_param", Value: param.f})
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

func httpStatusCodeResult(code int64) string {
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

// otelSpan maps a span's OpenTelemetry fields (apm-data's mapOTelAttributesSpan).
func (d *Decoder) otelSpan(ev *collector.Event) {
	e := &d.ev
	sp := ev.Span
	kind := "" // "" is ptrace.SpanKindUnspecified
	if e.spanKindSet {
		switch e.spanKind {
		case "INTERNAL", "SERVER", "CLIENT", "PRODUCER", "CONSUMER":
			kind = e.spanKind
		}
		sp.Kind = e.spanKind
	}
	isJaeger := strings.HasPrefix(ev.Agent.Name, "Jaeger")
	var (
		netPeerName, netPeerIP, peerService, peerAddress string
		netPeerPort                                      int64
		httpURL, httpHost, httpTarget, urlPath, urlQuery string
		httpScheme                                       = "http"
		messageSystem, messageOperation                  string
		messageTemp                                      bool
		rpcSystem, rpcService, genAISystem               string
		http                                             collector.HTTP
		httpSet                                          bool
		statusCode                                       int64
		message                                          collector.Message
		db                                               collector.DB
		destSvc                                          collector.DestinationService
		target                                           collector.ServiceTarget
		isHTTP, isDB, isRPC, isMessaging, isGenAI        bool
		samplerType, samplerParam                        attr
		samplerTypeSet                                   bool
	)
	d.eachAttr(func(a *attr) {
		if isJaeger {
			switch a.key {
			case "sampler.type":
				samplerType, samplerTypeSet = *a, true
				return
			case "sampler.param":
				samplerParam = *a
				return
			}
		}
		k := replaceDots(a.key)
		switch a.kind {
		case attrBool:
			if a.key == "messaging.temp_destination" || a.key == "messaging.destination.temporary" {
				messageTemp = a.b
			}
			d.setAttrLabel(k, a)
		case attrInt:
			switch a.key {
			case "http.status_code", "http.response.status_code":
				statusCode, httpSet, isHTTP = a.i, true, true
				http.Response.StatusCode = int32(uint32(a.i))
			case "net.peer.port", "server.port", "peer.port":
				netPeerPort = a.i
			case "rpc.grpc.status_code":
				rpcSystem, isRPC = "grpc", true
			default:
				d.setAttrLabel(k, a)
			}
		case attrStr:
			v := truncateKeyword(a.str)
			switch a.key {
			case "http.host":
				httpHost, isHTTP = v, true
			case "http.scheme", "url.scheme":
				httpScheme, isHTTP = v, true
			case "http.target":
				httpTarget, isHTTP = v, true
			case "url.path":
				urlPath, isHTTP = v, true
			case "url.query":
				urlQuery, isHTTP = v, true
			case "http.url", "url.full":
				httpURL, isHTTP = v, true
			case "http.method", "http.request.method":
				http.Request.Method, httpSet, isHTTP = v, true, true
			case "sql.query", "db.statement", "db.query.text":
				if a.key == "sql.query" && db.Type == "" {
					db.Type = "sql"
				}
				db.Statement, isDB = a.str, true // not truncated
			case "db.name", "db.namespace", "db.instance", "db.elasticsearch.cluster.name":
				db.Instance, isDB = v, true
			case "db.system", "db.type":
				db.Type, isDB = v, true
			case "db.user":
				db.UserName, isDB = v, true
			case "net.peer.name", "peer.hostname", "server.address":
				netPeerName = v
			case "net.peer.ip", "net.sock.peer.addr", "network.peer.address", "peer.ipv4", "peer.ipv6":
				netPeerIP = v
			case "peer.address":
				peerAddress = v
			case "network.connection.type", "network.connection.subtype", "network.carrier.mcc",
				"network.carrier.mnc", "network.carrier.name", "network.carrier.icc":
				setNetwork(&ev.Network, a.key, v)
			case "session.id":
				ev.Session.ID = v
			case "messaging.destination", "messaging.destination.name", "message_bus.destination":
				message.QueueName, isMessaging = v, true
			case "messaging.operation", "messaging.operation.type":
				messageOperation, isMessaging = v, true
			case "messaging.operation.name":
				d.pool.ls.set(collector.Label{Key: k, Value: v})
				isMessaging = true
			case "messaging.system":
				messageSystem, isMessaging = v, true
			case "rpc.system":
				rpcSystem, isRPC = v, true
			case "rpc.service":
				rpcService, isRPC = v, true
			case "rpc.grpc.status_code":
				rpcSystem, isRPC = "grpc", true
			case "rpc.method", "span.kind":
			case "code.stacktrace":
				// code.stacktrace has no field in hotpath's model; apm-data keeps it as code.stacktrace.
			case "gen_ai.system":
				genAISystem, isGenAI = v, true
			case "peer.service":
				peerService = v
			case "data_stream.dataset":
				ev.DataStream.Dataset = sanitizeDataStream(v, disallowedDatasetRunes)
			case "data_stream.namespace":
				ev.DataStream.Namespace = sanitizeDataStream(v, disallowedNamespaceRunes)
			default:
				d.setAttrLabel(k, a)
			}
		default:
			d.setAttrLabel(k, a)
		}
	})

	if netPeerName == "" && (!strings.Contains(peerAddress, ":") || net.ParseIP(peerAddress) != nil) {
		netPeerName = peerAddress
	}
	destPort := netPeerPort
	destAddr := netPeerName
	if destAddr == "" {
		destAddr = netPeerIP
	}
	var fullURL *url.URL
	if httpURL != "" {
		fullURL, _ = url.Parse(httpURL)
	} else if httpTarget != "" || urlPath != "" {
		if httpTarget == "" {
			httpTarget = urlPath
			if urlQuery != "" {
				httpTarget += "?" + urlQuery
			}
		}
		if u, err := url.Parse(httpTarget); err == nil {
			fullURL = u
			fullURL.Scheme = httpScheme
			if httpHost == "" {
				httpHost = destAddr
				if destPort > 0 {
					httpHost = net.JoinHostPort(httpHost, strconv.FormatInt(destPort, 10))
				}
			}
			fullURL.Host = httpHost
			httpURL = fullURL.String()
		}
	}
	if fullURL != nil {
		var port int
		if p := fullURL.Port(); p != "" {
			port, _ = strconv.Atoi(p)
		} else {
			port = schemeDefaultPort(fullURL.Scheme)
		}
		destAddr = truncateKeyword(fullURL.Hostname())
		if port > 0 {
			destPort = int64(port)
		}
	}
	target.Name = peerService
	destSvc.Name = peerService
	destSvc.Resource = peerService
	if peerAddress != "" {
		destSvc.Resource = peerAddress
	}
	if isHTTP {
		if statusCode > 0 && ev.Event.Outcome == "unknown" {
			ev.Event.Outcome = "success"
			if statusCode >= 400 {
				ev.Event.Outcome = "failure"
			}
		}
		if httpSet {
			h := d.pool.http.one()
			*h = http
			ev.HTTP = h
		}
		ev.URL.Original = httpURL
	}
	if isDB {
		x := d.pool.db.one()
		*x = db
		sp.DB = x
	}
	if isMessaging {
		m := d.pool.msg.one()
		*m = message
		sp.Message = m
	}
	switch {
	case isDB:
		sp.Type, sp.Subtype = "db", db.Type
		target.Type = sp.Type
		if sp.Subtype != "" {
			target.Type = sp.Subtype
			if destSvc.Name == "" {
				destSvc.Name, destSvc.Resource = sp.Subtype, sp.Subtype
			}
		}
		if db.Instance != "" {
			target.Name = db.Instance
		}
	case isMessaging:
		sp.Type, sp.Subtype = "messaging", messageSystem
		if messageOperation == "" && kind == "PRODUCER" {
			messageOperation = "send"
		}
		sp.Action = messageOperation
		target.Type = sp.Type
		if sp.Subtype != "" {
			target.Type = sp.Subtype
			if destSvc.Name == "" {
				destSvc.Name, destSvc.Resource = sp.Subtype, sp.Subtype
			}
		}
		if destSvc.Resource != "" && message.QueueName != "" {
			destSvc.Resource += "/" + message.QueueName
		}
		if message.QueueName != "" && !messageTemp {
			target.Name = message.QueueName
		}
	case isRPC:
		sp.Type, sp.Subtype = "external", rpcSystem
		target.Type = sp.Type
		if sp.Subtype != "" {
			target.Type = sp.Subtype
		}
		if destSvc.Name == "" {
			hp := net.JoinHostPort(destAddr, strconv.FormatInt(destPort, 10))
			destSvc.Name, destSvc.Resource = hp, hp
		}
		if rpcService != "" {
			target.Name = rpcService
		}
	case isHTTP:
		sp.Type, sp.Subtype = "external", "http"
		target.Type = sp.Subtype
		if fullURL != nil {
			u := url.URL{Scheme: fullURL.Scheme, Host: fullURL.Host}
			resource := u.Host
			if destPort == int64(schemeDefaultPort(u.Scheme)) {
				if fullURL.Port() != "" {
					u.Host = destAddr
				} else {
					resource = resource + ":" + strconv.FormatInt(destPort, 10)
				}
			}
			target.Name = resource
			if destSvc.Name == "" {
				destSvc.Name, destSvc.Resource = u.String(), resource
			}
		}
	case isGenAI:
		sp.Type, sp.Subtype = "genai", genAISystem
		target.Type = sp.Type
	default:
		if sp.Type == "" {
			if kind == "INTERNAL" {
				sp.Type, sp.Subtype = "app", "internal"
			} else {
				sp.Type = "unknown"
			}
		}
	}
	if destAddr != "" {
		ev.Destination = collector.Destination{Address: destAddr, Port: uint16(destPort)}
	}
	if destSvc != (collector.DestinationService{}) {
		if destSvc.Type == "" {
			destSvc.Type = sp.Type
		}
		x := d.pool.destsvc.one()
		*x = destSvc
		sp.DestinationService = x
	}
	if target != (collector.ServiceTarget{}) {
		ev.Service.Target = target
	}
	if samplerTypeSet {
		d.samplerAttributes(ev, &samplerType, &samplerParam)
	}
	if ev.Event.Outcome == "unknown" {
		ev.Event.Outcome = "success"
	}
	if kind == "" {
		switch sp.Type {
		case "db", "external", "storage":
			sp.Kind = "CLIENT"
		default:
			sp.Kind = "INTERNAL"
		}
	}
}

// parseURL is apm-data's modelpb.ParseURL: url.* from a URL, with defaults for host and scheme.
func parseURL(original, defaultHost, defaultScheme string) collector.URL {
	original = truncateKeyword(original)
	u, err := url.Parse(original)
	if err != nil {
		return collector.URL{Original: original}
	}
	if u.Scheme == "" {
		u.Scheme = defaultScheme
		if u.Scheme == "" {
			u.Scheme = "http"
		}
	}
	if u.Host == "" {
		u.Host = defaultHost
	}
	out := collector.URL{
		Original: original,
		Scheme:   u.Scheme,
		Full:     truncateKeyword(u.String()),
		Domain:   truncateKeyword(u.Hostname()),
		Path:     truncateKeyword(u.Path),
		Query:    truncateKeyword(u.RawQuery),
		Fragment: u.Fragment,
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err == nil {
			out.Port = uint16(n)
		}
	}
	return out
}
