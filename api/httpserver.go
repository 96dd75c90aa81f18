package api

import (
	"net/http"
	"time"
)

// The limits of the HTTP server. A client that trickles its headers, its
// body or its reading of the answer is cut off rather than holding a
// connection (and a goroutine) forever; headers are bounded so a client
// cannot make the server buffer megabytes before any handler runs.
const (
	readHeaderTimeout = 5 * time.Second
	// The whole request, body included: 1 MiB over a slow mobile link fits.
	readTimeout = 30 * time.Second
	// Runs from the end of the request headers to the end of the answer, so
	// it must exceed the slowest handler: a login queued behind a busy
	// bcrypt pool.
	writeTimeout = 30 * time.Second
	idleTimeout  = 120 * time.Second
	// Room for a few 8 KiB tokens (header and cookie), far below a flood.
	maxHeaderBytes = 32 << 10
)

// NewHTTPServer returns the http.Server that serves h in production, with
// the timeouts and header limit above. The caller passes a listener to
// Serve (or sets Addr); tests may shorten a timeout on the result.
func NewHTTPServer(h http.Handler) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
	}
}
