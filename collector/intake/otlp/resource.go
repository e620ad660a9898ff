package otlp

import (
	"net/netip"
	"strings"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/hotpath-apm/hotpath/collector"
	"github.com/hotpath-apm/hotpath/collector/intake/otelattr"
)

// resourceEvent is apm-data's translateResourceMetadata: the fields every event of a resource shares
// (service, agent, host, process, container, Kubernetes, cloud, device), with the resource's other
// attributes as global labels.
func resourceEvent(res pcommon.Resource) collector.Event {
	var ev collector.Event
	b := newLabels(&ev)
	ev.Event.Present = true
	var exporterVersion string
	for k, v := range res.Attributes().All() {
		switch k {
		case "host.name", "host.id", "host.type", "host.arch", "host.ip", "os.type", "os.description", "os.name", "os.version":
			ev.Host.Present = true
		}
		s := func() string { return otelattr.Truncate(v.Str()) }
		switch k {
		case "service.name":
			ev.Service.Name = cleanServiceName(v.Str())
		case "service.version":
			ev.Service.Version = s()
		case "service.instance.id":
			ev.Service.NodeName = s()
		case "deployment.environment", "deployment.environment.name":
			ev.Service.Environment = s()
		case "telemetry.sdk.name":
			ev.Agent.Name = s()
		case "telemetry.sdk.version":
			ev.Agent.Version = s()
		case "telemetry.sdk.language":
			ev.Service.Language.Name = s()
		case "cloud.provider":
			ev.Cloud.Provider = s()
		case "cloud.account.id":
			ev.Cloud.AccountID = s()
		case "cloud.region":
			ev.Cloud.Region = s()
		case "cloud.availability_zone":
			ev.Cloud.AvailabilityZone = s()
		case "cloud.platform":
			ev.Cloud.ServiceName = s()
		case "container.name":
			ev.Container.Name = s()
		case "container.id":
			ev.Container.ID = s()
		case "container.image.name":
			ev.Container.ImageName = s()
		case "container.image.tag":
			ev.Container.ImageTag = s()
		case "container.runtime":
			ev.Container.Runtime = s()
		case "k8s.namespace.name":
			ev.Kubernetes.Namespace = s()
		case "k8s.node.name":
			ev.Kubernetes.NodeName = s()
		case "k8s.pod.name":
			ev.Kubernetes.PodName = s()
		case "k8s.pod.uid":
			ev.Kubernetes.PodUID = s()
		case "host.name":
			ev.Host.Hostname = s()
		case "host.id":
			ev.Host.ID = s()
		case "host.type":
			ev.Host.Type = s()
		case "host.arch":
			ev.Host.Architecture = s()
		case "host.ip":
			if v.Type() != pcommon.ValueTypeSlice {
				break
			}
			sl := v.Slice()
			ips := make([]netip.Addr, 0, sl.Len())
			for i := range sl.Len() {
				if ip, err := netip.ParseAddr(sl.At(i).Str()); err == nil {
					ips = append(ips, ip.WithZone(""))
				}
			}
			ev.Host.IP = ips
		case "process.pid":
			ev.Process.PID = int32(uint32(v.Int()))
		case "process.command_line":
			ev.Process.CommandLine = s()
		case "process.executable.path":
			ev.Process.Executable = s()
		case "process.runtime.name":
			ev.Service.Runtime.Name = s()
		case "process.runtime.version":
			ev.Service.Runtime.Version = s()
		case "process.owner":
			ev.User.Name = s()
		case "os.type":
			ev.Host.OS.Platform = strings.ToLower(s())
		case "os.description":
			ev.Host.OS.Full = s()
		case "os.name":
			ev.Host.OS.Name = s()
		case "os.version":
			ev.Host.OS.Version = s()
		case "device.id":
			ev.Device.ID = s()
		case "device.model.identifier":
			ev.Device.ModelIdentifier = s()
		case "device.model.name":
			ev.Device.ModelName = s()
		case "device.manufacturer":
			ev.Device.Manufacturer = s()
		case "opencensus.exporterversion":
			exporterVersion = v.Str()
		case "telemetry.sdk.elastic_export_timestamp", "telemetry.distro.name", "telemetry.distro.version":
		case "data_stream.dataset", "data_stream.namespace":
			otelattr.SetDataStream(&ev.DataStream, k, v.Str())
		default:
			b.setLabel(otelattr.ReplaceDots(k), v)
		}
	}
	switch os := &ev.Host.OS; os.Platform {
	case "windows", "linux":
		os.Type = os.Platform
	case "darwin":
		os.Type = "macos"
	case "aix", "hpux", "solaris":
		os.Type = "unix"
	}
	switch ev.Host.OS.Name {
	case "Android":
		ev.Host.OS.Type = "android"
	case "iOS":
		ev.Host.OS.Type = "ios"
	}
	if strings.HasPrefix(exporterVersion, "Jaeger") {
		jaegerResource(&ev, exporterVersion)
	}
	if ev.Service.Name == "" {
		ev.Service.Name = "unknown"
	}
	if ev.Agent.Name == "" {
		ev.Agent.Name = "otlp"
	}
	if ev.Agent.Version == "" {
		ev.Agent.Version = "unknown"
	}
	attrs := res.Attributes()
	if distro, ok := attrs.Get("telemetry.distro.name"); ok && distro.Str() != "" {
		name := distro.Str()
		lang := ev.Service.Language.Name
		if lang == "" {
			lang = "unknown"
		}
		ev.Agent.Name += "/" + lang + "/" + name
		ev.Agent.Version = "unknown"
		if dv, ok := attrs.Get("telemetry.distro.version"); ok && dv.Str() != "" {
			ev.Agent.Version = dv.Str()
		}
	} else if ev.Service.Language.Name != "" {
		ev.Agent.Name += "/" + ev.Service.Language.Name
	}
	if ev.Service.Language.Name == "" {
		ev.Service.Language.Name = "unknown"
	}
	for i := range ev.Labels {
		ev.Labels[i].Global = true
	}
	for i := range ev.NumericLabels {
		ev.NumericLabels[i].Global = true
	}
	return ev
}

// jaegerResource applies what apm-data derives from a Jaeger exporter's version
// ("Jaeger-<language>-<version>") and its client-uuid and ip tags.
func jaegerResource(ev *collector.Event, exporterVersion string) {
	parts := strings.SplitN(exporterVersion, "-", 3)
	if ev.Service.Language.Name == "" && len(parts) == 3 {
		ev.Service.Language.Name = parts[1]
	}
	if v := parts[len(parts)-1]; v != "" {
		ev.Agent.Version = v
	}
	ev.Agent.Name = "Jaeger"
	kept := ev.Labels[:0]
	for _, l := range ev.Labels {
		switch l.Key {
		case "client-uuid":
			ev.Agent.EphemeralID = l.Value
			continue
		case "ip":
			if ip, err := netip.ParseAddr(l.Value); err == nil {
				ev.Host.IP = []netip.Addr{ip}
			}
			continue
		}
		kept = append(kept, l)
	}
	ev.Labels = kept
}

// cleanServiceName truncates name and replaces every character other than letters, digits, space,
// '_' and '-' with '_', as apm-data does.
func cleanServiceName(name string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == ' ', r == '_', r == '-':
			return r
		}
		return '_'
	}, otelattr.Truncate(name))
}

// scopeMetadata is apm-data's translateScopeMetadata: data stream attributes, and the scope's name
// and version as service.framework.
func scopeMetadata(scope pcommon.InstrumentationScope, ev *collector.Event) {
	for k, v := range scope.Attributes().All() {
		switch k {
		case "data_stream.dataset", "data_stream.namespace":
			otelattr.SetDataStream(&ev.DataStream, k, v.Str())
		}
	}
	if name := scope.Name(); name != "" {
		ev.Service.Framework = collector.NameVersion{Name: name, Version: scope.Version()}
	}
}

// exportTimeDelta is how much the resource's timestamps are shifted: the receive time minus the
// telemetry.sdk.elastic_export_timestamp Elastic's mobile agents send (nanoseconds), else 0.
func exportTimeDelta(res pcommon.Resource, received time.Time) time.Duration {
	v, ok := res.Attributes().Get("telemetry.sdk.elastic_export_timestamp")
	if !ok || v.Int() <= 0 {
		return 0
	}
	return received.Sub(time.Unix(0, v.Int()))
}
