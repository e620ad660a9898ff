package decoder

import (
	"strconv"
	"testing"
)

// TestIntegerTexts checks isInt64 against json.Number.Int64 (strconv.ParseInt) and isAtoi against
// strconv.Atoi, at int64's boundaries and around them.
func TestIntegerTexts(t *testing.T) {
	for _, text := range []string{
		"0", "7", "-7", "+7", "-", "+", "", "12a", "1.5", "1e3", "007",
		"9223372036854775807", "9223372036854775808", "-9223372036854775808", "-9223372036854775809",
		"+9223372036854775807", "+9223372036854775808", "99999999999999999999", "-0",
	} {
		// isInt64 gets looseNumber's texts, which start with a digit or '-'.
		if text != "" && text[0] != '+' {
			_, err := strconv.ParseInt(text, 10, 64)
			if got := isInt64([]byte(text)); got != (err == nil) {
				t.Errorf("isInt64(%q) = %v, strconv.ParseInt: %v", text, got, err)
			}
		}
		_, err := strconv.Atoi(text)
		if got := isAtoi(text); got != (err == nil) {
			t.Errorf("isAtoi(%q) = %v, strconv.Atoi: %v", text, got, err)
		}
	}
}
