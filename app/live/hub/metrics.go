package hub

import "github.com/prometheus/client_golang/prometheus"

type hubMetrics struct {
	sockets   prometheus.Gauge
	published prometheus.Counter
	delivered prometheus.Counter
	dropped   prometheus.Counter
	refused   prometheus.Counter
	ended     prometheus.Counter
	// viewPushes counts views re-rendered and pushed (views.go), one per
	// group of sockets.
	viewPushes prometheus.Counter
	fanout     prometheus.Histogram
	latency    prometheus.Histogram
}

func newHubMetrics(reg prometheus.Registerer) hubMetrics {
	m := hubMetrics{
		sockets:    prometheus.NewGauge(prometheus.GaugeOpts{Name: "pulso_live_sockets", Help: "Connected WebSockets."}),
		published:  prometheus.NewCounter(prometheus.CounterOpts{Name: "pulso_live_events_received_total", Help: "Live events received from PostgreSQL."}),
		delivered:  prometheus.NewCounter(prometheus.CounterOpts{Name: "pulso_live_messages_delivered_total", Help: "Messages written to sockets."}),
		dropped:    prometheus.NewCounter(prometheus.CounterOpts{Name: "pulso_live_sockets_dropped_total", Help: "Sockets dropped for falling behind or failing writes."}),
		refused:    prometheus.NewCounter(prometheus.CounterOpts{Name: "pulso_live_sockets_refused_total", Help: "Sockets refused for exceeding the per-user or per-org cap."}),
		ended:      prometheus.NewCounter(prometheus.CounterOpts{Name: "pulso_live_sockets_ended_total", Help: "Sockets closed because their session ended or their role changed."}),
		viewPushes: prometheus.NewCounter(prometheus.CounterOpts{Name: "pulso_live_view_pushes_total", Help: "Followed page parts re-rendered and pushed, once per group of sockets that see the same."}),
		fanout: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "pulso_live_fanout_seconds", Help: "Time to render and queue one event for all its sockets.",
			Buckets: []float64{.0001, .0005, .001, .005, .01, .05, .1, .5, 1},
		}),
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "pulso_live_event_latency_seconds", Help: "From the change's insert to the event being queued to sockets.",
			Buckets: []float64{.001, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}),
	}
	if reg != nil {
		reg.MustRegister(m.sockets, m.published, m.delivered, m.dropped, m.refused, m.ended, m.viewPushes, m.fanout, m.latency)
	}
	return m
}
