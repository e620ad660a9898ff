package sqlshape_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/hotpath-apm/hotpath/agent/queryshape"
	"github.com/hotpath-apm/hotpath/collector/sqlshape"
)

var update = flag.Bool("update", false, "rewrite testdata/golden.json")

var hexID = regexp.MustCompile(`^[0-9a-f]{16}$`)

// checkShape checks what every shape must be: a 16-hex-digit id, a summary of at most MaxSummary
// bytes of valid UTF-8, and the same shape for the same statement.
func checkShape(t *testing.T, dialect, statement string, s queryshape.Shape) {
	t.Helper()
	if !hexID.MatchString(s.ID) || len(s.Summary) > queryshape.MaxSummary || !utf8.ValidString(s.Summary) ||
		!utf8.ValidString(s.Canonical) || s.Canonical == "" {
		t.Errorf("%q: %+v", statement, s)
	}
	if again, _ := sqlshape.Statement(dialect, statement); again != s {
		t.Errorf("%q: shaped twice, %+v and %+v", statement, s, again)
	}
}

// Statements that differ only in their literals share a shape; statements of another structure never do.
func TestStatementLiterals(t *testing.T) {
	groups := []struct {
		dialect string
		same    []string
	}{
		{"postgresql", []string{
			"SELECT * FROM users WHERE id = 1",
			"select *  from users where id=42 -- the admin",
			"SELECT * FROM users WHERE id = $1",
			"/* from the api */ SELECT * FROM users WHERE id = 'x'",
		}},
		{"postgresql", []string{
			"SELECT * FROM users WHERE id IN (1, 2, 3)",
			"SELECT * FROM users WHERE id IN (7)",
			"SELECT * FROM users WHERE id IN ($1, $2)",
		}},
		{"mysql", []string{
			"SELECT name FROM users WHERE name = 'O''Brien' AND active = true",
			"SELECT name FROM users WHERE name = \"Ann\" AND active = false",
		}},
		{"sqlite3", []string{
			"SELECT u.name AS n FROM users u JOIN orders o ON o.user_id = u.id WHERE o.total > 10.5 ORDER BY n LIMIT 10",
			"SELECT u.name AS n FROM users u JOIN orders o ON o.user_id = u.id WHERE o.total > 3 ORDER BY n LIMIT 20",
		}},
		{"sqlite3", []string{
			"INSERT INTO t (a, b) VALUES (1, 'x')",
			"insert into t (a, b) values (2, 'y')",
			"INSERT INTO t (a, b) VALUES (?, ?)",
		}},
		{"sqlite3", []string{"SELECT * FROM orders_2025"}},
		{"sqlite3", []string{"SELECT * FROM orders_2026"}},
		{"sqlite3", []string{"SELECT * FROM users WHERE id = 1 OR id IS NULL"}},
		{"sqlite3", []string{"SELECT * FROM users WHERE id = 1 OR id IS NOT NULL"}},
		{"sqlite3", []string{"SELECT * FROM users WHERE id = 1 ORDER BY name"}},
		{"sqlite3", []string{"SELECT id FROM users WHERE id = 1"}},
		{"sqlite3", []string{"INSERT INTO t (a, b) VALUES (1, 'x'), (2, 'y')"}},
		{"sqlite3", []string{"UPDATE users SET name = 'x' WHERE id = 1"}},
		{"sqlite3", []string{"DELETE FROM users WHERE id = 1"}},
	}
	owner := map[string]int{}
	for i, g := range groups {
		var first queryshape.Shape
		for j, stmt := range g.same {
			s, ok := sqlshape.Statement(g.dialect, stmt)
			if !ok {
				t.Fatalf("%q: no shape", stmt)
			}
			checkShape(t, g.dialect, stmt, s)
			if s.Truncated {
				t.Errorf("%q: truncated", stmt)
			}
			if j == 0 {
				first = s
				if k, seen := owner[s.ID]; seen {
					t.Errorf("%q (group %d) has the shape of group %d: %s", stmt, i, k, s.Canonical)
				}
				owner[s.ID] = i
			} else if s != first {
				t.Errorf("%q: %s, want the shape of %q: %s", stmt, s.Canonical, g.same[0], first.Canonical)
			}
		}
	}
}

// Statements with nothing to shape have no shape.
func TestStatementEmpty(t *testing.T) {
	for _, stmt := range []string{"", "   \n\t", "-- only a comment", "/* and this */"} {
		if s, ok := sqlshape.Statement("postgresql", stmt); ok {
			t.Errorf("%q: %+v", stmt, s)
		}
	}
}

// MaxStatement characters are read: a statement of that many is taken as cut (the agents' limit), one
// fewer is whole, one more is shaped as its first MaxStatement; characters, not bytes.
func TestStatementLimit(t *testing.T) {
	for _, unit := range []string{"a", "é", "日"} {
		stmt := func(chars int) string {
			return "SELECT " + strings.Repeat(unit, chars-len("SELECT ")-len(" FROM t")) + " FROM t"
		}
		under, _ := sqlshape.Statement("", stmt(sqlshape.MaxStatement-1))
		at, _ := sqlshape.Statement("", stmt(sqlshape.MaxStatement))
		over, _ := sqlshape.Statement("", stmt(sqlshape.MaxStatement)+"x")
		if under.Truncated || !at.Truncated || !over.Truncated || at != over || under.ID == at.ID {
			t.Errorf("%q: under %v, at %v, over %v, at == over %v", unit, under.Truncated, at.Truncated, over.Truncated, at == over)
		}
		if !strings.HasSuffix(at.Canonical, "✂") {
			t.Errorf("%q: a cut statement's canonical form ends %q", unit, at.Canonical[len(at.Canonical)-10:])
		}
	}
}

// A summary is the normalised statement, whole up to MaxSummary bytes, else cut on a character
// boundary and ending with "…".
func TestStatementSummaryLimit(t *testing.T) {
	// "SELECT a FROM " is 14 bytes; the table's name makes the rest.
	for _, tc := range []struct {
		name  string
		whole bool
	}{
		{strings.Repeat("t", queryshape.MaxSummary-14), true},
		{strings.Repeat("t", queryshape.MaxSummary-13), false},
		{strings.Repeat("t", queryshape.MaxSummary-16) + "日本", false}, // 日 straddles the cut
	} {
		stmt := "SELECT a FROM " + tc.name
		s, ok := sqlshape.Statement("", stmt)
		if !ok {
			t.Fatalf("%q: no shape", stmt)
		}
		checkShape(t, "", stmt, s)
		if whole := s.Summary == stmt; whole != tc.whole || s.Canonical != stmt {
			t.Errorf("%d bytes: summary %q (%d bytes), canonical %q", len(stmt), s.Summary, len(s.Summary), s.Canonical)
		}
		if !tc.whole && (!strings.HasSuffix(s.Summary, "…") || !strings.HasPrefix(stmt, strings.TrimSuffix(s.Summary, "…"))) {
			t.Errorf("%d bytes: summary %q", len(stmt), s.Summary)
		}
	}
}

// goldenStatements are the statements whose ids TestGolden pins.
var goldenStatements = map[string]struct{ dialect, statement string }{
	"pg-select-by-id":   {"postgresql", "SELECT id, name, price FROM products WHERE id = $1"},
	"pg-in-list":        {"postgresql", "SELECT * FROM products WHERE category_id IN (3, 4, 5) AND price < 100.0"},
	"pg-dollar-quoted":  {"postgresql", "SELECT $tag$it's$tag$ AS s"},
	"mysql-insert":      {"mysql", "INSERT INTO orders (user_id, total, note) VALUES (12, 99.5, 'gift')"},
	"mysql-backticks":   {"mysql", "SELECT `name` FROM `users` WHERE `id` = 7"},
	"sqlite-join":       {"sqlite3", "SELECT u.name, COUNT(*) FROM users u JOIN orders o ON o.user_id = u.id GROUP BY u.name HAVING COUNT(*) > 2"},
	"sqlite-update":     {"sqlite3", "UPDATE products SET stock = stock - 1 WHERE id = ? AND stock > 0"},
	"mssql-top":         {"mssql", "SELECT TOP 10 * FROM [dbo].[Orders] WHERE [Total] > @p1"},
	"generic-long":      {"", "SELECT " + strings.Repeat("column_with_a_long_name, ", 8) + "id FROM a_table_with_a_long_name WHERE id = 1"},
	"generic-multiline": {"", "SELECT *\n  FROM events\n WHERE at >= '2026-01-01'\n   AND kind = 'click'\n ORDER BY at DESC\n LIMIT 50"},
}

// TestGolden pins the shapes of goldenStatements: an id that changes breaks every stored aggregate, so
// a change of the rules (or of go-sqllexer's output) must change Version, on purpose (refresh with
// -update).
func TestGolden(t *testing.T) {
	got := map[string]queryshape.Shape{}
	for name, st := range goldenStatements {
		s, ok := sqlshape.Statement(st.dialect, st.statement)
		if !ok {
			t.Fatalf("%s: no shape", name)
		}
		checkShape(t, st.dialect, st.statement, s)
		got[name] = s
	}
	golden := filepath.Join("testdata", "golden.json")
	if *update {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		if err := enc.Encode(got); err != nil || os.WriteFile(golden, buf.Bytes(), 0o644) != nil {
			t.Fatalf("writing %s: %v", golden, err)
		}
	}
	b, err := os.ReadFile(golden)
	var want map[string]queryshape.Shape
	if err == nil {
		err = json.Unmarshal(b, &want)
	}
	if err != nil || len(want) != len(got) {
		t.Fatalf("%s: %d shapes, want %d (%v)", golden, len(want), len(got), err)
	}
	for name, s := range got {
		if want[name] != s {
			t.Errorf("%s: %+v, was %+v in %s (run with -update if the change is meant, and change Version)", name, s, want[name], golden)
		}
	}
}

// FuzzStatement: whatever the input, a shape is well formed and the same every time, or there is none;
// never a panic.
func FuzzStatement(f *testing.F) {
	for _, st := range goldenStatements {
		f.Add(st.dialect, st.statement)
	}
	f.Add("postgresql", "SELECT 'unterminated")
	f.Add("mysql", "\xff\xfeSELECT \x00 /*")
	f.Add("", strings.Repeat("(", 5000))
	f.Fuzz(func(t *testing.T, dialect, statement string) {
		s, ok := sqlshape.Statement(dialect, statement)
		if ok {
			checkShape(t, dialect, statement, s)
		}
	})
}

func BenchmarkStatement(b *testing.B) {
	stmt := goldenStatements["sqlite-join"].statement
	b.ReportAllocs()
	b.SetBytes(int64(len(stmt)))
	for b.Loop() {
		sqlshape.Statement("sqlite3", stmt)
	}
}
