package web

import (
	"math"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"pulso/queries"
)

// Throttle lets one client (ClientIP) make at most limit requests per
// window to the routes it guards, all of them together. The count lives in
// PostgreSQL (rate_counters), not in this process, so the limit holds
// however many instances a balancer spreads the requests over. scope names
// the guarded routes: throttles with different scopes count apart.
func Throttle(q *queries.Queries, scope string, limit int, window time.Duration) fiber.Handler {
	secs := int32(max(1, window/time.Second))
	return func(c *fiber.Ctx) error {
		hit, err := q.CountRateHit(c.UserContext(), queries.CountRateHitParams{
			Scope: scope, Key: ClientIP(c).String(), WindowSeconds: secs,
		})
		if err != nil {
			return err
		}
		if int(hit.Hits) > limit {
			c.Set(fiber.HeaderRetryAfter, strconv.Itoa(max(1, int(math.Ceil(hit.SecondsLeft)))))
			return NewError(fiber.StatusTooManyRequests, "error.too_many", nil)
		}
		return c.Next()
	}
}
