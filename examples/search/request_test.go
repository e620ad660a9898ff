package search

import (
	"net/url"
	"testing"
)

func TestParseRequest(t *testing.T) {
	v := url.Values{"q": {" red shoes "}, "category": {"shoes"}, "brand": {"nike"}, "min_price": {"1000"},
		"max_price": {"2000"}, "size": {"50"}, "from": {"1000"}, "rank": {"personalized"}, "user": {"u-1"}}
	req, err := ParseRequest(v, 100)
	want := Request{Q: "red shoes", Category: "shoes", Brand: "nike", MinPrice: 1000, MaxPrice: 2000, Size: 50,
		From: 1000, Rank: RankPersonalized, User: "u-1"}
	if err != nil || req != want {
		t.Errorf("ParseRequest = %+v, %v; want %+v", req, err, want)
	}
	req, err = ParseRequest(url.Values{"q": {"x"}}, 100)
	if err != nil || req != (Request{Q: "x", Size: DefaultSize, User: "guest"}) {
		t.Errorf("defaults: %+v, %v", req, err)
	}
}

// FuzzParseRequest: any query string is accepted within the limits, or refused with a request error.
func FuzzParseRequest(f *testing.F) {
	f.Add("q=red+shoes&size=5&min_price=1&max_price=9")
	f.Add("q=%ED%95%9C&rank=personalized&user=a_b")
	f.Add("q=a&q=b")
	f.Fuzz(func(t *testing.T, raw string) {
		values, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		req, err := ParseRequest(values, 64)
		if err != nil {
			if _, ok := err.(*requestError); !ok {
				t.Fatalf("%q: %T %v", raw, err, err)
			}
			return
		}
		if req.Q == "" || len(req.Q) > 64 || req.Size < 1 || req.Size > MaxSize || req.From < 0 || req.From > MaxFrom ||
			(req.MaxPrice > 0 && req.MinPrice > req.MaxPrice) || (req.Rank != "" && req.Rank != RankDefault && req.Rank != RankPersonalized) {
			t.Fatalf("%q: accepted %+v", raw, req)
		}
	})
}
