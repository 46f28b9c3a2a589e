// Package jobargs holds the arguments of every background job: plain JSON
// structs with their River kind and insert options (queue, uniqueness,
// attempts), so that a retry is safe by the args alone. Areas enqueue with
// them inside their own transactions; the workers that run them live in
// package workers, which imports the areas. This package imports nothing
// from the app, so that direction never cycles.
//
// Args of a job that concerns one org carry it as "org_id" in their JSON:
// River's tables know nothing of tenants, and the admin's jobs page
// (app/jobs) shows and acts on an org's jobs by that field alone.
package jobargs

import (
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
)

// Queue names, by purpose.
const (
	QueueDefault = river.QueueDefault
	// QueueEmail has its own workers so a slow mail server never holds up
	// other jobs, and other jobs never delay an invite.
	QueueEmail = "email"
	// QueueSync talks to outside systems (store orders, tax authorities),
	// whose slowness must not hold up mail or alerts.
	QueueSync = "sync"
	// QueueReports runs heavy reads (exports, aggregates) with few workers
	// so they cannot starve the database of connections.
	QueueReports = "reports"
)

// Notify puts one notification in one user's centre: the bell count moves
// and, for urgent ones, a toast shows on their open screens. Text is either
// a catalog id (TitleID/BodyID with Params, rendered in the user's
// language) or literal (Title/Body, e.g. typed by an admin).
type Notify struct {
	OrgID    int64          `json:"org_id"`
	UserID   int64          `json:"user_id"`
	Severity string         `json:"severity"` // info | warning | urgent
	TitleID  string         `json:"title_id,omitempty"`
	BodyID   string         `json:"body_id,omitempty"`
	Params   map[string]any `json:"params,omitempty"`
	Title    string         `json:"title,omitempty"`
	Body     string         `json:"body,omitempty"`
	Link     string         `json:"link,omitempty"`
	// Key names the cause; one notification per user and key, ever.
	Key string `json:"key"`
	// Toast shows it on open screens whatever its severity (a client just
	// opened or signed a quote: news the rep is waiting for, not an alarm).
	Toast bool `json:"toast,omitempty"`
}

func (Notify) Kind() string { return "notify" }

func (Notify) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueDefault, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// SendEmail delivers one row of the emails table, written with mail.Enqueue
// in the transaction that asked for the message.
type SendEmail struct {
	OrgID   int64 `json:"org_id"`
	EmailID int64 `json:"email_id"`
}

func (SendEmail) Kind() string { return "send_email" }

// EmailMaxAttempts: River's backoff (attempt⁴ seconds) spreads 15 attempts
// over about two days, enough to ride out a mail server outage while an
// invite link (7 days) is still worth receiving.
const EmailMaxAttempts = 15

func (SendEmail) InsertOpts() river.InsertOpts {
	// One job per e-mail row; the row's own key (UNIQUE (org_id, key)) is
	// what stops a repeated request from creating a second message.
	return river.InsertOpts{Queue: QueueEmail, MaxAttempts: EmailMaxAttempts, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// Import works one uploaded import (leads, products or a smart portfolio).
type Import struct {
	OrgID    int64 `json:"org_id"`
	ImportID int64 `json:"import_id"`
}

func (Import) Kind() string { return "import" }

// One job per import. A retry is safe by construction (see engine.Run):
// staging restarts from the file and rows reach leads only in the
// transaction that marks the import done.
func (Import) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueDefault, MaxAttempts: 5, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// InboundEmail processes one received e-mail (already stored raw in
// inbound_messages): a new lead, or an activity on the known sender.
type InboundEmail struct {
	OrgID     int64 `json:"org_id"`
	InboundID int64 `json:"inbound_id"`
}

func (InboundEmail) Kind() string { return "inbound_email" }

func (InboundEmail) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueDefault, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// TaskSLA is scheduled, in the transaction that creates a task with an
// SLA, to run at the task's deadline: so a breach reaches screens within
// moments of the deadline, not at the next sweep. One job per task and
// deadline (unique by args); the sweep catches whatever a lost job would
// miss.
type TaskSLA struct {
	OrgID    int64     `json:"org_id"`
	TaskID   int64     `json:"task_id"`
	Deadline time.Time `json:"deadline"`
}

func (TaskSLA) Kind() string { return "task_sla" }

func (TaskSLA) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueDefault, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// SLASweep is the periodic sweep: every task open past its SLA and every
// deal idle in its stage past the stage's limit gets its alerts, once, and
// quotes left unanswered get their follow-up tasks. It is the safety net
// under the jobs scheduled at each deadline (a deadline moved, a job lost
// in a restore) and the only source of idle-deal alerts.
type SLASweep struct{}

func (SLASweep) Kind() string { return "sla_sweep" }

func (SLASweep) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueDefault, UniqueOpts: river.UniqueOpts{ByPeriod: time.Minute}}
}

// SessionCleanup removes expired sessions, old login failures and web form
// hits (both only count within minutes), and live events no screen can
// still need. Deleting is naturally idempotent, so a retry or an
// overlapping run does no harm.
type SessionCleanup struct{}

func (SessionCleanup) Kind() string { return "session_cleanup" }

func (SessionCleanup) InsertOpts() river.InsertOpts {
	return river.InsertOpts{UniqueOpts: river.UniqueOpts{ByPeriod: time.Hour}}
}

// VerifactuSend sends one chain's unanswered VERI*FACTU records (an org
// and its issuer NIF) to the AEAT, request after request, honouring the
// waiting time the service answers. Enqueued in the transaction that
// writes a record; the periodic VerifactuSweep enqueues it again for any
// chain with records waiting (after an outage, a lost job). One job per
// chain at a time: its records leave in chain order.
type VerifactuSend struct {
	OrgID     int64  `json:"org_id"`
	IssuerNIF string `json:"issuer_nif"`
}

func (VerifactuSend) Kind() string { return "verifactu_send" }

// VerifactuSendStates are the job states in which a second VerifactuSend
// of the same chain is not inserted: one waiting or running is enough, as
// it sends everything waiting when it runs (and a record written while it
// runs is picked up by its next round or the sweep).
var VerifactuSendStates = []rivertype.JobState{
	rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRetryable,
	rivertype.JobStateRunning, rivertype.JobStateScheduled,
}

func (VerifactuSend) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueSync, MaxAttempts: 25, UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: VerifactuSendStates}}
}

// VerifactuSweep is the periodic net under VerifactuSend: every chain with
// records waiting gets its send job, so records always go out after an
// outage, a restart or a lost job.
type VerifactuSweep struct{}

func (VerifactuSweep) Kind() string { return "verifactu_sweep" }

func (VerifactuSweep) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueSync, UniqueOpts: river.UniqueOpts{ByPeriod: time.Minute}}
}

// RecurringInvoices is the periodic run of recurring invoice templates:
// every period whose date has come is issued. Exactly once per template and
// period is the database's doing (recurring_invoice_runs' key, written in
// the issuing transaction), so overlapping runs, two worker processes and
// the retry of a killed one are all safe; the unique period only saves
// work.
type RecurringInvoices struct{}

func (RecurringInvoices) Kind() string { return "recurring_invoices" }

func (RecurringInvoices) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueDefault, UniqueOpts: river.UniqueOpts{ByPeriod: time.Minute}}
}

// SummaryInvoices works one month-end run (invoice_runs): a recapitulativa
// for every customer with uninvoiced delivery notes of the month. A retry
// resumes: customers already handled have their item row.
type SummaryInvoices struct {
	OrgID int64 `json:"org_id"`
	RunID int64 `json:"run_id"`
}

func (SummaryInvoices) Kind() string { return "summary_invoices" }

// Only an unfinished job is the same: a run whose job River discarded
// (ten failed attempts) or someone cancelled gets a new one when the month
// is started again, and resumes.
func (SummaryInvoices) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueDefault, MaxAttempts: 10, UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: unfinished}}
}

// unfinished are the states of a job that will still run (or is running),
// for UniqueOpts.ByState: a completed, discarded or cancelled job does not
// stop a new one with the same args.
var unfinished = []rivertype.JobState{
	rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRetryable,
	rivertype.JobStateRunning, rivertype.JobStateScheduled,
}
