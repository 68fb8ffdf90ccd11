package workflows

import (
	"time"

	"github.com/officeflow/officeflow/internal/fail"
	"github.com/officeflow/officeflow/internal/order"
	"go.temporal.io/sdk/temporal"
)

// The workflows that run after an order is provisioned: more licences,
// users, the customer's own domain, and the subscription's renewals.
const (
	LicencesWorkflowName     = "LicencesWorkflow"
	UserWorkflowName         = "UserWorkflow"
	UserRemovalWorkflowName  = "UserRemoval"
	DomainWorkflowName       = "DomainWorkflow"
	SubscriptionWorkflowName = "SubscriptionWorkflow"

	// UpdateCancelAtPeriodEnd ends a subscription when its paid period ends.
	UpdateCancelAtPeriodEnd = "cancel_at_period_end"
	// QueryStage answers what a post-purchase workflow is doing.
	QueryStage = "stage"
)

// Workflow ids: one run per purchase, user, domain and subscription, so a
// repeated request never starts a second one (built in package order, which
// activities use too).
func LicencesWorkflowID(orderID, requestID string) string {
	return order.LicencesWorkflowID(orderID, requestID)
}
func UserWorkflowID(orderID, userName string) string { return order.UserWorkflowID(orderID, userName) }
func UserRemovalWorkflowID(orderID, userName string, attempt int) string {
	return order.UserRemovalWorkflowID(orderID, userName, attempt)
}
func DomainWorkflowID(domain string, attempt int) string {
	return order.DomainWorkflowID(domain, attempt)
}
func SubscriptionWorkflowID(orderID string) string { return order.SubscriptionWorkflowID(orderID) }

// Search attributes of the post-purchase workflows, beside Plan,
// CustomerDomain and Seats: OrderID finds every workflow of an order, and
// Stage is where each one is.
var (
	OrderIDKey = temporal.NewSearchAttributeKeyKeyword("OrderID")
	StageKey   = temporal.NewSearchAttributeKeyKeyword("Stage")
)

// Stages shown in Stage (the subscription's are the service states).
const (
	StageAwaitingPayment = "awaiting_payment"
	StageApplying        = "applying"
	StageDone            = "done"
	StageCancelled       = "cancelled"
	StageCreating        = "creating"
	StageRemoving        = "removing"
	StageFailed          = "failed"
	StageCheckingDNS     = "checking_dns"
	StageVerified        = "verified"
	// The domain's mail records: checked, all published (ready for mail),
	// or not all seen when the checks ended.
	StageCheckingRecords = "checking_records"
	StageReady           = "ready"
	StageRecordsMissing  = "records_missing"
)

// AfterAttributes are the search attributes a post-purchase workflow starts with.
func AfterAttributes(orderID, plan, domain string, seats int, stage string) temporal.SearchAttributes {
	return temporal.NewSearchAttributes(
		OrderIDKey.ValueSet(orderID),
		PlanKey.ValueSet(plan),
		CustomerDomainKey.ValueSet(domain),
		SeatsKey.ValueSet(int64(seats)),
		StageKey.ValueSet(stage),
	)
}

// LicencesInput changes an order's seats. More seats are paid for first.
type LicencesInput struct {
	OrderID   string
	ChargeID  string
	Change    int // seats added; negative lowers
	Deadline  time.Time
	Reminders []time.Time `json:",omitempty"`
}

// UserInput makes one user in the tenant.
type UserInput struct {
	OrderID  string
	UserName string
	Licensed bool
}

// DomainInput adds the customer's own domain to the tenant. Checks and
// Reminded carry the schedule across continue-as-new.
type DomainInput struct {
	OrderID     string
	Domain      string
	Attempt     int
	MakeDefault bool
	Schedule    DomainSchedule
	Started     time.Time // when the domain was added; zero until then
	Checks      int
	Reminded    int
	// Records is the phase of the mail records, once verified: a run
	// continued as new in it starts there.
	Records *RecordsPhase `json:",omitempty"`
}

// RecordsPhase carries the checks of a verified domain's mail records
// across continue-as-new: they run on the DomainSchedule from Started.
type RecordsPhase struct {
	Started  time.Time // when the domain was verified
	Checks   int
	Reminded int
}

// DomainSchedule is how often the DNS is checked and when the customer is
// reminded: every 15 minutes at first, backing off to hourly, for 14 days.
type DomainSchedule struct {
	First, Max time.Duration
	// Each interval lasts this many checks before it doubles.
	ChecksPerStep int
	GiveUpAfter   time.Duration
	Reminders     []time.Duration // after Started
	// ChecksPerRun bounds one run's history: past it the run continues as new.
	ChecksPerRun int
}

// DefaultDomainSchedule is the schedule the issue asks for.
var DefaultDomainSchedule = DomainSchedule{
	First: 15 * time.Minute, Max: time.Hour, ChecksPerStep: 8,
	GiveUpAfter: 14 * 24 * time.Hour, Reminders: []time.Duration{3 * 24 * time.Hour, 10 * 24 * time.Hour},
	ChecksPerRun: 96,
}

// SubscriptionInput is one billing period of a provisioned order; each
// period is a run of its own (continue-as-new), so history stays small.
type SubscriptionInput struct {
	OrderID   string
	Period    int
	PeriodEnd time.Time // the instant the paid period ends
	Timing    SubscriptionTiming
	// PeriodStart is when the run's period begins: for the first run the
	// purchase (zero: when the run starts), for the others the renewal.
	PeriodStart time.Time `json:",omitzero"`
	// TermPeriods is how many periods make one term at Microsoft: 12 for a
	// yearly term billed monthly; 0 or 1, each period is a term. A
	// cancellation takes effect at the term's end, and a renewal opens a
	// cancellation window only when it begins a term.
	TermPeriods int `json:",omitempty"`
	// Windows are the seat windows still open when the run began.
	Windows []SeatWindow `json:",omitempty"`
	// Cancel is a cancellation accepted while the previous run recorded
	// the renewal: this period is the last.
	Cancel *PeriodCancel `json:",omitempty"`
	// HasWindows: the run was started by code that has the cancellation
	// windows (and its next runs inherit the input), so it asks no version
	// marker whether they apply: two events and a visibility write fewer
	// per subscription. Runs started before it ask, as they did.
	HasWindows bool `json:",omitempty"`
}

// SubscriptionTiming is the renewal calendar, fixed per run so that a
// change of configuration does not move a running period's timers.
type SubscriptionTiming struct {
	Notice     time.Duration   // renewal invoice this long before the period ends
	Grace      time.Duration   // payment still taken this long after it ends
	Suspension time.Duration   // suspended this long before termination
	Reminders  []time.Duration // relative to the period's end
}

// DefaultTiming: invoice 7 days ahead, 7 days of grace, 30 days suspended.
var DefaultTiming = SubscriptionTiming{
	Notice: 7 * 24 * time.Hour, Grace: 7 * 24 * time.Hour, Suspension: 30 * 24 * time.Hour,
	Reminders: []time.Duration{-2 * 24 * time.Hour, 3 * 24 * time.Hour},
}

// PeriodCancel asks to end the subscription at the end of the paid period.
type PeriodCancel struct {
	Actor  string
	Reason string
}

// AfterResult is how a post-purchase workflow ended.
type AfterResult struct {
	Stage  string
	Reason string `json:",omitempty"`
	Seats  int    `json:",omitempty"`
}

// Error type a refused change of seats carries.
const ErrSeats = fail.SeatsRefused
