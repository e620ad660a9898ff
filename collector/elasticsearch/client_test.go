package elasticsearch_test

import (
	"strings"
	"testing"

	"github.com/hotpath-apm/hotpath/collector/elasticsearch"
)

func TestRedactedURLs(t *testing.T) {
	got := elasticsearch.RedactedURLs([]string{"https://elastic:s3cret@es:9200", "http://es2:9200", "::"})
	if strings.Join(got, " ") != "https://elastic:xxxxx@es:9200 http://es2:9200 (unparsable URL)" {
		t.Errorf("%q", got)
	}
}
