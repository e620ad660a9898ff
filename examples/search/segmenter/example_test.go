package segmenter_test

import (
	"fmt"

	"github.com/hotpath-apm/hotpath/examples/search/segmenter"
)

func ExampleTokenizer_Tokenize() {
	tok := segmenter.DefaultTokenizer()
	fmt.Println(tok.Tokenize("나이키경량러닝화를 추천, ＮＩＫＥ Air-Zoom 270"))
	// Output: [나이키 경량 러닝화 추천 nike air zoom 270]
}
