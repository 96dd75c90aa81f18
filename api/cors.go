package api

import (
	"net/http"
	"strings"
)

// cors answers cross-origin requests for the configured origins.
type cors struct {
	any     bool
	origins map[string]bool
	// credentials is set when tokens may ride in cookies; then a wildcard is
	// never allowed and the origin is echoed with Allow-Credentials.
	credentials bool
}

func newCORS(origins []string, credentials bool) *cors {
	if len(origins) == 0 {
		return nil
	}
	c := &cors{origins: map[string]bool{}, credentials: credentials}
	for _, o := range origins {
		o = strings.TrimSpace(o)
		if o == "" {
			continue
		}
		if o == "*" && !credentials {
			c.any = true
			continue
		}
		c.origins[strings.ToLower(strings.TrimRight(o, "/"))] = true
	}
	return c
}

// handle sets the CORS headers and answers a preflight; it reports whether
// the request has been answered.
func (c *cors) handle(w http.ResponseWriter, r *http.Request) bool {
	h := w.Header()
	h.Add("Vary", "Origin")
	origin := r.Header.Get("Origin")
	if origin == "" {
		return false
	}
	allowed := c.any || c.origins[strings.ToLower(origin)]
	preflight := r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != ""
	if preflight {
		h.Add("Vary", "Access-Control-Request-Method")
		h.Add("Vary", "Access-Control-Request-Headers")
	}
	if !allowed {
		if preflight {
			// No CORS headers: the browser refuses the real request.
			w.WriteHeader(http.StatusNoContent)
			return true
		}
		return false
	}
	if c.any {
		h.Set("Access-Control-Allow-Origin", "*")
	} else {
		h.Set("Access-Control-Allow-Origin", origin)
	}
	if c.credentials {
		h.Set("Access-Control-Allow-Credentials", "true")
	}
	h.Set("Access-Control-Expose-Headers", "X-Request-Id, WWW-Authenticate, Retry-After")
	if !preflight {
		return false
	}
	h.Set("Access-Control-Allow-Methods", "GET, POST, PUT, PATCH, DELETE, OPTIONS")
	if rh := r.Header.Get("Access-Control-Request-Headers"); rh != "" {
		h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, X-Request-Id")
	}
	h.Set("Access-Control-Max-Age", "600")
	w.WriteHeader(http.StatusNoContent)
	return true
}
