// Package esstandin is a stand-in for Elasticsearch, for the search example only: a small in-memory
// server that answers the part of the Elasticsearch 8 REST API the example uses, so the example runs
// where no Elasticsearch cluster does. It is not Elasticsearch, says so (its cluster and node are named
// "esstandin", its build_type is "stand-in"), and no other part of hotpath uses it. With a real cluster
// (ELASTICSEARCH_URL), the example uses that instead, through the same client and requests.
//
// It is a real, small search engine rather than canned answers: documents are analyzed into an inverted
// index, matches are scored with BM25 as Lucene scores them, script_score scripts are parsed and
// evaluated for every matching document, and "took" is the time the request actually took inside the
// stand-in, measured. So the cost of a search grows with the query: more terms and clauses read more
// postings, a larger ranking script evaluates more nodes per document (Stats counts this work).
//
// # The API it answers
//
// Every answer carries X-Elastic-Product: Elasticsearch (the go-elasticsearch client checks it), and
// errors have Elasticsearch's shape: {"error":{"root_cause":[...],"type":...,"reason":...},"status":N}.
// Request bodies must be JSON (application/json, or application/vnd.elasticsearch+json;compatible-with=8
// as the client sends), _bulk bodies may be ndjson. Query string parameters other than pretty, human,
// error_trace and refresh are refused, as Elasticsearch refuses unknown ones.
//
//	GET /                     cluster info, version Version
//	PUT /{index}              create, with settings and mappings (below); 400 if it exists
//	HEAD /{index}             200 or 404
//	DELETE /{index}           delete
//	POST /_bulk, /{index}/_bulk   index, create and delete actions (_index, _id); items answered in order
//	POST /{index}/_refresh    accepted: documents are searchable as soon as _bulk has answered
//	GET|POST /{index}/_count  with an optional query
//	GET|POST /{index}/_search query, size, from, _source (false, a field, or a list of fields),
//	                          track_total_hits (bool or a number; default 10,000 as Elasticsearch)
//
// # Mappings
//
// Flat fields of type text, keyword, long (and integer, short, byte), double and float; nothing else.
// mappings.dynamic must be false (unmapped fields are kept in _source, unindexed) or strict (documents
// with unmapped fields are refused): the stand-in never maps a field by guessing. A text field must
// name its analyzer: "whitespace", or a custom analyzer of settings.analysis made of the whitespace
// tokenizer and optionally the lowercase filter. (The search example segments Korean text with its own
// segmenter before indexing, so this is all it needs.) Numeric fields take one value per document;
// keyword fields one or an array.
//
// # Queries
//
//	match_all     boost
//	match         {"field": "text"} or {"field": {query, operator (or|and), boost}}: the text analyzed
//	              as the field is, one term clause per term
//	term, terms   exact values; on text fields, an analyzed term
//	range         gt, gte, lt, lte, boost: numeric fields only
//	bool          must, should, filter, must_not (a clause or an array), minimum_should_match (an
//	              integer or a percentage, negative for "all but"), boost
//	script_score  query, script ({source, params, lang: painless} or a source string), min_score, boost
//
// Scores follow Lucene's BM25Similarity (k1 1.2, b 0.75): idf = ln(1 + (N − df + 0.5) / (df + 0.5)),
// score = boost × idf × tf / (tf + k1 × (1 − b + b × dl / avgdl)) with field lengths quantized as
// Lucene's norms; keyword fields score as fields without norms; bool sums its scoring clauses; filter,
// range and terms give constant scores. Statistics count live documents (Lucene counts deleted ones
// until a merge), and scores are computed in double precision, so they can differ from a cluster's in
// the last digits. Results are sorted by score, then by indexing order. Limits are Elasticsearch's: 30
// nested bool levels, 4,096 clauses (match terms included), from + size <= 10,000.
//
// Scripts are single Painless expressions; script.go lists what they may use.
//
// # Overload episodes
//
// Config.Overload schedules episodes during which every _search answers Overload.Delay later (its took
// includes the wait), as a cluster with saturated search thread pools does: the demo's circuit breaker
// has something to open for. A search whose client gives up meanwhile is answered 503
// task_cancelled_exception. NextOverload tells when the current or next episode is.
package esstandin
