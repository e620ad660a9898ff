package otelattr

import (
	"net"
	"net/netip"
	"strconv"
	"strings"

	"github.com/hotpath-apm/hotpath/collector"
)

// Transaction maps the attributes of a span that becomes a transaction (apm-data's
// TranslateTransaction). ev.Transaction and ev.Span must be set; ev.Event.Outcome holds the outcome
// of the span's status ("unknown" when it has none) and statusResult the result of that status
// ("Success", "Error" or ""). Host.Hostname and Agent.Name must already be set from the resource or
// metadata.
func Transaction(ev *collector.Event, attrs []Attr, statusResult string, b Builder) {
	tx := ev.Transaction
	sampler := newJaegerSampler(ev)
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
	)
	for i := range attrs {
		a := &attrs[i]
		if sampler.take(a) {
			continue
		}
		k := ReplaceDots(a.Key)
		switch a.Kind {
		case Slice:
			if a.Key == "elastic.profiler_stack_trace_ids" {
				for _, e := range a.Slice {
					if e.Kind == Str {
						tx.ProfilerStackTraces = append(tx.ProfilerStackTraces, e.Str)
					}
				}
				continue
			}
			SetLabel(b, k, &a.Value)
		case Int:
			switch a.Key {
			case "http.status_code", "http.response.status_code":
				isHTTP = true
				statusCode, httpSet = a.Int, true
				http.Response.StatusCode = int32(uint32(a.Int))
			case "net.peer.port", "client.port":
				ev.Source.Port = uint16(a.Int)
				sourceTouched = true
			case "net.host.port", "server.port":
				netHostPort = a.Int
			case "rpc.grpc.status_code":
				isRPC = true
				tx.Result = grpcCodeString(uint32(a.Int))
			default:
				SetLabel(b, k, &a.Value)
			}
		case Str:
			v := Truncate(a.Str)
			switch a.Key {
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
				if a.Key == "http.protocol" {
					if !strings.HasPrefix(v, "HTTP/") {
						b.SetLabel(collector.Label{Key: k, Value: v})
						continue
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
			case "messaging.destination", "messaging.destination.name", "message_bus.destination":
				isMessaging = true
				queueName = v
			case "messaging.system", "messaging.operation", "messaging.operation.type", "messaging.operation.name":
				isMessaging = true
				b.SetLabel(collector.Label{Key: k, Value: v})
			case "rpc.system", "rpc.grpc.status_code":
				isRPC = true
			case "rpc.service", "rpc.method":
			case "type":
				tx.Type = v
			case "session.id":
				ev.Session.ID = v
			case "service.version":
				ev.Service.Version = v
			default:
				if !SetDataStream(&ev.DataStream, a.Key, v) && !setNetwork(&ev.Network, a.Key, v) {
					b.SetLabel(collector.Label{Key: k, Value: v})
				}
			}
		default:
			SetLabel(b, k, &a.Value)
		}
	}

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
			h := b.NewHTTP()
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
				tx.Result = HTTPStatusCodeResult(statusCode)
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
		ev.URL = ParseURL(u, host, httpScheme)
	}
	if isMessaging {
		tx.Message = nil
		if queueName != "" {
			m := b.NewMessage()
			m.QueueName = queueName
			tx.Message = m
		}
	}
	if ev.Client == (collector.Client{}) && (sourceTouched || ev.Source != (collector.Source{})) {
		ev.Client = collector.Client{IP: ev.Source.IP, Port: ev.Source.Port, Domain: ev.Source.Domain}
	}
	sampler.apply(ev, b)
	if tx.Result == "" {
		tx.Result = statusResult
	}
	if ev.Event.Outcome == "unknown" {
		ev.Event.Outcome = "success"
		if tx.Result == "" {
			tx.Result = "Success"
		}
	}
}
