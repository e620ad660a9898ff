package pebble

import (
	"fmt"
	"time"

	"github.com/hotpath-apm/hotpath/collector"
)

// The stored form of a profile's record: everything of a collector.Profile but its parts' data (stored
// apart, in chunks: profiles.go), in the event codec's wire format (protobuf's, wire.go) behind a
// version byte. The metadata is an Event, encoded by the generated event codec. Field numbers, never
// reused:
//
//	Profile:     1 id, 2 trigger, 3 timestamp, 4 duration (ns), 5 received, 6 metadata (Event),
//	             7 trace id, 8 transaction, 9 resource, 10 cpu, 11 goroutine snapshots, 12 errors
//	             (repeated), 13 parts (repeated)
//	Transaction: 1 id, 2 name, 3 sampled, 4 ended, 5 start, 6 threshold (ns)
//	Resource:    1 name, 2 value, 3 rule, 4 threshold, 5 average (present when known)
//	CPU:         1 start, 2 duration (ns), 3 samples
//	Part:        1 kind, 2 size
const profileCodecVersion = 1

// Wire keys (field number << 3 | wire type: 0 varint, 1 fixed 64 bits, 2 length-delimited).
const (
	wtVarint, wtFixed64, wtBytes = 0, 1, 2
)

func fkey(field, wt uint64) uint64 { return field<<3 | wt }

// appendProfile appends the stored record of p (its parts' data left out) to b.
func appendProfile(b []byte, p *collector.Profile) []byte {
	var m int
	b = append(b, profileCodecVersion)
	b = appendString(b, fkey(1, wtBytes), p.ID)
	b = appendString(b, fkey(2, wtBytes), p.Trigger)
	b = appendTime(b, fkey(3, wtBytes), p.Timestamp)
	b = appendInt(b, fkey(4, wtVarint), int64(p.Duration))
	b = appendTime(b, fkey(5, wtBytes), p.Received)
	b, m = openMessage(b, fkey(6, wtBytes))
	b = encEvent(b, &p.Metadata)
	b = finishMessage(b, m)
	if p.TraceID != "" {
		b = appendString(b, fkey(7, wtBytes), p.TraceID)
	}
	if t := p.Transaction; t != nil {
		b, m = openMessage(b, fkey(8, wtBytes))
		b = appendString(b, fkey(1, wtBytes), t.ID)
		b = appendString(b, fkey(2, wtBytes), t.Name)
		b = appendBool(b, fkey(3, wtVarint), t.Sampled)
		b = appendBool(b, fkey(4, wtVarint), t.Ended)
		b = appendTime(b, fkey(5, wtBytes), t.Start)
		b = appendInt(b, fkey(6, wtVarint), int64(t.Threshold))
		b = finishMessage(b, m)
	}
	if r := p.Resource; r != nil {
		b, m = openMessage(b, fkey(9, wtBytes))
		b = appendString(b, fkey(1, wtBytes), r.Name)
		b = appendFloat(b, fkey(2, wtFixed64), r.Value)
		b = appendString(b, fkey(3, wtBytes), r.Rule)
		b = appendFloat(b, fkey(4, wtFixed64), r.Threshold)
		if r.Average.Valid {
			b = appendFloat(b, fkey(5, wtFixed64), r.Average.V)
		}
		b = finishMessage(b, m)
	}
	if c := p.CPU; c != nil {
		b, m = openMessage(b, fkey(10, wtBytes))
		b = appendTime(b, fkey(1, wtBytes), c.Start)
		b = appendInt(b, fkey(2, wtVarint), int64(c.Duration))
		b = appendInt(b, fkey(3, wtVarint), c.Samples)
		b = finishMessage(b, m)
	}
	if p.GoroutineSnapshots != 0 {
		b = appendInt(b, fkey(11, wtVarint), int64(p.GoroutineSnapshots))
	}
	for _, e := range p.Errors {
		b = appendString(b, fkey(12, wtBytes), e)
	}
	for i := range p.Parts {
		b, m = openMessage(b, fkey(13, wtBytes))
		b = appendString(b, fkey(1, wtBytes), p.Parts[i].Kind)
		b = appendInt(b, fkey(2, wtVarint), p.Parts[i].Size)
		b = finishMessage(b, m)
	}
	return b
}

// decodeProfile fills p (which must be zero) from a stored record; its parts have no Data. Strings in p
// share one copy of v.
func decodeProfile(v []byte, p *collector.Profile) error {
	if len(v) == 0 {
		return fmt.Errorf("store: decode profile: empty value")
	}
	if v[0] != profileCodecVersion {
		return fmt.Errorf("store: decode profile: unknown codec version %d", v[0])
	}
	d := decoder{s: string(v[1:])}
	if err := d.decProfile(p); err != nil {
		return fmt.Errorf("store: decode profile at byte %d: %w", d.i+1, err)
	}
	return nil
}

func (d *decoder) decProfile(p *collector.Profile) error {
	for d.more() {
		key, err := d.key()
		if err != nil {
			return err
		}
		switch key {
		case fkey(1, wtBytes):
			p.ID, err = d.bytes()
		case fkey(2, wtBytes):
			p.Trigger, err = d.bytes()
		case fkey(3, wtBytes):
			p.Timestamp, err = d.time()
		case fkey(4, wtVarint):
			p.Duration, err = d.duration()
		case fkey(5, wtBytes):
			p.Received, err = d.time()
		case fkey(6, wtBytes):
			var sub decoder
			if sub, err = d.sub(); err == nil {
				p.Metadata = collector.Event{}
				err = sub.decEvent(&p.Metadata)
			}
		case fkey(7, wtBytes):
			p.TraceID, err = d.bytes()
		case fkey(8, wtBytes):
			p.Transaction = &collector.ProfileTransaction{}
			err = d.message(func(sub *decoder, key uint64) (err error) {
				t := p.Transaction
				switch key {
				case fkey(1, wtBytes):
					t.ID, err = sub.bytes()
				case fkey(2, wtBytes):
					t.Name, err = sub.bytes()
				case fkey(3, wtVarint):
					t.Sampled, err = sub.bool()
				case fkey(4, wtVarint):
					t.Ended, err = sub.bool()
				case fkey(5, wtBytes):
					t.Start, err = sub.time()
				case fkey(6, wtVarint):
					t.Threshold, err = sub.duration()
				default:
					err = sub.skip(key)
				}
				return err
			})
		case fkey(9, wtBytes):
			p.Resource = &collector.ProfileResource{}
			err = d.message(func(sub *decoder, key uint64) (err error) {
				r := p.Resource
				switch key {
				case fkey(1, wtBytes):
					r.Name, err = sub.bytes()
				case fkey(2, wtFixed64):
					r.Value, err = sub.float()
				case fkey(3, wtBytes):
					r.Rule, err = sub.bytes()
				case fkey(4, wtFixed64):
					r.Threshold, err = sub.float()
				case fkey(5, wtFixed64):
					r.Average.V, err = sub.float()
					r.Average.Valid = true
				default:
					err = sub.skip(key)
				}
				return err
			})
		case fkey(10, wtBytes):
			p.CPU = &collector.ProfileCPU{}
			err = d.message(func(sub *decoder, key uint64) (err error) {
				c := p.CPU
				switch key {
				case fkey(1, wtBytes):
					c.Start, err = sub.time()
				case fkey(2, wtVarint):
					c.Duration, err = sub.duration()
				case fkey(3, wtVarint):
					c.Samples, err = sub.varint()
				default:
					err = sub.skip(key)
				}
				return err
			})
		case fkey(11, wtVarint):
			p.GoroutineSnapshots, err = asInt[int](d.varint())
		case fkey(12, wtBytes):
			var s string
			s, err = d.bytes()
			p.Errors = append(p.Errors, s)
		case fkey(13, wtBytes):
			var part collector.ProfilePart
			err = d.message(func(sub *decoder, key uint64) (err error) {
				switch key {
				case fkey(1, wtBytes):
					part.Kind, err = sub.bytes()
				case fkey(2, wtVarint):
					part.Size, err = sub.varint()
				default:
					err = sub.skip(key)
				}
				return err
			})
			p.Parts = append(p.Parts, part)
		default:
			err = d.skip(key)
		}
		if err != nil {
			return err
		}
	}
	if p.ID == "" {
		return fmt.Errorf("profile without an id")
	}
	return nil
}

// message decodes the length-delimited message at the current position, calling field for each key.
func (d *decoder) message(field func(sub *decoder, key uint64) error) error {
	sub, err := d.sub()
	if err != nil {
		return err
	}
	for sub.more() {
		key, err := sub.key()
		if err != nil {
			return err
		}
		if err := field(&sub, key); err != nil {
			return err
		}
	}
	return nil
}

func (d *decoder) duration() (time.Duration, error) {
	n, err := d.varint()
	return time.Duration(n), err
}
