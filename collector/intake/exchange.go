package intake

import (
	"net/http"
	"strconv"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// exchange is what a handler tells the route wrapper about the request it answered, for the metrics
// and the log line.
type exchange struct {
	status   int
	reason   string // why the request was refused (a reason* constant), or ""
	message  string // the error answered, or ""
	accepted int    // events acknowledged (intake only)
	events   bool   // the request was an intake stream (accepted is meaningful)
}

// reply writes a response (see writeResult) and records its status.
func (x *exchange) reply(w http.ResponseWriter, r *http.Request, status int, body any) {
	x.status = status
	writeResult(w, r, status, body)
}

// fail writes APM Server's {"error": msg} with status, and records why.
func (x *exchange) fail(w http.ResponseWriter, r *http.Request, status int, reason, msg string) {
	x.status, x.reason, x.message = status, reason, msg
	writeError(w, r, status, msg)
}

// handlerFunc is a handler that reports through an exchange.
type handlerFunc func(w http.ResponseWriter, r *http.Request, x *exchange)

// route wraps h with what APM Server's middleware does around every handler: panic recovery (500),
// request metrics, and one log line. Successful requests are logged at debug level, refusals at info
// (4xx: the client's problem) or error (5xx). The Authorization header is never logged.
func (a *API) route(endpoint string, h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		x := exchange{}
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				a.log.Error("panic handling request", zap.String("url.path", r.URL.Path), zap.Any("panic", p), zap.Stack("stack"))
				x.status, x.reason, x.message = http.StatusInternalServerError, reasonInternal, "panic handling request"
				func() {
					defer func() { _ = recover() }() // the response may already be half written
					writeError(w, r, x.status, x.message)
				}()
			}
			a.record(endpoint, r, &x, start)
		}()
		h(w, r, &x)
	})
}

// record counts and logs one answered request.
func (a *API) record(endpoint string, r *http.Request, x *exchange, start time.Time) {
	took := time.Since(start)
	if x.status == 0 {
		x.status = http.StatusOK
	}
	a.metrics.requests.WithLabelValues(endpoint, strconv.Itoa(x.status)).Inc()
	a.metrics.duration.WithLabelValues(endpoint).Observe(took.Seconds())
	if x.reason != "" {
		a.metrics.reject(x.reason)
	}
	level := zapcore.DebugLevel
	switch {
	case x.status >= 500:
		level = zapcore.ErrorLevel
	case x.status >= 400:
		level = zapcore.InfoLevel
	}
	ce := a.log.Check(level, "handled request")
	if ce == nil {
		return
	}
	fields := []zap.Field{
		zap.String("http.request.method", r.Method),
		zap.String("url.path", r.URL.Path),
		zap.String("source.address", r.RemoteAddr),
		zap.String("user_agent.original", r.UserAgent()),
		zap.Int("http.response.status_code", x.status),
		zap.Duration("event.duration", took),
	}
	if x.events {
		fields = append(fields, zap.Int("accepted", x.accepted))
	}
	if x.message != "" {
		fields = append(fields, zap.String("error.message", x.message))
	}
	ce.Write(fields...)
}
