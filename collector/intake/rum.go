package intake

import (
	"net/http"
)

// msgRUMDisabled is APM Server's 403 message for the RUM endpoints when RUM is off (its default).
const msgRUMDisabled = "forbidden request: RUM endpoint is disabled. " +
	"Configure the `apm-server.rum` section in apm-server.yml to enable ingestion of RUM events. " +
	"If you are not using the RUM agent, you can safely ignore this error."

// serveRUMDisabled answers the RUM endpoints (/intake/v2/rum/events, /intake/v3/rum/events,
// /config/v1/rum/agents) as APM Server does with RUM disabled: its middleware chain still runs, so a
// CORS preflight (OPTIONS) gets 200 with the CORS headers (every origin is allowed by default), a request
// that fails authentication gets 401, and every other request gets 403. hotpath does not ingest RUM.
func (a *API) serveRUMDisabled(w http.ResponseWriter, r *http.Request, x *exchange) {
	origin := r.Header.Get("Origin")
	if r.Method == http.MethodOptions {
		h := w.Header()
		h.Set("Access-Control-Allow-Origin", origin)
		h.Set("Access-Control-Max-Age", "3600")
		h.Set("Vary", "Origin")
		h.Set("Access-Control-Allow-Methods", "POST, OPTIONS")
		h.Set("Access-Control-Allow-Headers", "Content-Type, Content-Encoding, Accept")
		h.Set("Access-Control-Expose-Headers", "Etag")
		h.Set("Content-Length", "0")
		x.reply(w, r, http.StatusOK, nil)
		return
	}
	w.Header().Set("Access-Control-Allow-Origin", origin)
	if _, err := a.auth.authenticate(r.Header.Get("Authorization")); err != nil {
		x.fail(w, r, http.StatusUnauthorized, reasonUnauthorized, err.Error())
		return
	}
	x.fail(w, r, http.StatusForbidden, reasonForbidden, msgRUMDisabled)
}
