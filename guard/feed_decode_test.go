package guard_test

import (
	"compress/gzip"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/jotauth/jot/guard"
	"github.com/jotauth/jot/token"
)

// feedServer answers the revocation feed with body, gzipped when the
// client accepts it, as jot does.
func feedServer(t *testing.T, body string) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
			w.Header().Set("Content-Encoding", "gzip")
			zw := gzip.NewWriter(w)
			fmt.Fprint(zw, body)
			zw.Close()
			return
		}
		fmt.Fprint(w, body)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// The feed is read as a stream of entries: every kind of id (UUIDs in
// either case, other strings, escaped ones), fractional expiries, names in
// any case and fields it does not know.
func TestRemoteFeedDecoding(t *testing.T) {
	f := newFakeIssuer(t)
	f.newKey(token.AlgES256, true)
	exp := time.Now().Add(time.Hour).Unix()
	body := fmt.Sprintf(`{"note": {"a": [1, 2]}, "Sessions": [
		{"sid": "0b9d6a62-4c8e-4b4e-9a8e-0c3a7f1d2e01", "exp": %d.25},
		{"exp": %d, "sid": "0B9D6A62-4C8E-4B4E-9A8E-0C3A7F1D2E02", "extra": null},
		{"sid": "plain", "exp": %d},
		{"sid": "a-session-id-longer-than-thirty-six-bytes-of-text", "exp": %d},
		{"sid": "esc\u0061ped", "exp": %d}
	], "cursor": "5", "MORE": false}`, exp, exp, exp, exp, exp)
	r := newRemote(t, guard.RemoteOptions{JWKSURL: f.jwksURL(), RevocationsURL: feedServer(t, body)})
	for _, sid := range []string{
		"0b9d6a62-4c8e-4b4e-9a8e-0c3a7f1d2e01", "0b9d6a62-4c8e-4b4e-9a8e-0c3a7f1d2e02",
		"plain", "a-session-id-longer-than-thirty-six-bytes-of-text", "escaped",
	} {
		if !r.Revoked(sid) {
			t.Errorf("%s not revoked", sid)
		}
	}
	if r.Revoked("esc\\u0061ped") || r.Revoked("0b9d6a62-4c8e-4b4e-9a8e-0c3a7f1d2e03") {
		t.Error("an id the feed did not list is revoked")
	}
}

// A page that is not the feed's shape is an error, as it was when the
// page was decoded whole.
func TestRemoteFeedDecodingRefusesMalformed(t *testing.T) {
	f := newFakeIssuer(t)
	f.newKey(token.AlgES256, true)
	for _, body := range []string{
		`[]`,
		`{"sessions": {"sid": "x"}, "cursor": "1"}`,
		`{"sessions": [{"sid": 5, "exp": 1}], "cursor": "1"}`,
		`{"sessions": [], "cursor": 1}`,
		`{"sessions": [], "cursor": "1"} {}`,
		`{"sessions": [{"sid": "x", "exp": 1}`,
	} {
		_, err := guard.NewRemote(context.Background(), guard.RemoteOptions{
			JWKSURL: f.jwksURL(), RevocationsURL: feedServer(t, body), Issuer: "jot", Audience: "jot", Logger: quietLogger(),
		})
		if err == nil {
			t.Errorf("feed %s accepted", body)
		}
	}
	// null sessions is an empty page, as json.Unmarshal read it.
	newRemote(t, guard.RemoteOptions{JWKSURL: f.jwksURL(), RevocationsURL: feedServer(t, `{"sessions": null, "cursor": "0", "more": false}`)})
}
