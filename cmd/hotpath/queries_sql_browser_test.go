package main

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"go.elastic.co/apm/module/apmsql/v2"
	"go.elastic.co/apm/v2"
	"modernc.org/sqlite"

	"github.com/hotpath-apm/hotpath/collector/sqlshape"
)

// openTracedSQLite opens a SQLite database in dir through the Elastic agent's apmsql, wrapping
// modernc.org/sqlite (pure Go): every statement run with a transaction in its context is a span, its
// statement in db.statement, db.type sql, subtype sqlite.
func openTracedSQLite(t *testing.T, dir string) *sql.DB {
	t.Helper()
	d := apmsql.Wrap(&sqlite.Driver{}, apmsql.WithDriverName("sqlite"))
	connector, err := d.(driver.DriverContext).OpenConnector(filepath.Join(dir, "shop.db"))
	if err != nil {
		t.Fatal(err)
	}
	db := sql.OpenDB(connector)
	t.Cleanup(func() { db.Close() })
	return db
}

// TestUIQueriesSQL: a service on SQL, traced by the real Go agent's apmsql over a real database
// (SQLite): its statements, with literals inline and as bind parameters, come out as SQL query shapes
// (db_type sql, the normalised statement as the summary, sqlshape's id), statements that differ only in
// their literals in one shape and the others apart; from the service, one click into Queries, one into
// a shape, one into a call's waterfall, whose SQL span links back to its shape.
func TestUIQueriesSQL(t *testing.T) {
	tc := startCollector(t, testConfig(t), nil)
	// The agent drops exit spans shorter than 1 ms by default (SQLite answers in microseconds here).
	t.Setenv("ELASTIC_APM_EXIT_SPAN_MIN_DURATION", "0ms")
	tr := newTestTracer(t, tc.url, "", "shop", "1.0")
	db := openTracedSQLite(t, t.TempDir())
	if _, err := db.Exec(`CREATE TABLE products (id INTEGER PRIMARY KEY, name TEXT, price REAL)`); err != nil {
		t.Fatal(err)
	}

	run := func(name string, statements func(ctx context.Context, k int) error) {
		for k := range 12 {
			tx := tr.StartTransaction(name, "request")
			ctx := apm.ContextWithTransaction(context.Background(), tx)
			if err := statements(ctx, k); err != nil {
				t.Fatal(err)
			}
			tx.Result, tx.Outcome = "HTTP 2xx", "success"
			tx.End()
		}
	}
	byID := `SELECT name, price FROM products WHERE id = %d`
	run("POST /products", func(ctx context.Context, k int) error {
		_, err := db.ExecContext(ctx, fmt.Sprintf(`INSERT INTO products (id, name, price) VALUES (%d, 'product %d', %d.5)`, k, k, 10+k))
		return err
	})
	run("GET /products/{id}", func(ctx context.Context, k int) error {
		var name string
		var price float64
		return db.QueryRowContext(ctx, fmt.Sprintf(byID, k)).Scan(&name, &price)
	})
	// In a transaction of its own: the agent compresses consecutive spans of the same name (the
	// statement's signature, "SELECT FROM products") into one, which keeps the first statement.
	run("GET /products", func(ctx context.Context, k int) error {
		rows, err := db.QueryContext(ctx, `SELECT id, name FROM products WHERE price > ? ORDER BY price DESC LIMIT 5`, float64(k))
		if err != nil {
			return err
		}
		return rows.Close()
	})
	tr.Flush(nil)

	var got struct {
		Queries []struct {
			Shape   string               `json:"shape"`
			Summary string               `json:"summary"`
			DBType  string               `json:"db_type"`
			Count   int64                `json:"count"`
			TookUs  *struct{ P99 int64 } `json:"took_us"`
		} `json:"queries"`
	}
	if code := getJSON(t, tc.url, "/api/v1/queries?service=shop&from=now-15m", "", &got); code != 200 {
		t.Fatalf("queries: %d", code)
	}
	want := map[string]string{} // id -> summary
	for _, stmt := range []string{fmt.Sprintf(byID, 99), `INSERT INTO products (id, name, price) VALUES (1, 'x', 2.5)`,
		`SELECT id, name FROM products WHERE price > ? ORDER BY price DESC LIMIT 5`} {
		s, ok := sqlshape.Statement("sqlite", stmt)
		if !ok {
			t.Fatalf("%q: no shape", stmt)
		}
		want[s.ID] = s.Summary
	}
	if len(got.Queries) != 3 {
		t.Fatalf("%d shapes, want 3: %+v", len(got.Queries), got.Queries)
	}
	for _, q := range got.Queries {
		if q.DBType != "sql" || q.Count != 12 || want[q.Shape] != q.Summary || q.TookUs != nil || strings.ContainsAny(q.Summary, "0123456789'") {
			t.Errorf("shape %+v, want one of %v, 12 calls, db_type sql", q, want)
		}
	}

	ctx := newBrowser(t, 1280, 1000)
	fromServices(t, ctx, tc.url, "shop", "queries")
	rows := evalJS[[]string](t, ctx, `[...document.querySelectorAll('table.queries tbody tr')].map((r) => r.querySelector('.name').textContent)`)
	if len(rows) != 3 {
		t.Fatalf("rows %q", rows)
	}
	for _, r := range rows {
		if !strings.HasSuffix(r, "sql") || !strings.Contains(r, " FROM products") && !strings.HasPrefix(r, "INSERT INTO products") {
			t.Errorf("row %q, want a normalised statement tagged sql", r)
		}
	}
	screenshot(t, ctx, "queries-sql")

	browse(t, ctx, "into the select by id",
		chromedp.Click(chromedp.CSS(`table.queries tbody tr[data-shape] a.shape-link`)),
		chromedp.WaitVisible(chromedp.CSS(`table.examples a.example-link`)))
	shape := evalJS[string](t, ctx, `new URLSearchParams(location.search).get('shape')`)
	if _, ok := want[shape]; !ok {
		t.Fatalf("shape %q, want one of %v", shape, want)
	}
	browse(t, ctx, "into a slowest call's waterfall",
		chromedp.Click(chromedp.CSS(`table.examples tbody tr:first-child a.example-link`)),
		chromedp.WaitVisible(chromedp.CSS(`.wf-item a.shape-link`)))
	if href := evalJS[string](t, ctx, `document.querySelector('.wf-item a.shape-link').getAttribute('href')`); !strings.Contains(href, "shape="+shape) {
		t.Errorf("the span's shape link %q, want shape=%s", href, shape)
	}
}
