package api

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"net/http"
	"time"
)

// openAPIDoc is the OpenAPI 3.1 description of the API. It is written by
// hand next to the code, and TestOpenAPIMatchesRoutes holds it against the
// routes the server registers, so neither can drift from the other.
//
//go:embed openapi.json
var openAPIDoc []byte

// openAPIETag lets clients and caches revalidate the document cheaply; it
// changes exactly when the embedded file does.
var openAPIETag = func() string {
	sum := sha256.Sum256(openAPIDoc)
	return `"` + hex.EncodeToString(sum[:12]) + `"`
}()

func serveOpenAPI(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("ETag", openAPIETag)
	h.Set("Cache-Control", "no-cache")
	// ServeContent answers HEAD, If-None-Match and ranges.
	http.ServeContent(w, r, "openapi.json", time.Time{}, bytes.NewReader(openAPIDoc))
}

// routeMux is a ServeMux that remembers the patterns registered on it, so
// the OpenAPI test can compare the real routes with the document.
type routeMux struct {
	*http.ServeMux
	patterns []string
}

// Handle registers h for pattern, as ServeMux.Handle does.
func (m *routeMux) Handle(pattern string, h http.Handler) {
	m.patterns = append(m.patterns, pattern)
	m.ServeMux.Handle(pattern, h)
}

// HandleFunc registers f for pattern, as ServeMux.HandleFunc does.
func (m *routeMux) HandleFunc(pattern string, f func(http.ResponseWriter, *http.Request)) {
	m.Handle(pattern, http.HandlerFunc(f))
}
