package jobargs

import (
	"time"

	"github.com/riverqueue/river"
)

// TargetCheck evaluates one user's sales target of one month (app/targets)
// and raises its alerts: enqueued in the transaction that wins a deal, so
// "target reached" reaches screens within seconds of the win.
type TargetCheck struct {
	OrgID  int64 `json:"org_id" river:"unique"`
	UserID int64 `json:"user_id" river:"unique"`
	// Month is "2006-01" in the org's calendar: the month the deal was won.
	Month string `json:"month" river:"unique"`
	// Cause names what asked for the check (a deal's win at its version,
	// a target saved): each win gets a check of its own, so a win committed
	// while an earlier win's check runs is checked at once too (River keeps
	// running jobs in every unique set, so a per-month key would drop it);
	// alerts are once per threshold whatever the number of checks.
	Cause string `json:"cause" river:"unique"`
}

func (TargetCheck) Kind() string { return "target_check" }

// A check that ran for an earlier save of the same target must not stop
// the next one's: only an unfinished check is the same.
func (TargetCheck) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueDefault, UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: unfinished}}
}

// TargetPace is the periodic check of every target of the current month:
// "behind pace" exists only as time passes, and a reached target whose
// check job was lost is caught here.
type TargetPace struct{}

func (TargetPace) Kind() string { return "target_pace" }

func (TargetPace) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueDefault, UniqueOpts: river.UniqueOpts{ByPeriod: time.Hour}}
}
