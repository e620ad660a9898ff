package elasticsearch

import (
	"net/netip"

	"github.com/hotpath-apm/hotpath/collector"
)

// The groups of an event that describe where it came from: the stream metadata and the request
// context. Each writer writes its group only when at least one member is set.

func writeAgent(w *jsonWriter, a *collector.Agent) {
	m := w.open("agent")
	w.str("activation_method", a.ActivationMethod)
	w.str("ephemeral_id", a.EphemeralID)
	w.str("name", a.Name)
	w.str("version", a.Version)
	w.close(m)
}

func writeClient(w *jsonWriter, c *collector.Client) {
	m := w.open("client")
	w.str("domain", c.Domain)
	w.ip("ip", c.IP)
	w.int("port", int64(c.Port))
	w.close(m)
}

func writeCloud(w *jsonWriter, c *collector.Cloud) {
	m := w.open("cloud")
	n := w.open("account")
	w.str("id", c.AccountID)
	w.str("name", c.AccountName)
	w.close(n)
	w.str("availability_zone", c.AvailabilityZone)
	n = w.open("instance")
	w.str("id", c.InstanceID)
	w.str("name", c.InstanceName)
	w.close(n)
	n = w.open("machine")
	w.str("type", c.MachineType)
	w.close(n)
	n = w.open("origin")
	o := w.open("account")
	w.str("id", c.Origin.AccountID)
	w.close(o)
	w.str("provider", c.Origin.Provider)
	w.str("region", c.Origin.Region)
	o = w.open("service")
	w.str("name", c.Origin.ServiceName)
	w.close(o)
	w.close(n)
	n = w.open("project")
	w.str("id", c.ProjectID)
	w.str("name", c.ProjectName)
	w.close(n)
	w.str("provider", c.Provider)
	w.str("region", c.Region)
	n = w.open("service")
	w.str("name", c.ServiceName)
	w.close(n)
	w.close(m)
}

func writeContainer(w *jsonWriter, c *collector.Container) {
	m := w.open("container")
	w.str("id", c.ID)
	n := w.open("image")
	w.str("name", c.ImageName)
	w.str("tag", c.ImageTag)
	w.close(n)
	w.str("name", c.Name)
	w.str("runtime", c.Runtime)
	w.close(m)
}

func writeDestination(w *jsonWriter, d *collector.Destination) {
	m := w.open("destination")
	w.str("address", d.Address)
	if d.Address != "" {
		// destination.ip too when the address is an IP (modeljson does this, not a pipeline).
		if _, err := netip.ParseAddr(d.Address); err == nil {
			w.str("ip", d.Address)
		}
	}
	w.int("port", int64(d.Port))
	w.close(m)
}

func writeDevice(w *jsonWriter, d *collector.Device) {
	m := w.open("device")
	w.str("id", d.ID)
	w.str("manufacturer", d.Manufacturer)
	n := w.open("model")
	w.str("identifier", d.ModelIdentifier)
	w.str("name", d.ModelName)
	w.close(n)
	w.close(m)
}

func writeFaas(w *jsonWriter, f *collector.Faas) {
	m := w.open("faas")
	w.optBool("coldstart", f.ColdStart)
	w.str("execution", f.Execution)
	w.str("id", f.ID)
	w.str("name", f.Name)
	n := w.open("trigger")
	w.str("request_id", f.TriggerRequestID)
	w.str("type", f.TriggerType)
	w.close(n)
	w.str("version", f.Version)
	w.close(m)
}

func writeHost(w *jsonWriter, h *collector.Host) {
	m := w.openKeep("host", h.Present)
	w.str("architecture", h.Architecture)
	w.str("hostname", h.Hostname)
	w.str("id", h.ID)
	if len(h.IP) > 0 {
		w.beginArray("ip")
		for i, ip := range h.IP {
			w.next(i)
			w.b = append(w.b, '"')
			if ip.IsValid() {
				w.b = ip.AppendTo(w.b)
			}
			w.b = append(w.b, '"')
		}
		w.b = append(w.b, ']')
	}
	w.str("name", h.Name)
	n := w.open("os")
	w.str("full", h.OS.Full)
	w.str("name", h.OS.Name)
	w.str("platform", h.OS.Platform)
	w.str("type", h.OS.Type)
	w.str("version", h.OS.Version)
	w.close(n)
	w.str("type", h.Type)
	w.close(m)
}

func writeKubernetes(w *jsonWriter, k *collector.Kubernetes) {
	m := w.open("kubernetes")
	w.str("namespace", k.Namespace)
	n := w.open("node")
	w.str("name", k.NodeName)
	w.close(n)
	n = w.open("pod")
	w.str("name", k.PodName)
	w.str("uid", k.PodUID)
	w.close(n)
	w.close(m)
}

func writeNetwork(w *jsonWriter, nw *collector.Network) {
	m := w.open("network")
	n := w.open("carrier")
	w.str("icc", nw.CarrierICC)
	w.str("mcc", nw.CarrierMCC)
	w.str("mnc", nw.CarrierMNC)
	w.str("name", nw.CarrierName)
	w.close(n)
	n = w.open("connection")
	w.str("subtype", nw.ConnectionSubtype)
	w.str("type", nw.ConnectionType)
	w.close(n)
	w.close(m)
}

func writeProcess(w *jsonWriter, p *collector.Process) {
	m := w.open("process")
	w.strings("args", p.Argv)
	w.str("command_line", p.CommandLine)
	w.str("executable", p.Executable)
	n := w.open("parent")
	w.int("pid", int64(p.PPID))
	w.close(n)
	w.int("pid", int64(p.PID))
	n = w.open("thread")
	w.int("id", p.ThreadID)
	w.str("name", p.ThreadName)
	w.close(n)
	w.str("title", p.Title)
	w.close(m)
}

func writeService(w *jsonWriter, s *collector.Service) {
	m := w.open("service")
	w.str("environment", s.Environment)
	writeNameVersion(w, "framework", &s.Framework)
	writeNameVersion(w, "language", &s.Language)
	w.str("name", s.Name)
	n := w.open("node")
	w.str("name", s.NodeName)
	w.close(n)
	n = w.open("origin")
	w.str("id", s.Origin.ID)
	w.str("name", s.Origin.Name)
	w.str("version", s.Origin.Version)
	w.close(n)
	writeNameVersion(w, "runtime", &s.Runtime)
	if s.Target.Name != "" || s.Target.Type != "" {
		// service.target.type is written even when empty (modeljson: "intentionally not omitempty").
		n = w.open("target")
		w.str("name", s.Target.Name)
		w.strAlways("type", s.Target.Type)
		w.close(n)
	}
	w.str("version", s.Version)
	w.close(m)
}

func writeNameVersion(w *jsonWriter, name string, nv *collector.NameVersion) {
	m := w.open(name)
	w.str("name", nv.Name)
	w.str("version", nv.Version)
	w.close(m)
}

func writeSession(w *jsonWriter, s *collector.Session) {
	if s.ID == "" && s.Sequence == 0 {
		return
	}
	m := w.open("session")
	w.strAlways("id", s.ID)
	w.int("sequence", s.Sequence)
	w.close(m)
}

func writeSource(w *jsonWriter, s *collector.Source) {
	m := w.open("source")
	w.str("domain", s.Domain)
	w.ip("ip", s.IP)
	n := w.open("nat")
	w.ip("ip", s.NATIP)
	w.close(n)
	w.int("port", int64(s.Port))
	w.close(m)
}

func writeURL(w *jsonWriter, u *collector.URL) {
	m := w.open("url")
	w.str("domain", u.Domain)
	w.str("fragment", u.Fragment)
	w.str("full", u.Full)
	w.str("original", u.Original)
	w.str("path", u.Path)
	w.int("port", int64(u.Port))
	w.str("query", u.Query)
	w.str("scheme", u.Scheme)
	w.close(m)
}

func writeUser(w *jsonWriter, u *collector.User) {
	m := w.open("user")
	w.str("domain", u.Domain)
	w.str("email", u.Email)
	w.str("id", u.ID)
	w.str("name", u.Name)
	w.close(m)
}

func writeUserAgent(w *jsonWriter, u *collector.UserAgent) {
	m := w.open("user_agent")
	w.str("name", u.Name)
	w.str("original", u.Original)
	w.close(m)
}

func writeHTTP(w *jsonWriter, h *collector.HTTP) {
	m := w.open("http")
	r := &h.Request
	n := w.open("request")
	if r.Body != "" {
		b := w.open("body")
		w.raw("original", r.Body)
		w.close(b)
	}
	w.keyValues("cookies", r.Cookies, false)
	w.keyValues("env", r.Env, false)
	w.headers("headers", r.Headers)
	w.str("id", r.ID)
	w.str("method", r.Method)
	w.str("referrer", r.Referrer)
	w.close(n)
	s := &h.Response
	n = w.openKeep("response", s.Present) // APM Server writes a response the agent sent, even empty
	w.optInt("decoded_body_size", s.DecodedBodySize)
	w.optInt("encoded_body_size", s.EncodedBodySize)
	w.optBool("finished", s.Finished)
	w.headers("headers", s.Headers)
	w.optBool("headers_sent", s.HeadersSent)
	w.int("status_code", int64(s.StatusCode))
	w.optInt("transfer_size", s.TransferSize)
	w.close(n)
	w.str("version", h.Version)
	w.close(m)
}

func writeLog(w *jsonWriter, l *collector.Log) {
	m := w.openKeep("log", l.Present)
	w.str("level", l.Level)
	w.str("logger", l.Logger)
	if l.FunctionName != "" || l.FileName != "" || l.FileLine != 0 {
		// modeljson always writes both origin.file and origin.function once origin is set.
		n := w.open("origin")
		w.begin("file")
		w.int("line", int64(l.FileLine))
		w.str("name", l.FileName)
		w.end()
		w.strAlways("function", l.FunctionName)
		w.close(n)
	}
	w.close(m)
}
