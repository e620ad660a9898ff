// Package enrich applies to decoded events the processing Elastic APM Server applies between its
// decoder and its output, so that what the store keeps already is the event APM Server would index:
// exporting it to Elasticsearch is then a rendering (collector/elasticsearch), and the query API and
// the UI see the same values Kibana would (host.name, service.node.name, error.grouping_key...).
//
// In APM Server's order (its beater.go, with apm-data's model processors):
//
//  1. RUM intake only (Processor.ProcessRUM): stack frames get the source-map error APM Server records
//     when it has no source map for a bundle, library_frame from the default library pattern and
//     exclude_from_grouping from the default exclude pattern.
//  2. SetHostHostname: host.hostname follows kubernetes.node.name, and host.name defaults to it.
//  3. SetServiceNodeName: service.node.name defaults to container.id, then host.name.
//  4. SetGroupingKey: error.grouping_key, the xxhash of the exception types, log param message and
//     stack frames (or messages), as apm-data computes it with cespare/xxhash.
//  5. SetErrorMessage: an error's top-level message is its log message, else its exception's.
//  6. Observer: observer.type "apm-server", observer.version and observer.hostname.
//  7. SetDataStream: data_stream.* with the namespace "default", which names the Elasticsearch data
//     stream (traces-apm-default, metrics-apm.app.<service>-default...).
//  8. Dropping unsampled transactions from non-RUM agents that count for nothing (a representative
//     count of 0). Agents of version 8+ do not send unsampled transactions; older ones do, and APM
//     Server counts those with a representative count in its aggregated metrics but indexes none of
//     them: they are kept here for the same metrics (collector.Event.MetricsOnly).
//
// Intake calls it on every decoded batch before the store; nothing here does I/O.
package enrich

import (
	"context"
	"os"

	"github.com/hotpath-apm/hotpath/collector"
)

// DefaultObserverVersion is observer.version when Config.ObserverVersion is empty: the Elastic APM
// Server release whose documents hotpath writes (the version its golden documents come from).
const DefaultObserverVersion = "9.6.0"

// DefaultNamespace is the data stream namespace APM Server uses unless configured otherwise.
const DefaultNamespace = "default"

// Config configures a Processor. The zero value is the default configuration.
type Config struct {
	// ObserverHostname is written to observer.hostname. Default: the machine's hostname (os.Hostname),
	// as APM Server does.
	ObserverHostname string
	// ObserverVersion is written to observer.version. Default: DefaultObserverVersion.
	ObserverVersion string
	// Namespace is the data stream namespace (the last part of the index name). Default:
	// DefaultNamespace. RUM agents' events always get it, whatever they asked for.
	Namespace string
}

// Processor enriches batches of decoded events. It is safe for concurrent use: it holds only its
// configuration.
type Processor struct {
	hostname  string
	version   string
	namespace string
}

// New returns a Processor for cfg.
func New(cfg Config) *Processor {
	p := &Processor{hostname: cfg.ObserverHostname, version: cfg.ObserverVersion, namespace: cfg.Namespace}
	if p.hostname == "" {
		p.hostname, _ = os.Hostname()
	}
	if p.version == "" {
		p.version = DefaultObserverVersion
	}
	if p.namespace == "" {
		p.namespace = DefaultNamespace
	}
	return p
}

// Process enriches the events of b in place, then removes from b the events that neither APM Server's
// documents nor its aggregated metrics hold (unsampled transactions from non-RUM agents with a
// representative count of 0), keeping the others in their order. It returns how many it removed. Intake counts removed events as accepted, as APM Server does.
//
// Events are moved by swapping, so every pointer an event holds stays in exactly one element of b.
func (p *Processor) Process(b *collector.Batch) (dropped int) {
	events := *b
	var names datasetNames
	for i := range events {
		p.enrich(&events[i], &names)
	}
	return dropUnsampled(b)
}

// ProcessRUM is Process for events that came in on the RUM intake endpoint: it first applies the
// RUM-only steps (source-map error, library and exclude-from-grouping patterns), which change the
// stack frames and therefore the grouping key.
func (p *Processor) ProcessRUM(b *collector.Batch) (dropped int) {
	events := *b
	for i := range events {
		processRUM(&events[i])
	}
	return p.Process(b)
}

// Wrap returns a BatchProcessor that enriches each batch with Process, then passes what is left of
// it to next (an empty batch too, so that next sees every call).
func (p *Processor) Wrap(next collector.BatchProcessor) collector.BatchProcessor {
	return collector.ProcessBatchFunc(func(ctx context.Context, b *collector.Batch) error {
		p.Process(b)
		return next.ProcessBatch(ctx, b)
	})
}

// enrich applies steps 2 to 7 to one event.
func (p *Processor) enrich(e *collector.Event, names *datasetNames) {
	setHostHostname(e)
	setServiceNodeName(e)
	if e.Error != nil {
		e.Error.GroupingKey = groupingKey(e.Error)
		if e.Message == "" {
			e.Message = errorMessage(e.Error)
		}
	}
	e.Observer.Hostname = p.hostname
	e.Observer.Type = "apm-server"
	e.Observer.Version = p.version
	setDataStream(e, p.namespace, names)
}

// setHostHostname makes host.hostname follow kubernetes.node.name when there is one, clears it when
// the event comes from Kubernetes without a node name, and defaults host.name to host.hostname
// (apm-data's SetHostHostname).
func setHostHostname(e *collector.Event) {
	k := &e.Kubernetes
	switch {
	case k.NodeName != "":
		e.Host.Hostname = k.NodeName
	case k.PodName != "" || k.PodUID != "" || k.Namespace != "":
		e.Host.Hostname = ""
	}
	if e.Host.Name == "" {
		e.Host.Name = e.Host.Hostname
	}
}

// setServiceNodeName defaults service.node.name to container.id, then to host.name (apm-data's
// SetServiceNodeName).
func setServiceNodeName(e *collector.Event) {
	if e.Service.NodeName != "" {
		return
	}
	if e.Container.ID != "" {
		e.Service.NodeName = e.Container.ID
		return
	}
	e.Service.NodeName = e.Host.Name
}

// errorMessage is the message of an error event: its log message, else its exception's (apm-data's
// SetErrorMessage).
func errorMessage(e *collector.Error) string {
	if e.Log != nil && e.Log.Message != "" {
		return e.Log.Message
	}
	if e.Exception != nil {
		return e.Exception.Message
	}
	return ""
}

// dropUnsampled removes the unsampled transactions of non-RUM agents that count for nothing (a
// representative count of 0) from b, keeping the order of the others, and returns how many it removed.
// Those with a representative count (agents older than 8.0 send them, with their sample rate) are
// kept: the aggregated metrics count them, as APM Server's aggregator does, and the Elasticsearch
// export indexes no document for them (collector.Event.MetricsOnly).
func dropUnsampled(b *collector.Batch) int {
	events := *b
	kept := 0
	for i := range events {
		e := &events[i]
		if e.MetricsOnly() && e.Transaction.RepresentativeCount <= 0 {
			continue
		}
		if kept != i {
			events[kept], events[i] = events[i], events[kept]
		}
		kept++
	}
	*b = events[:kept]
	return len(events) - kept
}
