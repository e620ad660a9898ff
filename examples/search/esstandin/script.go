package esstandin

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
)

// The stand-in's scripts: the part of Painless a ranking script_score uses, evaluated for real on every
// document the inner query matches. A script is one expression, optionally written `return expr;`:
//
//	literals      1, 2.5, 1e3, 'text', "text", true, false
//	variables     _score, params.name, params['name'], params.list[0], doc['field'].value,
//	              doc['field'].size(), doc['field'].empty
//	operators     ! - (unary); * / %; + -; < <= > >=; == !=; &&; ||; c ? a : b; ( )
//	functions     Math.log, log10, log1p, exp, sqrt, abs, floor, ceil, pow, min, max;
//	              saturation, sigmoid, decayNumericLinear, decayNumericExp, decayNumericGauss
//
// Numbers are Painless's long and double: an operation on two longs is a long (so 7 / 2 is 3), anything
// with a double is a double. doc values of long fields are longs, of float fields doubles holding the
// float32 value. == on strings compares their contents, as Painless does. Errors (a missing doc value,
// dividing a long by zero, a type mismatch) fail the search with a script_exception.

// maxScriptBytes bounds a script's source (script.max_size_in_bytes).
const maxScriptBytes = 65535

// maxScriptDepth bounds the parser's recursion.
const maxScriptDepth = 200

type script struct {
	source string
	root   expr
	params map[string]value
	nodes  int // expression nodes: the evaluation cost per document
}

func scriptError(status int, format string, args ...any) *esError {
	return errorf(status, "script_exception", format, args...)
}

// parseScriptSpec reads a script_score's "script": an object {source, params, lang} or a source string.
func parseScriptSpec(v any) (*script, *esError) {
	var source string
	params := map[string]value{}
	switch s := v.(type) {
	case string:
		source = s
	case map[string]any:
		for k, pv := range s {
			switch k {
			case "source":
				str, ok := pv.(string)
				if !ok {
					return nil, parseError("[script] source must be a string")
				}
				source = str
			case "lang":
				if pv != "painless" {
					return nil, illegalArgument("script_lang not supported [%v] (the stand-in runs painless expressions)", pv)
				}
			case "params":
				obj, ok := pv.(map[string]any)
				if !ok {
					return nil, parseError("[script] params must be an object")
				}
				for name, item := range obj {
					val, err := fromJSON(item)
					if err != nil {
						return nil, parseError("[script] params.%s: %v", name, err)
					}
					params[name] = val
				}
			case "id":
				return nil, illegalArgument("the stand-in has no stored scripts")
			default:
				return nil, parseError("[script] unknown field [%s]", k)
			}
		}
	default:
		return nil, parseError("[script] must be an object or a string")
	}
	if source == "" {
		return nil, parseError("must specify <inline> script source")
	}
	if len(source) > maxScriptBytes {
		return nil, illegalArgument("exceeded max allowed inline script size in bytes [%d] with size [%d]", maxScriptBytes, len(source))
	}
	root, nodes, err := compileScript(source)
	if err != nil {
		return nil, scriptError(http.StatusBadRequest, "compile error: %v", err)
	}
	return &script{source: source, root: root, params: params, nodes: nodes}, nil
}

// value is a Painless value: a long, a double, a string, a boolean, a list or map (params), a doc field
// accessor or null.
type value struct {
	kind kind
	i    int64
	f    float64
	s    string
	b    bool
	list []value
	obj  map[string]value
	doc  string // kind docField: the field's name
}

type kind uint8

const (
	nullKind kind = iota
	longKind
	doubleKind
	stringKind
	boolKind
	listKind
	mapKind
	docKind      // the doc variable
	docFieldKind // doc['field']
	paramsKind   // the params variable
	mathKind     // the Math class
)

func (k kind) String() string {
	return [...]string{"null", "long", "double", "String", "boolean", "List", "Map", "doc", "ScriptDocValues",
		"params", "Math"}[k]
}

func long(i int64) value     { return value{kind: longKind, i: i} }
func double(f float64) value { return value{kind: doubleKind, f: f} }
func boolean(b bool) value   { return value{kind: boolKind, b: b} }

func (v value) number() (float64, bool) {
	switch v.kind {
	case longKind:
		return float64(v.i), true
	case doubleKind:
		return v.f, true
	}
	return 0, false
}

// fromJSON converts a params value (decoded with UseNumber).
func fromJSON(v any) (value, error) {
	switch x := v.(type) {
	case nil:
		return value{}, nil
	case bool:
		return boolean(x), nil
	case string:
		return value{kind: stringKind, s: x}, nil
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return long(i), nil
		}
		f, err := x.Float64()
		if err != nil {
			return value{}, fmt.Errorf("bad number %s", x)
		}
		return double(f), nil
	case []any:
		out := value{kind: listKind, list: make([]value, len(x))}
		for i, item := range x {
			iv, err := fromJSON(item)
			if err != nil {
				return value{}, err
			}
			out.list[i] = iv
		}
		return out, nil
	case map[string]any:
		out := value{kind: mapKind, obj: make(map[string]value, len(x))}
		for k, item := range x {
			iv, err := fromJSON(item)
			if err != nil {
				return value{}, err
			}
			out.obj[k] = iv
		}
		return out, nil
	}
	return value{}, fmt.Errorf("unsupported value %T", v)
}

// ---- lexer

type tokKind uint8

const (
	tEOF tokKind = iota
	tNumber
	tString
	tIdent
	tPunct
)

type token struct {
	kind tokKind
	text string
	pos  int
}

func lex(src string) ([]token, error) {
	var toks []token
	for i := 0; i < len(src); {
		c := src[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case isDigit(c) || (c == '.' && i+1 < len(src) && isDigit(src[i+1])):
			j := i
			for j < len(src) && (isDigit(src[j]) || src[j] == '.') {
				j++
			}
			if j < len(src) && (src[j] == 'e' || src[j] == 'E') {
				j++
				if j < len(src) && (src[j] == '+' || src[j] == '-') {
					j++
				}
				for j < len(src) && isDigit(src[j]) {
					j++
				}
			}
			if j < len(src) && strings.IndexByte("dDfFlL", src[j]) >= 0 { // Painless suffixes: 2.0d, 1L
				j++
			}
			toks = append(toks, token{tNumber, src[i:j], i})
			i = j
		case c == '\'' || c == '"':
			var b strings.Builder
			j := i + 1
			for ; j < len(src) && src[j] != c; j++ {
				if src[j] == '\\' && j+1 < len(src) {
					j++
				}
				b.WriteByte(src[j])
			}
			if j >= len(src) {
				return nil, fmt.Errorf("unterminated string at %d", i)
			}
			toks = append(toks, token{tString, b.String(), i})
			i = j + 1
		case isIdentStart(c):
			j := i
			for j < len(src) && (isIdentStart(src[j]) || isDigit(src[j])) {
				j++
			}
			toks = append(toks, token{tIdent, src[i:j], i})
			i = j
		default:
			two := ""
			if i+1 < len(src) {
				two = src[i : i+2]
			}
			switch two {
			case "<=", ">=", "==", "!=", "&&", "||":
				toks = append(toks, token{tPunct, two, i})
				i += 2
				continue
			}
			if strings.IndexByte("()[].,?:+-*/%!<>;", c) < 0 {
				return nil, fmt.Errorf("unexpected character %q at %d", c, i)
			}
			toks = append(toks, token{tPunct, string(c), i})
			i++
		}
	}
	return append(toks, token{tEOF, "", len(src)}), nil
}

func isDigit(c byte) bool      { return '0' <= c && c <= '9' }
func isIdentStart(c byte) bool { return c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }

// ---- parser: precedence climbing over the Painless operators the stand-in knows

type parser struct {
	toks  []token
	pos   int
	nodes int
	depth int
}

func compileScript(src string) (expr, int, error) {
	toks, err := lex(src)
	if err != nil {
		return nil, 0, err
	}
	p := &parser{toks: toks}
	if p.peek().kind == tIdent && p.peek().text == "return" {
		p.pos++
	}
	e, err := p.expr()
	if err != nil {
		return nil, 0, err
	}
	if p.peekIs(";") {
		p.pos++
	}
	if t := p.peek(); t.kind != tEOF {
		return nil, 0, fmt.Errorf("unexpected %q at %d: the stand-in evaluates one expression (optionally `return expr;`)", t.text, t.pos)
	}
	return e, p.nodes, nil
}

func (p *parser) peek() token { return p.toks[p.pos] }

func (p *parser) peekIs(punct string) bool {
	t := p.toks[p.pos]
	return t.kind == tPunct && t.text == punct
}

func (p *parser) expect(punct string) error {
	if !p.peekIs(punct) {
		t := p.peek()
		return fmt.Errorf("expected %q at %d, found %q", punct, t.pos, t.text)
	}
	p.pos++
	return nil
}

func (p *parser) node(e expr) expr { p.nodes++; return e }

// binaryLevels lists the binary operators from the loosest to the tightest.
var binaryLevels = [][]string{{"||"}, {"&&"}, {"==", "!="}, {"<", "<=", ">", ">="}, {"+", "-"}, {"*", "/", "%"}}

func (p *parser) expr() (expr, error) {
	p.depth++
	defer func() { p.depth-- }()
	if p.depth > maxScriptDepth {
		return nil, fmt.Errorf("expression nested too deep")
	}
	cond, err := p.binary(0)
	if err != nil || !p.peekIs("?") {
		return cond, err
	}
	p.pos++
	then, err := p.expr()
	if err != nil {
		return nil, err
	}
	if err := p.expect(":"); err != nil {
		return nil, err
	}
	els, err := p.expr()
	if err != nil {
		return nil, err
	}
	return p.node(&ternary{cond, then, els}), nil
}

func (p *parser) binary(level int) (expr, error) {
	if level == len(binaryLevels) {
		return p.unary()
	}
	left, err := p.binary(level + 1)
	if err != nil {
		return nil, err
	}
	for {
		t := p.peek()
		op := ""
		if t.kind == tPunct {
			for _, o := range binaryLevels[level] {
				if t.text == o {
					op = o
				}
			}
		}
		if op == "" {
			return left, nil
		}
		p.pos++
		right, err := p.binary(level + 1)
		if err != nil {
			return nil, err
		}
		left = p.node(&binaryOp{op: op, left: left, right: right})
	}
}

func (p *parser) unary() (expr, error) {
	if p.peekIs("-") || p.peekIs("!") {
		op := p.peek().text
		p.pos++
		p.depth++
		defer func() { p.depth-- }()
		if p.depth > maxScriptDepth {
			return nil, fmt.Errorf("expression nested too deep")
		}
		operand, err := p.unary()
		if err != nil {
			return nil, err
		}
		return p.node(&unaryOp{op: op, operand: operand}), nil
	}
	return p.postfix()
}

func (p *parser) postfix() (expr, error) {
	e, err := p.primary()
	if err != nil {
		return nil, err
	}
	for {
		switch {
		case p.peekIs("."):
			p.pos++
			name := p.peek()
			if name.kind != tIdent {
				return nil, fmt.Errorf("expected a name after '.' at %d", name.pos)
			}
			p.pos++
			if p.peekIs("(") {
				args, err := p.args()
				if err != nil {
					return nil, err
				}
				e = p.node(&call{target: e, name: name.text, args: args})
			} else {
				e = p.node(&member{target: e, name: name.text})
			}
		case p.peekIs("["):
			p.pos++
			idx, err := p.expr()
			if err != nil {
				return nil, err
			}
			if err := p.expect("]"); err != nil {
				return nil, err
			}
			e = p.node(&indexOp{target: e, index: idx})
		default:
			return e, nil
		}
	}
}

func (p *parser) args() ([]expr, error) {
	if err := p.expect("("); err != nil {
		return nil, err
	}
	var args []expr
	for !p.peekIs(")") {
		if len(args) > 0 {
			if err := p.expect(","); err != nil {
				return nil, err
			}
		}
		a, err := p.expr()
		if err != nil {
			return nil, err
		}
		args = append(args, a)
	}
	p.pos++
	return args, nil
}

func (p *parser) primary() (expr, error) {
	t := p.peek()
	p.pos++
	switch t.kind {
	case tNumber:
		v, err := parseNumber(t.text)
		if err != nil {
			return nil, fmt.Errorf("bad number %q at %d", t.text, t.pos)
		}
		return p.node(&literal{v}), nil
	case tString:
		return p.node(&literal{value{kind: stringKind, s: t.text}}), nil
	case tIdent:
		switch t.text {
		case "true", "false":
			return p.node(&literal{boolean(t.text == "true")}), nil
		case "null":
			return p.node(&literal{value{}}), nil
		case "_score":
			return p.node(&scoreVar{}), nil
		case "doc":
			return p.node(&literal{value{kind: docKind}}), nil
		case "params":
			return p.node(&paramsVar{}), nil
		case "Math":
			return p.node(&literal{value{kind: mathKind}}), nil
		}
		if p.peekIs("(") {
			args, err := p.args()
			if err != nil {
				return nil, err
			}
			return p.node(&call{name: t.text, args: args}), nil
		}
		return nil, fmt.Errorf("cannot resolve symbol [%s] at %d", t.text, t.pos)
	case tPunct:
		if t.text == "(" {
			e, err := p.expr()
			if err != nil {
				return nil, err
			}
			return e, p.expect(")")
		}
	}
	if t.kind == tEOF {
		return nil, fmt.Errorf("unexpected end of script")
	}
	return nil, fmt.Errorf("unexpected %q at %d", t.text, t.pos)
}

func parseNumber(s string) (value, error) {
	last := s[len(s)-1]
	switch last {
	case 'l', 'L':
		i, err := strconv.ParseInt(s[:len(s)-1], 10, 64)
		return long(i), err
	case 'd', 'D', 'f', 'F':
		f, err := strconv.ParseFloat(s[:len(s)-1], 64)
		return double(f), err
	}
	if !strings.ContainsAny(s, ".eE") {
		i, err := strconv.ParseInt(s, 10, 64)
		return long(i), err
	}
	f, err := strconv.ParseFloat(s, 64)
	if math.IsInf(f, 0) {
		return value{}, fmt.Errorf("out of range")
	}
	return double(f), err
}
