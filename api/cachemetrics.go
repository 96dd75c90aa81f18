package api

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/jotauth/jot/guard"
)

// watchTokenCache exports the token cache's counters: a hit is a request
// whose token needed no signature check.
func (m *Metrics) watchTokenCache(c *guard.TokenCache) {
	m.reg.MustRegister(
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "jot_token_cache_hits_total", Help: "Access tokens found in the cache of verified tokens (no signature check).",
		}, func() float64 { return float64(c.Stats().Hits) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "jot_token_cache_misses_total", Help: "Access tokens not in the cache of verified tokens, so verified.",
		}, func() float64 { return float64(c.Stats().Misses) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "jot_token_cache_entries", Help: "Verified access tokens held in the cache.",
		}, func() float64 { return float64(c.Stats().Len) }),
	)
}
