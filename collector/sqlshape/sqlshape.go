// Package sqlshape names the kind of a SQL statement, as package agent/queryshape names the kind of an
// Elasticsearch query: its shape is the statement normalised, as pg_stat_statements normalises it, so
// that a service on Postgres, MySQL or SQLite gets the Queries view an Elasticsearch client gets.
//
// The normaliser is DataDog's go-sqllexer (the lexer behind Datadog's Database Monitoring, maintained;
// a lexer, not a parser, so it takes any dialect and statements cut short). A statement's shape is the
// statement with its literals (numbers, strings, booleans) and bind parameters ($1, :name, @p1, ?)
// replaced by ?, a list of them collapsed (IN (1, 2, 3) and IN (7) are both IN (?)), comments dropped,
// whitespace collapsed, keywords in upper case and identifiers unquoted. Identifiers are kept, digits
// and all (orders_2025 and orders_2026 are two tables), and so is NULL, and the number of rows of a
// VALUES list. The span's subtype (postgresql, mysql, mssql, oracle...) picks the dialect the lexer
// reads; other subtypes (sqlite3) are read as generic SQL.
//
// The canonical form is that normalised statement; the ID is the first 8 bytes of the SHA-256 of
// Version and the canonical form, in hex, as agent/queryshape's: stable across processes, machines
// and releases until Version changes. The summary is the canonical form, cut to at most
// queryshape.MaxSummary bytes on a character boundary.
//
// # Bounds
//
// A statement is read up to MaxStatement characters, the APM intake's and the Elastic agents' limit for
// db.statement: a statement that long is taken as cut, and its shape (that of what is there, as for a
// cut Elasticsearch body) is marked Truncated, its canonical form ending with ✂ so that it never
// shares an id with a whole statement's. The lexer's cost is linear in what it reads; input that is not
// SQL, or not UTF-8, is lexed as words and symbols and never panics.
package sqlshape

import (
	"strings"

	"github.com/DataDog/go-sqllexer"

	"github.com/hotpath-apm/hotpath/agent/queryshape"
)

// Version is part of every id: a change to what a shape keeps changes it, so that shapes of two
// versions never share an id.
const Version = "sql1"

// MaxStatement is the most characters of a statement that are read: the APM intake's limit for
// db.statement. A statement of that many characters or more is shaped from its first MaxStatement
// characters, and marked Truncated.
const MaxStatement = 10_000

// Statement returns the shape of a SQL statement; dialect is the span's subtype (postgresql, mysql...;
// empty or unknown for generic SQL). ok is false for a statement with nothing to shape (blank, or only
// comments).
func Statement(dialect, statement string) (queryshape.Shape, bool) {
	statement, truncated := cut(statement)
	obfuscator := sqllexer.NewObfuscator(
		sqllexer.WithReplaceBoolean(true),
		sqllexer.WithReplacePositionalParameter(true),
		sqllexer.WithReplaceBindParameter(true),
		sqllexer.WithDollarQuotedFunc(true))
	normalizer := sqllexer.NewNormalizer(
		sqllexer.WithUppercaseKeywords(true),
		sqllexer.WithKeepSQLAlias(true),
		sqllexer.WithRemoveSpaceBetweenParentheses(true))
	normalized, _, err := sqllexer.ObfuscateAndNormalize(statement, obfuscator, normalizer, sqllexer.WithDBMS(sqllexer.DBMSType(dialect)))
	if err != nil || strings.TrimSpace(normalized) == "" {
		return queryshape.Shape{}, false
	}
	normalized = strings.ToValidUTF8(normalized, "\uFFFD")
	return queryshape.FromCanonical(Version, normalized, normalized, truncated), true
}

// cut returns the first MaxStatement characters of statement, and whether it had that many.
func cut(statement string) (string, bool) {
	if len(statement) < MaxStatement { // fewer bytes, fewer characters
		return statement, false
	}
	n := 0
	for i := range statement {
		if n == MaxStatement {
			return statement[:i], true
		}
		n++
	}
	return statement, n == MaxStatement
}
