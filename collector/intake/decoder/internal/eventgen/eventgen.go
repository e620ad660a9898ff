// Package eventgen writes the decoders of the intake v2 schema's objects (the decoder package's
// events_gen.go) from one template, events.go.tmpl, and one table of their members (schema.go): the
// transaction, span, error, metricset and log lines and the objects nested in them, and the ECS fields
// of log lines, flat or in the objects their keys imply. The template holds
// what every object's decoder does (read its members with one switch over their keys, skip unknown
// ones, name the object in a decode error, check its required members once it ended); the table says,
// member by member, how a value is read and which flag records that it was given, and which rules
// the object's members must meet. Decoding an object thus costs one switch on its keys, as a
// hand-written decoder does, while the handling every object shares is written once. Run go generate
// in collector/intake/decoder after changing either; TestEventsGeneratedIsCurrent fails until you do.
package eventgen

import (
	"bytes"
	_ "embed"
	"fmt"
	"go/format"
	"go/token"
	"strings"
	"text/template"
)

//go:embed events.go.tmpl
var eventsTemplate string

// An object is one object of the schema, decoded by a method of the decoder.
type object struct {
	Name     string // the method
	Params   string // its parameters
	Doc      string // its doc comment, after the method's name
	TypeName string // apm-data's struct (a Go expression), named in decode errors
	Before   string // statements before the object is read
	Members  []member
	Default  string // the statement reading the value of any other key, key (by default it is skipped)
	Rules    []rule // checked in order once the object ended, when it had a member; the first broken one fails
	After    string // statements once the object ended without a syntax error; set says if it had a member

	Flags []string // the local flags of the members, declared by Generate
}

// A member is a key of an object and the statement that reads its value, setting ok unless the value
// was null.
type member struct {
	Key  string
	Read string
	// Flag records that the member was given: a local variable (declared for it) or a field, set once a
	// value was not null, or with Last, set to whether the last value was not null.
	Flag string
	Last bool
}

// A rule is a condition the members of an object must meet, and the validation message when they do
// not. A rule with Required set is that the member of that key was given.
type rule struct {
	Required  string
	Cond, Msg string
}

// kw, text, optInt, optBool and keyValues read a member's value into dst with the decoder's method
// of that name.
func kw(key, dst string) member { return read(key, fmt.Sprintf("ok = d.kw(&%s, %q)", dst, key)) }

func text(key, dst string) member { return read(key, fmt.Sprintf("ok = d.text(&%s)", dst)) }

func optInt(key, dst string) member { return read(key, fmt.Sprintf("ok = d.optInt(&%s)", dst)) }

func optBool(key, dst string) member { return read(key, fmt.Sprintf("ok = d.optBool(&%s)", dst)) }

func keyValues(key, dst string) member {
	return read(key, fmt.Sprintf("ok = d.keyValues(&%s)", dst))
}

// nested reads an object with call, with key added to the validation path.
func nested(key, call string) member {
	return read(key, fmt.Sprintf("d.v.push(%q)\nok = %s\nd.v.pop()", key, call))
}

// read reads a member's value with the statement code, which sets ok unless the value was null.
func read(key, code string) member { return member{Key: key, Read: code} }

// flag records in f that the member was given a value that was not null.
func (m member) flag(f string) member { m.Flag = f; return m }

// last records in f whether the member's last value was not null.
func (m member) last(f string) member { m.Flag, m.Last = f, true; return m }

// readAs reads a value of type typ with call (returning it and ok) and, unless it was null, assigns
// it, v, with the statement assign.
func readAs(key, typ, call, assign string) member {
	return read(key, fmt.Sprintf("var v %s\nif v, ok = %s; ok {\n%s\n}", typ, call, assign))
}

func intAs(key, assign string) member { return readAs(key, "int64", "s.int()", assign) }

// required is the rules that the members of keys were given, in that order.
func required(keys ...string) []rule {
	r := make([]rule, len(keys))
	for i, k := range keys {
		r[i] = rule{Required: k}
	}
	return r
}

// Generate returns the source of events_gen.go.
func Generate() ([]byte, error) {
	tmpl, err := template.New("events").Funcs(template.FuncMap{"ecsFunc": ecsFunc}).Parse(eventsTemplate)
	if err != nil {
		return nil, fmt.Errorf("eventgen: %w", err)
	}
	objs := schema()
	for i := range objs {
		if err := resolve(&objs[i]); err != nil {
			return nil, err
		}
	}
	var out bytes.Buffer
	if err := tmpl.Execute(&out, map[string]any{"Objects": objs, "ECS": ecsObjects(logFields())}); err != nil {
		return nil, fmt.Errorf("eventgen: %w", err)
	}
	src, err := format.Source(out.Bytes())
	if err != nil {
		return nil, fmt.Errorf("eventgen: the generated code does not parse: %w\n%s", err, out.Bytes())
	}
	return src, nil
}

// resolve declares the object's local flags and turns its Required rules into conditions.
func resolve(o *object) error {
	flags := map[string]string{}
	for _, m := range o.Members {
		if m.Flag == "" {
			continue
		}
		if _, dup := flags[m.Key]; dup {
			return fmt.Errorf("eventgen: %s: member %q twice", o.Name, m.Key)
		}
		flags[m.Key] = m.Flag
		if token.IsIdentifier(m.Flag) {
			o.Flags = append(o.Flags, m.Flag)
		}
	}
	for i, r := range o.Rules {
		if r.Required == "" {
			continue
		}
		f, ok := flags[r.Required]
		if !ok {
			return fmt.Errorf("eventgen: %s: required member %q has no flag", o.Name, r.Required)
		}
		o.Rules[i] = rule{Cond: "!" + f, Msg: "'" + r.Required + "' required"}
	}
	return nil
}

// An ecsField is a field of a log event that comes flat, under its dotted key ("log.level"), or nested,
// in objects named by the key's parts ({"log": {"level": ...}}): the logFields member it is read into,
// or, with Line, the source line (a number). A keyword is at most 1024 characters long; Into is the
// event's field its value goes straight into, if any.
type ecsField struct {
	Key, Field, Into string
	Keyword, Line    bool
}

// An ecsObject is an object of the nested form: its path and the fields and objects it holds, by their
// keys in it.
type ecsObject struct {
	Path    string
	Fields  []ecsMember
	Objects []ecsMember
}

// An ecsMember is a member of an ecsObject: a field, or an object named by its method.
type ecsMember struct {
	Key   string
	Field ecsField
	Func  string
}

// ecsObjects returns the flat form's fields as the root's (path "") and the objects of the nested form,
// which the fields' keys imply.
func ecsObjects(fields []ecsField) []ecsObject {
	objs := []ecsObject{{}}
	index := map[string]int{"": 0}
	for _, f := range fields {
		objs[0].Fields = append(objs[0].Fields, ecsMember{Key: f.Key, Field: f})
		parts := strings.Split(f.Key, ".")
		for i := range parts {
			parent := strings.Join(parts[:i], ".")
			if i == len(parts)-1 {
				if i > 0 {
					o := &objs[index[parent]]
					o.Fields = append(o.Fields, ecsMember{Key: parts[i], Field: f})
				}
				break
			}
			path := strings.Join(parts[:i+1], ".")
			if _, ok := index[path]; !ok {
				index[path] = len(objs)
				objs = append(objs, ecsObject{Path: path})
				o := &objs[index[parent]]
				o.Objects = append(o.Objects, ecsMember{Key: parts[i], Func: ecsFunc(path)})
			}
		}
	}
	return objs
}

// ecsFunc is the name of the method reading the nested form's object at path: ecsLogOrigin for
// log.origin.
func ecsFunc(path string) string {
	name := "ecs"
	for _, p := range strings.FieldsFunc(path, func(r rune) bool { return r == '.' || r == '_' }) {
		name += strings.ToUpper(p[:1]) + p[1:]
	}
	return name
}
