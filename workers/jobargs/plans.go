package jobargs

import "github.com/riverqueue/river"

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

func (Subscriptions) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueDefault, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}
