// Package collector holds hotpath's domain types and the small interfaces through which the collector's
// parts meet. It imports nothing of hotpath's own, and nothing here does I/O.
//
// The parts, each in its own sub-package, never import one another; cmd/hotpath wires them:
//
//	intake        decodes what APM agents send (intake v2) into Events and hands them, a Batch at a
//	              time, to a BatchProcessor; it acknowledges a batch only when ProcessBatch returned nil
//	store/<engine> is the BatchProcessor that matters: ProcessBatch returns once the batch is durable
//	elasticsearch reads stored events back and writes them as APM Server's documents
//	query         answers the JSON API from the store; ui renders it
//
// An Event is one transaction, span, error, metricset or log, with the metadata of the stream it came
// in (service, host, process, labels...) already merged into it, exactly as APM Server's model does. Its
// fields follow the ECS field names Elastic APM writes (see the field comments), so that the Elasticsearch
// document of an Event is a rendering, not a translation.
package collector

import (
	"context"
	"errors"
)

// Batch is a group of events that travel together from intake to the store: the unit of acknowledgement.
type Batch []Event

// BatchProcessor consumes batches. Intake calls ProcessBatch and counts a batch's events as accepted only
// when it returns nil; the store's implementation returns only after the batch is durably committed.
// Implementations must not retain b or its events after returning: the caller reuses them.
type BatchProcessor interface {
	ProcessBatch(ctx context.Context, b *Batch) error
}

// ProcessBatchFunc adapts a function to BatchProcessor.
type ProcessBatchFunc func(ctx context.Context, b *Batch) error

// ProcessBatch calls f(ctx, b).
func (f ProcessBatchFunc) ProcessBatch(ctx context.Context, b *Batch) error { return f(ctx, b) }

// Errors a BatchProcessor returns to say why it refused a batch; intake maps them to APM Server's
// answers (both are 503 there).
var (
	// ErrQueueFull means the processor is at capacity and the caller should retry later.
	ErrQueueFull = errors.New("queue is full")
	// ErrShuttingDown means the processor no longer accepts batches.
	ErrShuttingDown = errors.New("server is shutting down")
	// ErrStorageUnavailable means the processor cannot write for now (its disk is below the free-space
	// floor, or a write failed and it is recovering): the caller should retry later. The error that Is
	// it says why.
	ErrStorageUnavailable = errors.New("storage unavailable")
)
