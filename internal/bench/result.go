package bench

import "time"

// Result is a run's figures; Render shows them against the goals.
type Result struct {
	Persistence string `json:"persistence"`
	Orders      int    `json:"orders"`
	Concurrency int    `json:"concurrency"`
	Waiting     int    `json:"waiting"`
	// GOGC is the garbage collector's target the bench's process (both
	// phases, the embedded server and the worker) ran with: the worker's,
	// stack.TuneGC's, unless GOGC was set.
	GOGC int `json:"gogc"`

	Floor       Flow        `json:"floor"`
	Saga        Flow        `json:"saga"`
	Credentials Credentials `json:"pay_to_credentials"`
	DB          DB          `json:"db"`
	Memory      Memory      `json:"memory"`
	Storage     Storage     `json:"storage"`
	Accept      Accept      `json:"accept"`
	KSeF        KSeF        `json:"ksef"`
	Documents   Documents   `json:"document_cost"`
	Ratios      Ratios      `json:"ratios"`
}

// Credentials is, per saga order, from the start of the signed payment
// notification's POST to the arrival of its credentials email in the mail
// sink.
type Credentials struct {
	P50MS float64 `json:"p50_ms"`
	P99MS float64 `json:"p99_ms"`
}

// Storage is how much the order store and Temporal's persistence grew while
// the Waiting orders were placed and parked at awaiting_payment.
type Storage struct {
	// TemporalStore says what Temporal's growth is measured on:
	// "postgres" (pg_database_size of its database and its visibility
	// database), "sqlite file" (the file, its WAL and shared memory) or
	// "sqlite in memory" (not measured: TemporalMeasured is false).
	TemporalStore    string `json:"temporal_store"`
	TemporalMeasured bool   `json:"temporal_measured"`
	// pg_database_size of the order store's database.
	StoreBytesDelta      int64   `json:"store_bytes_delta"`
	StoreKBPerWaiting    float64 `json:"store_kb_per_waiting"`
	TemporalBytesDelta   int64   `json:"temporal_bytes_delta"`
	TemporalKBPerWaiting float64 `json:"temporal_kb_per_waiting"`
}

// Documents is the CPU each document kind costs, in milliseconds of the
// process's CPU a document over Renders of each, made in-process from a
// saga order's VAT invoice and a correction of it.
type Documents struct {
	Renders         int     `json:"renders"`
	PDFInvoiceMS    float64 `json:"pdf_invoice_ms"`
	PDFCorrectionMS float64 `json:"pdf_correction_ms"`
	FA3InvoiceMS    float64 `json:"fa3_invoice_ms"`
	FA3CorrectionMS float64 `json:"fa3_correction_ms"`
}

// KSeF is what the saga phase's invoices cost in their KSeF workflows
// (against KSeF's fake), beside the floor's KSeF workflows of no-ops.
type KSeF struct {
	Documents int `json:"documents"`
	// From the invoice's issue (ksef_documents.created_at, MarkPaid's
	// transaction) to KSeF's acceptance (accepted_at); the floor's from its
	// MarkPaid step starting its KSeF workflow to the end of its send step.
	P50MS      float64 `json:"p50_ms"`
	P95MS      float64 `json:"p95_ms"`
	FloorP50MS float64 `json:"floor_p50_ms"`
	FloorP95MS float64 `json:"floor_p95_ms"`
	// From the payment notification the bench sent to accepted_at.
	PaidP50MS float64 `json:"paid_p50_ms"`
	PaidP95MS float64 `json:"paid_p95_ms"`
	// What the KSeF workflows' activities sent the store, of DB's counts:
	// transactions as pg_stat_database counts them (a BEGIN, or a
	// statement outside one).
	Transactions            int64   `json:"transactions"`
	TransactionsPerDocument float64 `json:"transactions_per_document"`
	Queries                 int64   `json:"queries"`
	QueriesPerDocument      float64 `json:"queries_per_document"`
	Begins                  int64   `json:"begins"`
	HistoryEventsAvg        float64 `json:"history_events_avg"`
	FloorHistoryEventsAvg   float64 `json:"floor_history_events_avg"`
}

// Flow is the floor's or the saga's run of Orders orders.
type Flow struct {
	Seconds            float64 `json:"seconds"`
	OrdersPerSecond    float64 `json:"orders_per_second"`
	P50MS              float64 `json:"p50_ms"`
	P95MS              float64 `json:"p95_ms"`
	P99MS              float64 `json:"p99_ms"`
	CPUSeconds         float64 `json:"cpu_seconds"`
	CPUSecondsPerOrder float64 `json:"cpu_seconds_per_order"`
	HistoryEventsAvg   float64 `json:"history_events_avg"`
	HistoryEventsMax   int     `json:"history_events_max"`
	// PlacementsRetried are placements the intake answered 503 (its own
	// bound passed) and the bench sent again, as a shop does.
	PlacementsRetried int64 `json:"placements_retried"`
}

// DB is what the saga phase cost the order store, its orders' KSeF
// workflows included.
type DB struct {
	Transactions            int64   `json:"transactions"`
	TransactionsPerOrder    float64 `json:"transactions_per_order"`
	TransactionsPerActivity float64 `json:"transactions_per_activity"`
	Queries                 int64   `json:"queries"`
	QueriesPerOrder         float64 `json:"queries_per_order"`
	// Begins are the explicit transactions (BEGIN ... COMMIT) among
	// Transactions; the rest are statements run on their own.
	Begins         int64   `json:"begins"`
	BeginsPerOrder float64 `json:"begins_per_order"`
}

// Memory is what Waiting orders at awaiting_payment added to a worker
// process of their own, beyond what it held idle.
type Memory struct {
	IdleHeapBytes  int64   `json:"idle_heap_bytes"`
	IdleRSSBytes   int64   `json:"idle_rss_bytes"`
	HeapDeltaBytes int64   `json:"heap_delta_bytes"`
	RSSDeltaBytes  int64   `json:"rss_delta_bytes"`
	HeapMBPer1000  float64 `json:"heap_mb_per_1000"`
	RSSMBPer1000   float64 `json:"rss_mb_per_1000"`
}

// Accept is how fast orders are taken: POST /v1/orders against a bare
// ExecuteWorkflow of the floor.
type Accept struct {
	IntakePerSecond float64 `json:"intake_per_second"`
	DirectPerSecond float64 `json:"direct_per_second"`
	// IntakeRetried and DirectRetried are placements sent again after
	// their bound (45 s) passed, as the saga's are.
	IntakeRetried int64 `json:"intake_retried"`
	DirectRetried int64 `json:"direct_retried"`
}

// Ratios are saga/floor, and intake/direct for Accept.
type Ratios struct {
	Throughput float64 `json:"throughput"`
	P50        float64 `json:"p50"`
	P95        float64 `json:"p95"`
	P99        float64 `json:"p99"`
	CPU        float64 `json:"cpu"`
	Accept     float64 `json:"accept"`
}

// mb is a megabyte as the goals count them, kb a kilobyte.
const (
	mb = 1e6
	kb = 1e3
)

func (f *Flow) measured(lat []time.Duration, wall time.Duration, cpu float64) {
	n := float64(len(lat))
	f.Seconds = wall.Seconds()
	f.OrdersPerSecond = ratio(n, f.Seconds)
	f.P50MS, f.P95MS, f.P99MS = percentileMS(lat, 0.50), percentileMS(lat, 0.95), percentileMS(lat, 0.99)
	f.CPUSeconds, f.CPUSecondsPerOrder = cpu, ratio(cpu, n)
}

// fill derives the per-order figures and the ratios from the counts.
func (r *Result) fill() {
	n := float64(r.Orders)
	r.DB.TransactionsPerOrder = ratio(float64(r.DB.Transactions), n)
	r.DB.TransactionsPerActivity = ratio(r.DB.TransactionsPerOrder, orderActivities)
	r.DB.QueriesPerOrder = ratio(float64(r.DB.Queries), n)
	r.DB.BeginsPerOrder = ratio(float64(r.DB.Begins), n)
	r.KSeF.TransactionsPerDocument = ratio(float64(r.KSeF.Transactions), float64(r.KSeF.Documents))
	r.KSeF.QueriesPerDocument = ratio(float64(r.KSeF.Queries), float64(r.KSeF.Documents))
	w := float64(r.Waiting) / 1000
	r.Memory.HeapMBPer1000 = ratio(float64(r.Memory.HeapDeltaBytes)/mb, w)
	r.Memory.RSSMBPer1000 = ratio(float64(r.Memory.RSSDeltaBytes)/mb, w)
	r.Storage.StoreKBPerWaiting = ratio(float64(r.Storage.StoreBytesDelta)/kb, float64(r.Waiting))
	r.Storage.TemporalKBPerWaiting = ratio(float64(r.Storage.TemporalBytesDelta)/kb, float64(r.Waiting))
	r.Ratios = Ratios{
		Throughput: ratio(r.Saga.OrdersPerSecond, r.Floor.OrdersPerSecond),
		P50:        ratio(r.Saga.P50MS, r.Floor.P50MS),
		P95:        ratio(r.Saga.P95MS, r.Floor.P95MS),
		P99:        ratio(r.Saga.P99MS, r.Floor.P99MS),
		CPU:        ratio(r.Saga.CPUSecondsPerOrder, r.Floor.CPUSecondsPerOrder),
		Accept:     ratio(r.Accept.IntakePerSecond, r.Accept.DirectPerSecond),
	}
}
