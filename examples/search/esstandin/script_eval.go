package esstandin

import (
	"errors"
	"fmt"
	"math"
)

// env is what a script sees while it scores one document.
type env struct {
	ix     *index
	doc    int32
	score  float64
	params map[string]value
}

type expr interface {
	eval(e *env) (value, error)
}

type (
	literal   struct{ v value }
	scoreVar  struct{}
	paramsVar struct{}
	unaryOp   struct {
		op      string
		operand expr
	}
	binaryOp struct {
		op          string
		left, right expr
	}
	ternary struct{ cond, then, els expr }
	member  struct {
		target expr
		name   string
	}
	indexOp struct{ target, index expr }
	call    struct {
		target expr // nil: a script_score function
		name   string
		args   []expr
	}
)

func (l *literal) eval(*env) (value, error)      { return l.v, nil }
func (scoreVar) eval(e *env) (value, error)      { return double(e.score), nil }
func (paramsVar) eval(e *env) (value, error)     { return value{kind: paramsKind, obj: e.params}, nil }
func typeError(format string, args ...any) error { return fmt.Errorf(format, args...) }

func (u *unaryOp) eval(e *env) (value, error) {
	v, err := u.operand.eval(e)
	if err != nil {
		return value{}, err
	}
	switch {
	case u.op == "!" && v.kind == boolKind:
		return boolean(!v.b), nil
	case u.op == "-" && v.kind == longKind:
		return long(-v.i), nil
	case u.op == "-" && v.kind == doubleKind:
		return double(-v.f), nil
	}
	return value{}, typeError("cannot apply [%s] to type [%s]", u.op, v.kind)
}

func (t *ternary) eval(e *env) (value, error) {
	c, err := t.cond.eval(e)
	if err != nil {
		return value{}, err
	}
	if c.kind != boolKind {
		return value{}, typeError("cannot cast from [%s] to [boolean]", c.kind)
	}
	if c.b {
		return t.then.eval(e)
	}
	return t.els.eval(e)
}

var errDivideByZero = errors.New("/ by zero")

func (b *binaryOp) eval(e *env) (value, error) {
	l, err := b.left.eval(e)
	if err != nil {
		return value{}, err
	}
	if b.op == "&&" || b.op == "||" {
		if l.kind != boolKind {
			return value{}, typeError("cannot cast from [%s] to [boolean]", l.kind)
		}
		if l.b == (b.op == "||") {
			return l, nil
		}
		r, err := b.right.eval(e)
		if err != nil {
			return value{}, err
		}
		if r.kind != boolKind {
			return value{}, typeError("cannot cast from [%s] to [boolean]", r.kind)
		}
		return r, nil
	}
	r, err := b.right.eval(e)
	if err != nil {
		return value{}, err
	}
	if b.op == "==" || b.op == "!=" {
		eq, err := equal(l, r)
		if err != nil {
			return value{}, err
		}
		return boolean(eq == (b.op == "==")), nil
	}
	if l.kind == longKind && r.kind == longKind {
		x, y := l.i, r.i
		switch b.op {
		case "+":
			return long(x + y), nil
		case "-":
			return long(x - y), nil
		case "*":
			return long(x * y), nil
		case "/":
			if y == 0 {
				return value{}, errDivideByZero
			}
			return long(x / y), nil
		case "%":
			if y == 0 {
				return value{}, errDivideByZero
			}
			return long(x % y), nil
		}
	}
	x, okx := l.number()
	y, oky := r.number()
	if !okx || !oky {
		return value{}, typeError("cannot apply [%s] to types [%s] and [%s]", b.op, l.kind, r.kind)
	}
	switch b.op {
	case "+":
		return double(x + y), nil
	case "-":
		return double(x - y), nil
	case "*":
		return double(x * y), nil
	case "/":
		return double(x / y), nil
	case "%":
		return double(math.Mod(x, y)), nil
	case "<":
		return boolean(x < y), nil
	case "<=":
		return boolean(x <= y), nil
	case ">":
		return boolean(x > y), nil
	case ">=":
		return boolean(x >= y), nil
	}
	return value{}, typeError("unknown operator [%s]", b.op)
}

func equal(l, r value) (bool, error) {
	if x, ok := l.number(); ok {
		if y, ok := r.number(); ok {
			return x == y, nil
		}
		return false, nil
	}
	switch {
	case l.kind != r.kind:
		return false, nil
	case l.kind == stringKind:
		return l.s == r.s, nil
	case l.kind == boolKind:
		return l.b == r.b, nil
	case l.kind == nullKind:
		return true, nil
	}
	return false, typeError("cannot compare [%s] values", l.kind)
}

func (m *member) eval(e *env) (value, error) {
	t, err := m.target.eval(e)
	if err != nil {
		return value{}, err
	}
	switch t.kind {
	case paramsKind, mapKind:
		return t.obj[m.name], nil // a missing key is null, as Map.get
	case docFieldKind:
		switch m.name {
		case "value":
			return docValue(e, t.doc)
		case "empty":
			n, err := docSize(e, t.doc)
			return boolean(n == 0), err
		}
	case listKind:
		switch m.name {
		case "length":
			return long(int64(len(t.list))), nil
		case "empty":
			return boolean(len(t.list) == 0), nil
		}
	}
	return value{}, typeError("cannot access [%s] on type [%s]", m.name, t.kind)
}

func (x *indexOp) eval(e *env) (value, error) {
	t, err := x.target.eval(e)
	if err != nil {
		return value{}, err
	}
	i, err := x.index.eval(e)
	if err != nil {
		return value{}, err
	}
	switch {
	case t.kind == docKind && i.kind == stringKind:
		fm, ok := e.ix.mapping.fields[i.s]
		if !ok {
			return value{}, typeError("No field found for [%s] in mapping", i.s)
		}
		if fm.typ == textField {
			return value{}, typeError("Fielddata is disabled on [%s] in [%s]. Text fields are not optimised for operations that require per-document field data", i.s, e.ix.name)
		}
		return value{kind: docFieldKind, doc: i.s}, nil
	case (t.kind == paramsKind || t.kind == mapKind) && i.kind == stringKind:
		return t.obj[i.s], nil
	case t.kind == listKind && i.kind == longKind:
		if i.i < 0 || i.i >= int64(len(t.list)) {
			return value{}, typeError("Index %d out of bounds for length %d", i.i, len(t.list))
		}
		return t.list[i.i], nil
	}
	return value{}, typeError("cannot index type [%s] with [%s]", t.kind, i.kind)
}

const missingValue = "A document doesn't have a value for a field! Use doc[<field>].size()==0 to check if a document is missing a field!"

func docValue(e *env, field string) (value, error) {
	fm := e.ix.mapping.fields[field]
	if fm.typ == keywordField {
		values := e.ix.keyword[field].values[e.doc]
		if len(values) == 0 {
			return value{}, errString(missingValue)
		}
		return value{kind: stringKind, s: values[0]}, nil
	}
	v := e.ix.numeric[field][e.doc]
	if math.IsNaN(v) {
		return value{}, errString(missingValue)
	}
	if fm.typ == longField {
		return long(int64(v)), nil
	}
	return double(v), nil
}

func docSize(e *env, field string) (int, error) {
	if e.ix.mapping.fields[field].typ == keywordField {
		return len(e.ix.keyword[field].values[e.doc]), nil
	}
	if math.IsNaN(e.ix.numeric[field][e.doc]) {
		return 0, nil
	}
	return 1, nil
}

func (c *call) eval(e *env) (value, error) {
	var target value
	if c.target != nil {
		var err error
		if target, err = c.target.eval(e); err != nil {
			return value{}, err
		}
	}
	var buf [5]value // the functions take at most 5 arguments: no allocation
	args := buf[:0]
	if len(c.args) > len(buf) {
		args = make([]value, 0, len(c.args))
	}
	args = args[:len(c.args)]
	for i, a := range c.args {
		v, err := a.eval(e)
		if err != nil {
			return value{}, err
		}
		args[i] = v
	}
	switch {
	case c.target == nil:
		return scoreFunction(c.name, args)
	case target.kind == mathKind:
		return mathFunction(c.name, args)
	case target.kind == docFieldKind && len(args) == 0 && (c.name == "size" || c.name == "isEmpty"):
		n, err := docSize(e, target.doc)
		if c.name == "size" {
			return long(int64(n)), err
		}
		return boolean(n == 0), err
	case target.kind == listKind && c.name == "size" && len(args) == 0:
		return long(int64(len(target.list))), nil
	case target.kind == listKind && c.name == "get" && len(args) == 1 && args[0].kind == longKind:
		if args[0].i < 0 || args[0].i >= int64(len(target.list)) {
			return value{}, typeError("Index %d out of bounds for length %d", args[0].i, len(target.list))
		}
		return target.list[args[0].i], nil
	case target.kind == listKind && c.name == "contains" && len(args) == 1:
		for _, item := range target.list {
			if eq, _ := equal(item, args[0]); eq {
				return boolean(true), nil
			}
		}
		return boolean(false), nil
	case (target.kind == mapKind || target.kind == paramsKind) && len(args) == 1 && args[0].kind == stringKind:
		switch c.name {
		case "get":
			return target.obj[args[0].s], nil
		case "containsKey":
			_, ok := target.obj[args[0].s]
			return boolean(ok), nil
		}
	}
	return value{}, typeError("dynamic method [%s, %s/%d] not found", target.kind, c.name, len(args))
}

func numbers(name string, args []value, n int) ([5]float64, error) {
	var out [5]float64
	if len(args) != n || n > len(out) {
		return out, typeError("unknown call [%s] with [%d] arguments", name, len(args))
	}
	for i, a := range args {
		f, ok := a.number()
		if !ok {
			return out, typeError("cannot cast from [%s] to [double] in [%s]", a.kind, name)
		}
		out[i] = f
	}
	return out, nil
}

// mathUnary and mathBinary are the Math functions a script may call on doubles, by name.
var (
	mathUnary = map[string]func(float64) float64{
		"log": math.Log, "log10": math.Log10, "log1p": math.Log1p, "exp": math.Exp,
		"sqrt": math.Sqrt, "abs": math.Abs, "floor": math.Floor, "ceil": math.Ceil,
	}
	mathBinary = map[string]func(float64, float64) float64{"pow": math.Pow, "max": math.Max, "min": math.Min}
)

func mathFunction(name string, args []value) (value, error) {
	if (name == "max" || name == "min" || name == "abs") && len(args) > 0 {
		allLong := true
		for _, a := range args {
			allLong = allLong && a.kind == longKind
		}
		if allLong {
			switch {
			case name == "abs" && len(args) == 1:
				return long(max(args[0].i, -args[0].i)), nil
			case name == "max" && len(args) == 2:
				return long(max(args[0].i, args[1].i)), nil
			case name == "min" && len(args) == 2:
				return long(min(args[0].i, args[1].i)), nil
			}
		}
	}
	if f, ok := mathUnary[name]; ok {
		x, err := numbers("Math."+name, args, 1)
		if err != nil {
			return value{}, err
		}
		return double(f(x[0])), nil
	}
	if f, ok := mathBinary[name]; ok {
		x, err := numbers("Math."+name, args, 2)
		if err != nil {
			return value{}, err
		}
		return double(f(x[0], x[1])), nil
	}
	return value{}, typeError("unknown call [Math.%s] with [%d] arguments", name, len(args))
}

// scoreFunction runs the functions Elasticsearch gives script_score scripts, with its formulas.
func scoreFunction(name string, args []value) (value, error) {
	switch name {
	case "saturation":
		x, err := numbers(name, args, 2)
		if err != nil {
			return value{}, err
		}
		return double(x[0] / (x[1] + x[0])), nil
	case "sigmoid":
		x, err := numbers(name, args, 3)
		if err != nil {
			return value{}, err
		}
		va := math.Pow(x[0], x[2])
		return double(va / (math.Pow(x[1], x[2]) + va)), nil
	case "decayNumericLinear", "decayNumericExp", "decayNumericGauss":
		x, err := numbers(name, args, 5)
		if err != nil {
			return value{}, err
		}
		origin, scale, offset, decay, v := x[0], x[1], x[2], x[3], x[4]
		distance := math.Max(0, math.Abs(v-origin)-offset)
		switch name {
		case "decayNumericLinear":
			scaling := scale / (1.0 - decay)
			return double(math.Max(0, (scaling-distance)/scaling)), nil
		case "decayNumericExp":
			return double(math.Exp(math.Log(decay) / scale * distance)), nil
		default:
			scaling := 0.5 * math.Pow(scale, 2) / math.Log(decay)
			return double(math.Exp(0.5 * math.Pow(distance, 2) / scaling)), nil
		}
	}
	return value{}, typeError("unknown call [%s] with [%d] arguments", name, len(args))
}

// run evaluates the script for one document and returns its score as a double.
func (s *script) run(e *env) (float64, error) {
	e.params = s.params
	v, err := s.root.eval(e)
	if err != nil {
		return 0, err
	}
	f, ok := v.number()
	if !ok {
		return 0, typeError("cannot cast from [%s] to [double]: a score script must return a number", v.kind)
	}
	return f, nil
}
