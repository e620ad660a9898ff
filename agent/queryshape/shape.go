package queryshape

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"

	"github.com/hotpath-apm/hotpath/agent/internal/jsonscan"
)

// Version is the version of the canonical form: it is part of what an id hashes, so that a future change
// of the rules gives new ids instead of mixing two meanings under one.
const Version = "v1"

// ErrNotJSON is returned for a body that does not start with a JSON object (a ?q= query string, an
// empty body, a binary format).
var ErrNotJSON = errors.New("queryshape: body is not a JSON object")

// Shape is the structure of an Elasticsearch search body, without its literals.
type Shape struct {
	// ID names the shape: 16 hex digits, the first 8 bytes of the SHA-256 of Version and Canonical. The
	// same structure has the same id in every process, machine and version of this package that has the
	// same Version.
	ID string `json:"shape"`
	// Summary is the shape for people, at most MaxSummary bytes: the query's clauses with the fields they
	// read, the scripts, aggregations, sort and size. "bool(must: multi_match[title,description],
	// should: match[title]×5–16) size≤20".
	Summary string `json:"summary"`
	// Canonical is the shape itself (see the package documentation): what ID hashes.
	Canonical string `json:"canonical"`
	// Truncated reports that the body ended before its JSON did (an agent or the intake cut the
	// statement; the body was longer than MaxBody): the shape is that of what was there, and differs
	// from that of a whole body.
	Truncated bool `json:"truncated,omitempty"`
}

// Search returns the shape of a search body (the body of _search, _count, _async_search,
// _delete_by_query, _update_by_query...). A body that breaks off, or whose JSON turns invalid part way,
// gives the shape of what came before, marked Truncated. It never panics, reads at most MaxBody bytes, and
// keeps a tree no larger than what it reads.
func Search(body []byte) (Shape, error) {
	root, truncated, err := parse(body, modeLiteral)
	if err != nil {
		return Shape{}, err
	}
	return build(root, truncated, summarize), nil
}

// Template returns the shape of a search template request (_search/template): a stored template is
// named by its id, an inline one by the hash of its source; params are literals.
func Template(body []byte) (Shape, error) {
	root, truncated, err := parse(body, modeScript)
	if err != nil {
		return Shape{}, err
	}
	return build(root, truncated, func(n *node) string { return "template(" + script(n) + ")" }), nil
}

// parse reads body's first value, which must be an object.
func parse(body []byte, m mode) (root *node, truncated bool, err error) {
	if len(body) > MaxBody {
		body, truncated = body[:MaxBody], true
	}
	p := parser{Scanner: jsonscan.Scanner{B: body}, lit: node{kind: 's', text: "?"}}
	if c, err := p.Peek(); err != nil || c != '{' {
		return nil, false, ErrNotJSON
	}
	root, err = p.object("", m, 0)
	return root, truncated || err != nil, nil
}

func build(root *node, truncated bool, summarize func(*node) string) Shape {
	s := FromCanonical(Version, root.canonical(), "", truncated)
	s.Summary = summarize(root)
	return s
}

// FromCanonical returns the shape of another kind of statement whose canonical form is canonical (the
// collector's SQL shapes): its ID hashes version, the other kind's own, and canonical as this
// package's shapes' do, so it is as stable; its Summary is summary cut to MaxSummary bytes on a
// character boundary; and a truncated shape's canonical form ends with ✂.
func FromCanonical(version, canonical, summary string, truncated bool) Shape {
	s := Shape{Canonical: canonical, Summary: cut(summary, MaxSummary), Truncated: truncated}
	if truncated {
		s.Canonical += "✂"
	}
	s.ID = id(version, s.Canonical)
	return s
}

func id(version, canonical string) string {
	h := sha256.New()
	h.Write([]byte(version))
	h.Write([]byte{0})
	h.Write([]byte(canonical))
	var sum [sha256.Size]byte
	return hex.EncodeToString(h.Sum(sum[:0])[:8])
}

// MultiSearch returns the shape of each search of an _msearch (or _msearch/template, with template true)
// body: newline-delimited pairs of a header line and a body line. A body line that is not a JSON object
// is skipped; a last line that breaks off gives a truncated shape.
func MultiSearch(body []byte, template bool) []Shape {
	if len(body) > MaxBody {
		body = body[:MaxBody]
	}
	shapeOf := Search
	if template {
		shapeOf = Template
	}
	var shapes []Shape
	header := true
	for len(body) > 0 {
		line, rest, _ := bytes.Cut(body, []byte{'\n'})
		body = rest
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		if header {
			header = false
			continue
		}
		header = true
		if s, err := shapeOf(line); err == nil {
			shapes = append(shapes, s)
		}
	}
	return shapes
}

// Combine returns the shape of a request made of several searches (an _msearch): as an array's, the
// distinct shapes of its searches in order of their canonical forms, with their count bucketed. Its
// summary is "msearch(" and the searches' summaries.
func Combine(searches []Shape) Shape {
	if len(searches) == 1 {
		return searches[0]
	}
	distinct := make([]Shape, 0, len(searches))
	truncated := false
	for _, s := range searches {
		truncated = truncated || s.Truncated
		if !containsShape(distinct, s.ID) {
			distinct = append(distinct, s)
		}
	}
	sortShapes(distinct)
	var c, sum strings.Builder
	c.WriteString("msearch[")
	for i, s := range distinct {
		if i > 0 {
			c.WriteByte('|')
			sum.WriteString("; ")
		}
		c.WriteString(s.Canonical)
		sum.WriteString(s.Summary)
	}
	c.WriteString("]×")
	c.WriteString(lengthBucket(len(searches)))
	out := Shape{Canonical: c.String(), Truncated: truncated}
	out.ID = id(Version, out.Canonical)
	out.Summary = cut("msearch×"+lengthBucket(len(searches))+"("+sum.String()+")", MaxSummary)
	return out
}

func containsShape(shapes []Shape, id string) bool {
	for _, s := range shapes {
		if s.ID == id {
			return true
		}
	}
	return false
}

func sortShapes(shapes []Shape) {
	for i := 1; i < len(shapes); i++ {
		for j := i; j > 0 && shapes[j].Canonical < shapes[j-1].Canonical; j-- {
			shapes[j], shapes[j-1] = shapes[j-1], shapes[j]
		}
	}
}

// Request returns the shape of an Elasticsearch request from its URL path and body: _msearch bodies are
// split into their searches and combined, template endpoints shaped as templates, other bodies as
// searches. ok is false when the body holds no search to shape.
func Request(path string, body []byte) (s Shape, ok bool) {
	path = strings.TrimSuffix(path, "/")
	template := strings.HasSuffix(path, "/template")
	api := strings.TrimSuffix(path, "/template")
	if strings.HasSuffix(api, "_msearch") {
		searches := MultiSearch(body, template)
		if len(searches) == 0 {
			return Shape{}, false
		}
		return Combine(searches), true
	}
	var err error
	if template {
		s, err = Template(body)
	} else {
		s, err = Search(body)
	}
	return s, err == nil
}
