package jobargs

import (
	"time"

	"github.com/riverqueue/river"
)

// QuotaAlert raises the alerts and e-mails of one quota crossing (an org's
// month reached a threshold of its plan's vouchers): enqueued in the
// issuing transaction that crossed it, so the admins hear within seconds.
type QuotaAlert struct {
	OrgID int64 `json:"org_id" river:"unique"`
	// Month is "2006-01" in the org's calendar.
	Month     string `json:"month" river:"unique"`
	PlanID    int64  `json:"plan_id" river:"unique"`
	Threshold int    `json:"threshold" river:"unique"`
}

func (QuotaAlert) Kind() string { return "quota_alert" }

func (QuotaAlert) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueDefault, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// Subscriptions is the periodic pass over subscriptions: crossings whose
// alert job was lost (or that were issued without a job client, as the
// demo seed does), downgrades due on the 1st, and terms that ended.
type Subscriptions struct{}

func (Subscriptions) Kind() string { return "subscriptions" }

// Unique by the minute, not by its (empty) args: unique by args alone
// counts completed jobs too, and the pass would run once per database.
func (Subscriptions) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueDefault, UniqueOpts: river.UniqueOpts{ByPeriod: time.Minute}}
}

// StoreOrder fetches one store order and applies it. Cause is the
// notification's _id: a notification delivered twice (at-least-once, §3)
// makes one job, while a later notification of the same order makes its
// own, so the newer state is fetched even if the first job is running.
type StoreOrder struct {
	OrgID        int64  `json:"org_id" river:"unique"`
	ConnectionID int64  `json:"connection_id" river:"unique"`
	OrderID      int64  `json:"order_id" river:"unique"`
	Cause        string `json:"cause" river:"unique"`
}

func (StoreOrder) Kind() string { return "store_order" }

func (StoreOrder) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueSync, MaxAttempts: 25, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// StoreCatchUp searches a connection's orders updated since its cursor
// (the net under notifications, and "sincronizar ahora").
type StoreCatchUp struct {
	OrgID        int64 `json:"org_id" river:"unique"`
	ConnectionID int64 `json:"connection_id" river:"unique"`
}

func (StoreCatchUp) Kind() string { return "store_catch_up" }

// One catch-up per connection a minute: "sincronizar ahora" pressed twice
// and the sweep meeting it run once.
func (StoreCatchUp) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueSync, UniqueOpts: river.UniqueOpts{ByArgs: true, ByPeriod: time.Minute}}
}

// StoreSweep queues a catch-up for every active connection.
type StoreSweep struct{}

func (StoreSweep) Kind() string { return "store_sweep" }

// By the period, like Subscriptions (by args alone it would run once).
func (StoreSweep) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueDefault, UniqueOpts: river.UniqueOpts{ByPeriod: 10 * time.Minute}}
}

// StoreRetryBlocked applies again an org's store orders its plan's limit
// held back: enqueued with an upgrade that lifts the limit (in its
// transaction) and by the store sweep (the month turned).
type StoreRetryBlocked struct {
	OrgID int64 `json:"org_id" river:"unique"`
}

func (StoreRetryBlocked) Kind() string { return "store_retry_blocked" }

// Unique over a minute: an upgrade and a sweep meeting make one pass.
func (StoreRetryBlocked) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueSync, UniqueOpts: river.UniqueOpts{ByArgs: true, ByPeriod: time.Minute}}
}
