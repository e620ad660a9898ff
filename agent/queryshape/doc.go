// Package queryshape names the kind of an Elasticsearch query: its shape, the structure of the request
// body without its literals, as pg_stat_statements names a normalised SQL statement. Two searches for
// "running shoes" and "laptop" under the same filters have one shape; a search that adds a ranking script
// or a synonym exploded into sixty clauses has another. Grouping spans by shape tells which kinds of query
// cost a cluster its time.
//
// It is used where the query is known: the agent's Elasticsearch transport labels each search span with
// its shape (agent.ElasticsearchTransport), and the collector shapes the db.statement of spans sent by
// other agents. It depends on the standard library only, and reads a body in one pass, linear in its
// length, whatever the body holds.
//
// # The shape
//
// A body's shape keeps:
//
//   - the structure: every object key (query types, field names such as match: {title: ...}, options,
//     aggregation names), in byte order, so that key order does not matter;
//   - the values that change what Elasticsearch does: field names given as values (field, fields with
//     their ^boost removed, _source, sort), options such as operator, type, analyzer, fuzziness, order,
//     intervals, track_total_hits; size, from, k and the like as a bucket (0, ≤1, ≤10, ≤20, ≤50, ≤100,
//     ≤1000, ≤10000, >10000);
//   - scripts, by stored id or by the hash of their source (their params are literals);
//   - arrays as the set of their distinct element shapes and a bucket of their length (1, 2–4, 5–16,
//     17–64, 65+): 3 terms or 4 are one shape, 3 or 30 are two, and a bool with 12 should clauses of two
//     kinds is one shape whatever their order.
//
// Every other value (the text searched, term values, boosts, minimum_should_match, dates, ranges'
// bounds) is a literal and removed. The shape's canonical form (Shape.Canonical) is written out as
//
//	{"query":{"bool":{"filter":[{"term":{"category":?}}]×1,"should":[{"match":{"title":{"boost":?,"query":?}}}]×2–4}},"size":≤10}
//
// and its ID is the first 8 bytes of the SHA-256 of the Version and the canonical form, in hex: stable
// across processes, machines and releases until Version changes. Summary renders it for people in at
// most MaxSummary bytes: "bool(filter: term[category], should: match[title]×2–4) size≤10".
//
// # Bounds
//
// A shape reads at most MaxBody bytes of a body; values nested deeper than 48 levels are skipped (their
// brackets counted, with no stack) and shown as "…"; an object keeps 64 keys and an array 16 distinct
// element shapes, the rest counted as "…". So hostile input (nesting 100,000 deep, a 50 MB array,
// invalid UTF-8) costs time linear in what is read and memory bounded by it, and never panics. A body
// that ends early, as a statement cut by an agent or the APM intake at 10,000 characters does, gives
// the shape of what is there, marked Truncated (its canonical form ends with ✂, so it is never mistaken
// for a whole body's shape).
//
// # _msearch
//
// MultiSearch shapes each search of an _msearch body; Combine makes one shape of them, for the span that
// sent them all. Request picks between them by the request's path.
package queryshape
