package search

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// Limits of a search request's parameters.
const (
	DefaultSize = 10
	MaxSize     = 50
	MaxFrom     = 1000
)

// Ranking names a ranking script.
type Ranking string

// The rankings: Default weighs relevance by popularity and rating; Personalized also scores every match
// against the user's recently viewed products, in the script (heavy: see Trouble.HeavyRanking).
const (
	RankDefault      Ranking = "default"
	RankPersonalized Ranking = "personalized"
)

// Request is a parsed GET /search.
type Request struct {
	Q        string  // the text searched; required
	Category string  // a category ID to filter on ("shoes"), or ""
	Brand    string  // a brand ID to filter on ("nike"), or ""
	MinPrice int     // in won; 0: no lower bound
	MaxPrice int     // in won; 0: no upper bound
	Size     int     // hits to return, 1 to MaxSize; default DefaultSize
	From     int     // hits to skip, 0 to MaxFrom
	Rank     Ranking // "" when not asked: the service picks (Trouble.HeavyRanking)
	User     string  // whose history personalizes the ranking; default "guest"
}

// requestError is a bad request: answered 400 with its message.
type requestError struct{ msg string }

func (e *requestError) Error() string { return e.msg }

func badRequest(format string, args ...any) error {
	return &requestError{fmt.Sprintf(format, args...)}
}

// ParseRequest reads GET /search's query string: q (required, at most maxQueryBytes bytes), category,
// brand, min_price, max_price, size, from, rank (default or personalized) and user. Any other parameter,
// a repeated one or a value out of range is an error, answered 400.
func ParseRequest(values url.Values, maxQueryBytes int) (Request, error) {
	req := Request{Size: DefaultSize, User: "guest"}
	for name, vs := range values {
		if len(vs) != 1 {
			return req, badRequest("parameter %q given %d times", name, len(vs))
		}
		v := vs[0]
		var err error
		switch name {
		case "q":
			if len(v) > maxQueryBytes {
				return req, badRequest("q is %d bytes, more than %d", len(v), maxQueryBytes)
			}
			req.Q = strings.TrimSpace(v)
		case "category":
			req.Category, err = keyword(name, v)
		case "brand":
			req.Brand, err = keyword(name, v)
		case "user":
			req.User, err = keyword(name, v)
		case "min_price":
			req.MinPrice, err = intIn(name, v, 0, 1e9)
		case "max_price":
			req.MaxPrice, err = intIn(name, v, 0, 1e9)
		case "size":
			req.Size, err = intIn(name, v, 1, MaxSize)
		case "from":
			req.From, err = intIn(name, v, 0, MaxFrom)
		case "rank":
			switch Ranking(v) {
			case RankDefault, RankPersonalized:
				req.Rank = Ranking(v)
			default:
				err = badRequest("rank must be %q or %q", RankDefault, RankPersonalized)
			}
		default:
			err = badRequest("unknown parameter %q", name)
		}
		if err != nil {
			return req, err
		}
	}
	if req.Q == "" {
		return req, badRequest("missing q")
	}
	if req.MaxPrice > 0 && req.MinPrice > req.MaxPrice {
		return req, badRequest("min_price %d above max_price %d", req.MinPrice, req.MaxPrice)
	}
	return req, nil
}

// keyword accepts IDs such as "shoes", "newbalance", "user-42": 1 to 64 bytes of a-z, 0-9, - and _.
func keyword(name, v string) (string, error) {
	if len(v) == 0 || len(v) > 64 {
		return "", badRequest("%s must be 1 to 64 characters", name)
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return "", badRequest("%s may hold only a-z, 0-9, - and _", name)
		}
	}
	return v, nil
}

func intIn(name, v string, lo, hi int) (int, error) {
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		return 0, badRequest("%s must be an integer from %d to %d", name, lo, hi)
	}
	return n, nil
}
