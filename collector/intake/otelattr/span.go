package otelattr

import (
	"net"
	"net/url"
	"strconv"
	"strings"

	"github.com/hotpath-apm/hotpath/collector"
)

// Span maps the attributes of a span that stays a span (apm-data's TranslateSpan). kind is the
// OpenTelemetry span kind ("INTERNAL", "SERVER", "CLIENT", "PRODUCER", "CONSUMER", or "" when
// unspecified). ev.Span must be set and ev.Event.Outcome hold the outcome of the span's status.
func Span(ev *collector.Event, attrs []Attr, kind string, b Builder) {
	sp := ev.Span
	sampler := newJaegerSampler(ev)
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
	)
	for i := range attrs {
		a := &attrs[i]
		if sampler.take(a) {
			continue
		}
		k := ReplaceDots(a.Key)
		switch a.Kind {
		case Bool:
			if a.Key == "messaging.temp_destination" || a.Key == "messaging.destination.temporary" {
				messageTemp = a.Bool
			}
			SetLabel(b, k, &a.Value)
		case Int:
			switch a.Key {
			case "http.status_code", "http.response.status_code":
				statusCode, httpSet, isHTTP = a.Int, true, true
				http.Response.StatusCode = int32(uint32(a.Int))
			case "net.peer.port", "server.port", "peer.port":
				netPeerPort = a.Int
			case "rpc.grpc.status_code":
				rpcSystem, isRPC = "grpc", true
			default:
				SetLabel(b, k, &a.Value)
			}
		case Str:
			v := Truncate(a.Str)
			switch a.Key {
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
				if a.Key == "sql.query" && db.Type == "" {
					db.Type = "sql"
				}
				db.Statement, isDB = a.Str, true // not truncated
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
			case "session.id":
				ev.Session.ID = v
			case "messaging.destination", "messaging.destination.name", "message_bus.destination":
				message.QueueName, isMessaging = v, true
			case "messaging.operation", "messaging.operation.type":
				messageOperation, isMessaging = v, true
			case "messaging.operation.name":
				b.SetLabel(collector.Label{Key: k, Value: v})
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
			default:
				if !SetDataStream(&ev.DataStream, a.Key, v) && !setNetwork(&ev.Network, a.Key, v) {
					b.SetLabel(collector.Label{Key: k, Value: v})
				}
			}
		default:
			SetLabel(b, k, &a.Value)
		}
	}

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
		destAddr = Truncate(fullURL.Hostname())
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
			h := b.NewHTTP()
			*h = http
			ev.HTTP = h
		}
		ev.URL.Original = httpURL
	}
	if isDB {
		x := b.NewDB()
		*x = db
		sp.DB = x
	}
	if isMessaging {
		m := b.NewMessage()
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
		x := b.NewDestinationService()
		*x = destSvc
		sp.DestinationService = x
	}
	if target != (collector.ServiceTarget{}) {
		ev.Service.Target = target
	}
	sampler.apply(ev, b)
	if ev.Event.Outcome == "unknown" {
		ev.Event.Outcome = "success"
	}
}
