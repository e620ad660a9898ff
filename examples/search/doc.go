// Package search is the search example's service: a product search API of the kind hotpath was made
// for, instrumented only with hotpath's agent (agent.Wrap, agent.WrapClient, the agent's Elasticsearch
// round-tripper, a span around query building, a zap logger with trace ids).
//
// # GET /search
//
//	GET /search?q=나이키+러닝화&category=shoes&min_price=50000&max_price=150000&size=10&from=0&rank=default&user=u1
//
// For each request the service
//
//  1. asks the segmenter (package segmenter, another HTTP service) for the query's terms: a span
//     "POST segmenter", whose traceparent the segmenter continues;
//  2. builds the Elasticsearch query in the span "build query": the terms are grouped into units and
//     expanded with synonyms (synonyms.txt, Solr's format), each unit a clause matched in the segmented
//     title or description by its own words or a synonym; category, brand and price filters; and a
//     script_score ranking script (default: relevance × popularity × rating; personalized: also a
//     similarity to the user's recently viewed products, much heavier);
//  3. searches with the official go-elasticsearch client through agent.ElasticsearchTransport: a span
//     "Elasticsearch: POST products/_search" labelled with Elasticsearch's took;
//  4. renders the hits as JSON (Answer) and logs the search with the trace's ids.
//
// Bad parameters get 400, a segmenter or Elasticsearch failure 502, each with {"error": "..."}.
//
// # Running it
//
// New builds the service from a Config; serve its Handler, for example with loopback.Serve. Package
// stack starts the whole example (segmenter, Elasticsearch or its stand-in, this service) in one
// process; cmd/searchd is the command. SetupIndex creates the index (IndexDefinition) and loads the
// catalog, on a cluster or on the stand-in. QueryMix draws realistic traffic.
//
// # Trouble, on purpose
//
// Config.Trouble turns on two of the example's three performance problems (the third, slow segmenter
// calls, is the segmenter's): QuadraticSynonyms makes synonym expansion quadratic in the query's length
// (expandSynonyms: CPU in this process, on top of a CPU profile), HeavyRanking ranks a fraction of
// requests with the personalized script (time in Elasticsearch: a large took on the Elasticsearch span).
package search
