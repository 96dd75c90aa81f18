package guard

import "testing"

// TestPeekFeedHead: the cursor and more are read ahead of the sessions
// only when they come first; any other order reads the page whole.
func TestPeekFeedHead(t *testing.T) {
	for _, tt := range []struct {
		body   string
		cursor string
		more   bool
		ok     bool
	}{
		{`{"cursor":"7","more":true,"sessions":[{"sid":"x","exp":1}]}`, "7", true, true},
		{`{"more":false,"cursor":"9","sessions":[]}`, "9", false, true},
		{`{"sessions":[],"cursor":"7","more":true}`, "", false, false},
		{`{"cursor":"7","sessions":[],"more":true}`, "", false, false},
		{`{"cursor":7,"more":true}`, "", false, false},
		{`[]`, "", false, false},
		{``, "", false, false},
	} {
		cursor, more, ok := peekFeedHead([]byte(tt.body))
		if cursor != tt.cursor || more != tt.more || ok != tt.ok {
			t.Errorf("peekFeedHead(%s) = %q, %v, %v; want %q, %v, %v", tt.body, cursor, more, ok, tt.cursor, tt.more, tt.ok)
		}
	}
}
