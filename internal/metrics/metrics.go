// Package metrics holds the server's Prometheus metrics in a registry of its own (no global
// registry). Labels carry operation names, outcomes, effects and states: never personal data.
package metrics

import (
	"context"
	"database/sql"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics is the set of the server's metrics.
type Metrics struct {
	registry  *prometheus.Registry
	requests  *prometheus.HistogramVec
	decisions *prometheus.CounterVec
	reloads   *prometheus.CounterVec
}

// New registers the metrics in a new registry, with the Go runtime and process collectors.
func New() *Metrics {
	m := &Metrics{
		registry: prometheus.NewRegistry(),
		requests: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "wvsoft_graphql_request_duration_seconds",
			Help:    "GraphQL operations by operation name and outcome (ok, partial: data with errors, error: no data).",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"operation", "outcome"}),
		decisions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "wvsoft_policy_decisions_total",
			Help: "Field decisions applied to responses, by effect (allow, deny, mask).",
		}, []string{"effect"}),
		reloads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "wvsoft_policy_reloads_total",
			Help: "Policy loads by result (accepted, rejected).",
		}, []string{"result"}),
	}
	m.registry.MustRegister(m.requests, m.decisions, m.reloads,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	for _, effect := range []string{"allow", "deny", "mask"} {
		m.decisions.WithLabelValues(effect)
	}
	for _, result := range []string{"accepted", "rejected"} {
		m.reloads.WithLabelValues(result)
	}
	return m
}

// Handler serves the registry at /metrics.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{})
}

// ObserveRequest records one GraphQL operation.
func (m *Metrics) ObserveRequest(operation, outcome string, d time.Duration) {
	if operation == "" {
		operation = "anonymous"
	} else if !isName(operation) {
		operation = "invalid"
	}
	m.requests.WithLabelValues(operation, outcome).Observe(d.Seconds())
}

// CountDecisions adds the field decisions a response applied.
func (m *Metrics) CountDecisions(byEffect map[string]int64) {
	for effect, n := range byEffect {
		m.decisions.WithLabelValues(effect).Add(float64(n))
	}
}

// CountReload records a policy load.
func (m *Metrics) CountReload(accepted bool) {
	if accepted {
		m.reloads.WithLabelValues("accepted").Inc()
	} else {
		m.reloads.WithLabelValues("rejected").Inc()
	}
}

// WatchPool exports the database pool's use, read at every scrape.
func (m *Metrics) WatchPool(stats func() sql.DBStats) {
	gauge := func(name, help string, v func(sql.DBStats) float64) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, func() float64 { return v(stats()) })
	}
	m.registry.MustRegister(
		gauge("wvsoft_db_connections_open", "Open connections of the pool.", func(s sql.DBStats) float64 { return float64(s.OpenConnections) }),
		gauge("wvsoft_db_connections_in_use", "Connections in use.", func(s sql.DBStats) float64 { return float64(s.InUse) }),
		gauge("wvsoft_db_connections_idle", "Idle connections.", func(s sql.DBStats) float64 { return float64(s.Idle) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "wvsoft_db_connection_waits_total", Help: "Waits for a free connection."},
			func() float64 { return float64(stats().WaitCount) }),
	)
}

// WatchDecisionLog exports the decision-log events lost: refused by its full buffer, or in a
// batch its sink failed to take.
func (m *Metrics) WatchDecisionLog(dropped, failed func() int64) {
	m.registry.MustRegister(
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "wvsoft_decision_log_dropped_total",
			Help: "Decision-log events dropped because the buffer was full."}, func() float64 { return float64(dropped()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "wvsoft_decision_log_failed_total",
			Help: "Decision-log events lost because the sink failed."}, func() float64 { return float64(failed()) }),
	)
}

// WatchStates exports a count by state, read at every scrape with a short timeout (grant
// requests by state, the outbox backlog).
func (m *Metrics) WatchStates(name, help string, states []string, count func(ctx context.Context) (map[string]int, error)) {
	m.registry.MustRegister(&stateCollector{
		desc:   prometheus.NewDesc(name, help, []string{"state"}, nil),
		states: states, count: count,
	})
}

type stateCollector struct {
	desc   *prometheus.Desc
	states []string
	count  func(ctx context.Context) (map[string]int, error)
}

func (c *stateCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *stateCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	counts, err := c.count(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(c.desc, err)
		return
	}
	for _, s := range c.states {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(counts[s]), s)
	}
}

// isName accepts GraphQL names of up to 64 characters; anything else would let clients make
// label values up.
func isName(s string) bool {
	if len(s) > 64 {
		return false
	}
	for i, r := range s {
		letter := r == '_' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z')
		if !letter && (i == 0 || r < '0' || r > '9') {
			return false
		}
	}
	return true
}
