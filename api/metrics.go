package api

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/jotauth/jot/token"
)

// Metrics are the server's Prometheus metrics.
type Metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	auth     *prometheus.CounterVec
	refused  *prometheus.CounterVec
}

// NewMetrics registers the server's metrics on reg (a new registry when
// nil, with the Go and process collectors).
func NewMetrics(reg *prometheus.Registry) *Metrics {
	if reg == nil {
		reg = prometheus.NewRegistry()
		reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	}
	m := &Metrics{
		reg: reg,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "jot_http_requests_total", Help: "HTTP requests by route pattern, method and status.",
		}, []string{"route", "method", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "jot_http_request_duration_seconds", Help: "HTTP request latency by route pattern.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"route", "method"}),
		auth: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "jot_auth_events_total", Help: "Authentication events: login_ok, login_failed, signup, refresh, reuse_detected, session_ended.",
		}, []string{"event"}),
		refused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "jot_tokens_refused_total", Help: "Access tokens refused on protected routes, by reason.",
		}, []string{"reason"}),
	}
	reg.MustRegister(m.requests, m.latency, m.auth, m.refused)
	for _, e := range []string{"login_ok", "login_failed", "signup", "refresh", "reuse_detected", "session_ended"} {
		m.auth.WithLabelValues(e)
	}
	for _, r := range []token.Reason{token.ReasonMissing, token.ReasonMalformed, token.ReasonExpired, token.ReasonRevoked, token.ReasonInvalid} {
		m.refused.WithLabelValues(string(r))
	}
	return m
}

// Event counts an authentication event; it is accounts.Options.Events.
func (m *Metrics) Event(name string) { m.auth.WithLabelValues(name).Inc() }

func (m *Metrics) tokenRefused(reason token.Reason) { m.refused.WithLabelValues(string(reason)).Inc() }

// observe records one request under its route pattern, so ids in paths do
// not explode the label space.
func (m *Metrics) observe(route, method string, status int, d time.Duration) {
	if route == "" {
		route = "unmatched"
	}
	method = metricMethod(method)
	m.requests.WithLabelValues(route, method, strconv.Itoa(status)).Inc()
	m.latency.WithLabelValues(route, method).Observe(d.Seconds())
}

// metricMethod bounds the method label: a client may send any token as a
// method, and each one would otherwise become a series of its own.
func metricMethod(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return m
	default:
		return "other"
	}
}

func (m *Metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}
