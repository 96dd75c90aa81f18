package api

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/jotauth/jot"
)

// dbStatser is a store that reports its connections (PostgreSQL).
type dbStatser interface {
	Stats() jot.DBStats
}

// dbCollector turns one snapshot of the store's connections per scrape
// into the jot_db_* metrics.
type dbCollector struct {
	stats func() jot.DBStats
	descs struct {
		acquired, idle, total, max, waited, canceled, listenerUp, reconnects *prometheus.Desc
	}
}

func newDBCollector(stats func() jot.DBStats) *dbCollector {
	c := &dbCollector{stats: stats}
	d := &c.descs
	d.acquired = prometheus.NewDesc("jot_db_pool_acquired_conns", "Database connections in use by a call now.", nil, nil)
	d.idle = prometheus.NewDesc("jot_db_pool_idle_conns", "Open database connections waiting for a call.", nil, nil)
	d.total = prometheus.NewDesc("jot_db_pool_total_conns", "Open database connections, and those being opened.", nil, nil)
	d.max = prometheus.NewDesc("jot_db_pool_max_conns", "Size of the database connection pool (pool_max_conns).", nil, nil)
	d.waited = prometheus.NewDesc("jot_db_pool_waited_acquires_total", "Calls that found no idle database connection and waited for one.", nil, nil)
	d.canceled = prometheus.NewDesc("jot_db_pool_canceled_acquires_total", "Calls whose wait for a database connection ended unserved (JOT_DB_TIMEOUT or the client gone).", nil, nil)
	d.listenerUp = prometheus.NewDesc("jot_db_listener_up", "1 while this instance listens for ended sessions and signing key changes (LISTEN), else 0.", nil, nil)
	d.reconnects = prometheus.NewDesc("jot_db_listener_reconnects_total", "Times the listener listened again after losing its connection.", nil, nil)
	return c
}

// Describe implements prometheus.Collector.
func (c *dbCollector) Describe(ch chan<- *prometheus.Desc) {
	d := &c.descs
	for _, x := range []*prometheus.Desc{d.acquired, d.idle, d.total, d.max, d.waited, d.canceled, d.listenerUp, d.reconnects} {
		ch <- x
	}
}

// Collect implements prometheus.Collector.
func (c *dbCollector) Collect(ch chan<- prometheus.Metric) {
	s, d := c.stats(), &c.descs
	up := 0.0
	if s.ListenerUp {
		up = 1
	}
	ch <- prometheus.MustNewConstMetric(d.acquired, prometheus.GaugeValue, float64(s.AcquiredConns))
	ch <- prometheus.MustNewConstMetric(d.idle, prometheus.GaugeValue, float64(s.IdleConns))
	ch <- prometheus.MustNewConstMetric(d.total, prometheus.GaugeValue, float64(s.TotalConns))
	ch <- prometheus.MustNewConstMetric(d.max, prometheus.GaugeValue, float64(s.MaxConns))
	ch <- prometheus.MustNewConstMetric(d.waited, prometheus.CounterValue, float64(s.WaitedAcquires))
	ch <- prometheus.MustNewConstMetric(d.canceled, prometheus.CounterValue, float64(s.CanceledAcquires))
	ch <- prometheus.MustNewConstMetric(d.listenerUp, prometheus.GaugeValue, up)
	ch <- prometheus.MustNewConstMetric(d.reconnects, prometheus.CounterValue, float64(s.ListenerReconnects))
}

// WatchDB adds the store's connection metrics, when it reports them.
func (m *Metrics) WatchDB(store jot.Store) {
	if st, ok := store.(dbStatser); ok {
		m.reg.MustRegister(newDBCollector(st.Stats))
	}
}
