package api

import (
	"net/http"

	"github.com/jotauth/jot/password"
)

// WrapForTest puts h behind the middleware every request to s passes
// (request id, headers, recovery, access log, metrics, body limit), so a
// test can reach a handler the server does not have, such as one that
// panics.
func (s *Server) WrapForTest(h http.Handler) http.Handler { return s.middleware(h) }

// HashingForTest returns the hashing pool the server tells about its
// requests.
func (s *Server) HashingForTest() *password.Pool { return s.opts.Hashing }
