// Package ops answers the questions operators and load balancers ask: is the
// process up, can it serve, and how is it doing.
package ops

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"pulso/app/schema"
	"pulso/app/web"
)

// Health reports that the process is up, with no dependency checks, so a
// database blip does not get the process restarted.
func Health(c *fiber.Ctx) error {
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.SendString("ok")
}

// Ready reports whether this instance can serve: the database answers and
// its schema is the one this binary expects. 503 otherwise.
func Ready(db *pgxpool.Pool) fiber.Handler {
	return func(c *fiber.Ctx) error {
		c.Set(fiber.HeaderCacheControl, "no-store")
		ctx, cancel := context.WithTimeout(c.UserContext(), 2*time.Second)
		defer cancel()
		if err := db.Ping(ctx); err != nil {
			return c.Status(fiber.StatusServiceUnavailable).SendString("database unreachable")
		}
		if err := schema.Check(ctx, db); err != nil {
			return c.Status(fiber.StatusServiceUnavailable).SendString("schema not current: run `pulso migrate`")
		}
		return c.SendString("ready")
	}
}

// Metrics owns the process's Prometheus registry.
type Metrics struct {
	reg      *prometheus.Registry
	duration *prometheus.HistogramVec
}

// NewMetrics registers the HTTP metrics plus Go runtime and process metrics.
func NewMetrics() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "pulso_http_request_duration_seconds",
			Help:    "HTTP request duration by route pattern, method and status.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"route", "method", "status"}),
	}
	m.reg.MustRegister(m.duration, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Registry is where other parts (the live hub, workers) add their metrics.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Middleware times every request, labelled by route pattern (not path, so
// ids in URLs cannot explode the number of series).
func (m *Metrics) Middleware(c *fiber.Ctx) error {
	start := time.Now()
	err := c.Next()
	status := c.Response().StatusCode()
	route := web.RoutePattern(c)
	// Fiber's strings point into a buffer the next request overwrites, and a
	// new label value is kept by the registry: copy it, or "POST" later
	// reads "GETT".
	method := strings.Clone(c.Method())
	m.duration.WithLabelValues(route, method, strconv.Itoa(status)).Observe(time.Since(start).Seconds())
	return err
}

// Handler answers GET /metrics in the Prometheus text format, and nothing
// else. `pulso serve` gives it a listener of its own (PULSO_METRICS_ADDR,
// loopback by default): the numbers say how busy each route is and are no
// business of the public site's visitors.
func (m *Metrics) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{}))
	return mux
}
