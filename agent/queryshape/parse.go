package queryshape

import (
	"crypto/sha256"
	"encoding/hex"

	"github.com/hotpath-apm/hotpath/agent/internal/jsonscan"
)

// Bounds of the parse: whatever the body, a shape costs time linear in its first MaxBody bytes and a tree
// of at most that many nodes, usually far fewer.
const (
	// MaxBody is how many bytes of a body are read; a longer body is shaped from its first MaxBody bytes
	// and marked truncated.
	MaxBody = 1 << 20
	// maxDepth is the deepest value kept: a deeper one is skipped (its brackets counted, nothing kept)
	// and shows as "…" in the shape. Real queries nest a dozen levels at most.
	maxDepth = 48
	// maxKeys is how many keys of one object are kept; later keys are read and skipped, and the object
	// is marked as having more ("…").
	maxKeys = 64
	// maxDistinct is how many distinct element shapes of one array are kept; elements of other shapes
	// are read, counted and marked as more ("…").
	maxDistinct = 16
	// maxKept bounds a kept string (a field name, an option's value): longer ones are cut.
	maxKept = 96
)

var (
	errShort  = jsonscan.ErrShort
	errSyntax = jsonscan.ErrSyntax
)

// node is a shaped value: an object (keys sorted, each with its value's shape), an array (the merged
// shape of each kind of element, and its length bucket), a scalar (a placeholder or kept values), or a
// union (the shapes of a position that held values of different JSON types in like elements).
type node struct {
	kind  byte     // 'o', 'a', 's' or 'u'
	text  string   // scalar: its canonical text ("?", a kept string quoted, a bucket, a script hash), or texts joined
	texts []string // scalar merged from like elements: its distinct texts, sorted (text is then unused)
	keys  []string
	vals  []*node
	elems []*node // array: one per kind of element; union: one per JSON type
	n     int     // array length
	more  bool    // keys, elements or depth past a bound
	canon string  // canonical form, computed once (canonical)
}

// mode says how the scalars inside a value are kept.
type mode uint8

const (
	modeLiteral mode = iota // scalars are literals: removed
	modeKeep                // strings are names (field names, option values): kept; numbers removed
	modeSort                // like modeKeep, through the whole subtree
	modeScript              // a script: source hashed, id and lang kept, params removed
)

// parser reads one JSON value from b, building its shape.
type parser struct {
	jsonscan.Scanner
	// unesc is scratch space for unescaping kept strings.
	unesc []byte
	// lit is the shape of every removed literal, shared (never changed).
	lit node
	// slab holds nodes not yet used: allocated a few dozen at a time.
	slab []node
	// names interns keys: a body repeats a few ("match", "query", "boost") many times.
	names map[string]string
}

// node returns a new node of kind.
func (p *parser) node(kind byte) *node {
	if len(p.slab) == 0 {
		p.slab = make([]node, 32)
	}
	n := &p.slab[0]
	p.slab = p.slab[1:]
	n.kind = kind
	return n
}

// name returns key as a string, interned.
func (p *parser) name(key []byte) string {
	if s, ok := p.names[string(key)]; ok {
		return s
	}
	if p.names == nil {
		p.names = make(map[string]string, 32)
	}
	s := string(key)
	if len(p.names) < 1024 {
		p.names[s] = s
	}
	return s
}

// value parses one value with the given mode, depth levels down, under key (the key of the member
// holding it, or of the array holding it).
func (p *parser) value(key string, m mode, depth int) (*node, error) {
	c, err := p.Peek()
	if err != nil {
		return nil, err
	}
	if depth >= maxDepth && (c == '{' || c == '[') {
		if err := p.SkipValue(); err != nil {
			return nil, err
		}
		return p.scalar("…"), nil
	}
	switch {
	case c == '{':
		return p.object(key, m, depth)
	case c == '[':
		return p.array(key, m, depth)
	case c == '"':
		raw, escaped, err := p.Str()
		if err != nil {
			return nil, err
		}
		return p.scalar(p.stringText(key, m, raw, escaped)), nil
	case c == 't' || c == 'f' || c == 'n':
		word, err := p.Literal()
		if err != nil {
			return nil, err
		}
		if c != 'n' && (m == modeSort || keepBool[key]) {
			return p.scalar(word), nil
		}
		return &p.lit, nil
	case c == '-' || '0' <= c && c <= '9':
		v, err := p.number()
		if err != nil {
			return nil, err
		}
		if bucketKeys[key] && m != modeScript || m == modeKeep && keepKeys[key] {
			return p.scalar(sizeBucket(v)), nil
		}
		return &p.lit, nil
	}
	return nil, errSyntax
}

// scalar returns the node of a scalar shown as text.
func (p *parser) scalar(text string) *node {
	if text == "?" {
		return &p.lit
	}
	n := p.node('s')
	n.text = text
	return n
}

// stringText is the canonical text of a string value.
func (p *parser) stringText(key string, m mode, raw []byte, escaped bool) string {
	switch {
	case m == modeScript && (key == "source" || key == "inline"):
		return scriptHash(p.unescape(raw, escaped, -1))
	case m == modeScript && (key == "id" || key == "lang"), m == modeKeep, m == modeSort:
		s := p.unescape(raw, escaped, maxKept)
		if key == "fields" || key == "default_field" || m == modeKeep && fieldListKeys[key] {
			s = stripBoost(s)
		}
		return quote(s)
	case key == "script": // the short form: "script": "source"
		return scriptHash(p.unescape(raw, escaped, -1))
	}
	return "?"
}

// scriptHash names a script's source by the first 8 bytes of its SHA-256, hex: the same source is the
// same script wherever it is sent from.
func scriptHash(source []byte) string {
	sum := sha256.Sum256(source)
	return "script:" + hex.EncodeToString(sum[:8])
}

// stripBoost removes a per-field boost ("title^3" -> "title"): a literal, not structure.
func stripBoost(s []byte) []byte {
	for i := len(s) - 1; i > 0; i-- {
		if s[i] == '^' {
			return s[:i]
		}
		if !(s[i] >= '0' && s[i] <= '9' || s[i] == '.') {
			break
		}
	}
	return s
}

// open consumes the opening bracket of an object or array and, if the next byte is its closing
// bracket, that too: empty reports it.
func (p *parser) open(closing byte) (empty bool, err error) {
	p.I++
	c, err := p.Peek()
	if err != nil || c != closing {
		return false, err
	}
	p.I++
	return true, nil
}

// object parses an object, the value of objKey.
func (p *parser) object(objKey string, m mode, depth int) (*node, error) {
	n := p.node('o')
	if empty, err := p.open('}'); empty || err != nil {
		return n, err
	}
	for {
		raw, escaped, err := p.Str()
		if err != nil {
			return n, err
		}
		if err := p.Expect(':'); err != nil {
			return n, err
		}
		key := p.name(p.unescape(raw, escaped, maxKept))
		var child *node
		if m != modeSort && fieldMember(objKey, key) {
			// term: {category: ...}: the key is a field; its value is a literal, or an object of options.
			child, err = p.value("", modeLiteral, depth+1)
		} else {
			child, err = p.member(key, m, depth)
		}
		if child != nil {
			if len(n.keys) < maxKeys && !n.has(key) {
				n.keys = append(n.keys, key)
				n.vals = append(n.vals, child)
			} else if !n.has(key) {
				n.more = true
			}
		}
		if err != nil {
			return n, err
		}
		if last, err := p.Next('}'); last || err != nil {
			return n, err
		}
	}
}

// has reports whether the object already holds key (a repeated key: Elasticsearch refuses or takes
// the last one; the shape keeps the first).
func (n *node) has(key string) bool {
	for _, k := range n.keys {
		if k == key {
			return true
		}
	}
	return false
}

// member parses the value of key in an object of mode m: the key decides the mode of its value.
func (p *parser) member(key string, m mode, depth int) (*node, error) {
	switch {
	case m == modeScript && key == "params":
		// A script's params are its arguments: literals, however they are structured.
		if err := p.SkipValue(); err != nil {
			return nil, err
		}
		return &p.lit, nil
	case key == "script" && m != modeScript:
		c, err := p.Peek()
		if err != nil {
			return nil, err
		}
		if c == '{' {
			return p.value(key, modeScript, depth+1)
		}
		return p.value(key, modeLiteral, depth+1)
	case m == modeSort:
		return p.value(key, modeSort, depth+1)
	case key == "sort":
		return p.value(key, modeSort, depth+1)
	case keepKeys[key] || m == modeKeep && fieldListKeys[key]:
		return p.value(key, modeKeep, depth+1)
	case m == modeScript:
		return p.value(key, modeScript, depth+1)
	}
	return p.value(key, modeLiteral, depth+1)
}

func (p *parser) array(key string, m mode, depth int) (*node, error) {
	n := p.node('a')
	if empty, err := p.open(']'); empty || err != nil {
		return n, err
	}
	for {
		child, err := p.value(key, m, depth+1)
		if child != nil {
			n.n++
			p.addElem(n, child)
		}
		if err != nil {
			return n, err
		}
		if last, err := p.Next(']'); last || err != nil {
			return n, err
		}
	}
}

// number reads a number and returns its value if it is a non-negative integer (else -1).
func (p *parser) number() (int64, error) {
	start := p.I
	v, integer := int64(0), true
	if p.B[p.I] == '-' {
		integer = false
		p.I++
	}
	digits := 0
	for ; p.I < len(p.B); p.I++ {
		c := p.B[p.I]
		switch {
		case '0' <= c && c <= '9':
			digits++
			if v <= (1<<62)/10 {
				v = v*10 + int64(c-'0')
			}
			continue
		case c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-':
			integer = false
			continue
		}
		break
	}
	if p.I >= len(p.B) {
		return 0, errShort // the number may go on
	}
	if digits == 0 || p.I == start {
		return 0, errSyntax
	}
	if !integer {
		return -1, nil
	}
	return v, nil
}
