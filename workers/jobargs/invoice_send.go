package jobargs

import (
	"time"

	"github.com/riverqueue/river"
)

// InvoiceSend runs one scheduled invoice send at its minute (inserted with
// ScheduledAt = At, in the transaction that schedules or reschedules it).
// The send row is the truth: the job re-reads it under lock and does
// nothing when it was cancelled, already sent or moved (the move inserted
// a job of its own, At being part of the args).
type InvoiceSend struct {
	OrgID  int64     `json:"org_id"`
	SendID int64     `json:"send_id"`
	At     time.Time `json:"at"`
}

func (InvoiceSend) Kind() string { return "invoice_send" }

func (InvoiceSend) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueDefault, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// InvoiceSendSweep is the periodic net under InvoiceSend: scheduled sends
// whose minute has passed without their job (lost in a restore, a worker
// down for days) go out, once each, oldest first.
type InvoiceSendSweep struct{}

func (InvoiceSendSweep) Kind() string { return "invoice_send_sweep" }

func (InvoiceSendSweep) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueDefault, UniqueOpts: river.UniqueOpts{ByPeriod: time.Minute}}
}
