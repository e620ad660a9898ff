// Package segmenter is the search example's segmenter: a small HTTP service that splits Korean and
// English text into search terms (Tokenizer), as the search service's query side and the index setup's
// document side both need. It is a separate service on purpose, called over HTTP and traced as its
// own service, so a search request's trace shows the call and its latency.
//
// # Wire format
//
//	POST /segment
//	Content-Type: application/json
//
//	{"text": "나이키운동화 black"}
//
// answers 200 with {"tokens": ["나이키", "운동화", "black"]}. A body that is not a JSON object with a
// string "text" gets 400, one over Config.MaxTextBytes 413, another content type 415, each with
// {"error": "..."}. GET /healthz answers "ok" untraced.
//
// # Latency, on purpose
//
// Config.Delay adds a fixed wait to every call (the service's own latency). Config.SlowFraction makes
// that fraction of calls wait Config.SlowDelay more, blocked in waitForDictionary (a dictionary reload
// in a real segmenter): off-CPU, so the caller's goroutine profile shows it waiting on the segmenter
// while its CPU profile shows nothing. Both are off by default.
package segmenter
