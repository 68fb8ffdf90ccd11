package intake

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgproto3"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/officeflow/officeflow/internal/store"
	"github.com/officeflow/officeflow/workflows"
	"go.temporal.io/sdk/client"
	"go.uber.org/zap"
)

// The real Server takes a *store.Store (a pgx pool) and a Temporal client.
// For the fuzzers both are stand-ins that record what the handler asked of
// them, so that the real handler, the real store code and the real decode
// and validation run on every input without PostgreSQL or Temporal:
//
//   - fakePostgres speaks the PostgreSQL wire protocol over an in-memory pipe
//     to the pool's connections, records every statement with its parameters,
//     and answers the statements the intake sends as an empty database would:
//     no order exists yet, every insert succeeds. Like PostgreSQL it refuses
//     a text parameter holding a NUL byte or invalid UTF-8 (SQLSTATE 22021),
//     so a value the validator lets through but the database cannot store
//     shows as the 503 it would be in production.
//   - fakeTemporal records Update-with-Start and SignalWorkflow and succeeds;
//     its place update records the order as the workflow's RecordOrder does;
//     any other call panics on the nil embedded client, which the server's
//     recoverer turns into a 500 that the fuzzers report.

const (
	fuzzShopKey = "fuzz-shop-key"
	fuzzSecret  = "fuzz-webhook-secret"
)

// pgCall is one statement a pool connection sent.
type pgCall struct {
	SQL    string
	Params []string // text form of each parameter as sent
}

type fakePostgres struct {
	mu         sync.Mutex
	calls      []pgCall
	unexpected []string // statements it had no answer for, and refusals
}

func (db *fakePostgres) reset() {
	db.mu.Lock()
	defer db.mu.Unlock()
	db.calls, db.unexpected = nil, nil
}

func (db *fakePostgres) snapshot() ([]pgCall, []string) {
	db.mu.Lock()
	defer db.mu.Unlock()
	return append([]pgCall(nil), db.calls...), append([]string(nil), db.unexpected...)
}

func (db *fakePostgres) record(c pgCall) {
	db.mu.Lock()
	defer db.mu.Unlock()
	db.calls = append(db.calls, c)
}

func (db *fakePostgres) refuse(why string) {
	db.mu.Lock()
	defer db.mu.Unlock()
	db.unexpected = append(db.unexpected, why)
}

// pool returns a pgx pool whose connections all talk to db.
func (db *fakePostgres) pool(tb testing.TB) *pgxpool.Pool {
	tb.Helper()
	cfg, err := pgxpool.ParseConfig("host=127.0.0.1 port=5432 user=fuzz dbname=fuzz sslmode=disable")
	if err != nil {
		tb.Fatal(err)
	}
	// One round trip per statement, parameters as text: what the fake
	// records is what PostgreSQL would be asked to store.
	cfg.ConnConfig.DefaultQueryExecMode = pgx.QueryExecModeExec
	cfg.ConnConfig.DialFunc = func(ctx context.Context, network, addr string) (net.Conn, error) {
		client, server := net.Pipe()
		go db.serve(server)
		return client, nil
	}
	p, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(p.Close)
	return p
}

// pgAnswer is what the fake returns for one statement.
type pgAnswer struct {
	fields []pgproto3.FieldDescription // nil: NoData
	rows   [][][]byte
	tag    string
}

func pgFields(oids ...uint32) []pgproto3.FieldDescription {
	f := make([]pgproto3.FieldDescription, len(oids))
	for i, oid := range oids {
		f[i] = pgproto3.FieldDescription{Name: fmt.Appendf(nil, "c%d", i), DataTypeOID: oid, DataTypeSize: -1, TypeModifier: -1}
	}
	return f
}

const (
	oidBytea       = 17
	oidInt8        = 20
	oidText        = 25
	oidTimestamptz = 1184
)

const fakePlacedAt = "2026-11-25 10:00:00+00"
const fakeDeadline = "2026-12-02 10:00:00+00"

// answerFor answers the statements of store.PlaceOrder and store.GetOrder as
// an empty database would.
func answerFor(sql string) (pgAnswer, bool) {
	switch s := strings.Join(strings.Fields(sql), " "); {
	case strings.HasPrefix(s, "SELECT request_hash, shop, status, placed_at, payment_deadline, placed_by_run FROM orders"):
		return pgAnswer{fields: pgFields(oidBytea, oidText, oidText, oidTimestamptz, oidTimestamptz, oidText), tag: "SELECT 0"}, true
	case strings.HasPrefix(s, "INSERT INTO customers"):
		return pgAnswer{fields: pgFields(oidInt8), rows: [][][]byte{{[]byte("1")}}, tag: "INSERT 0 1"}, true
	case strings.HasPrefix(s, "WITH c AS ( INSERT INTO customers"): // the customer and the order in one
		return pgAnswer{fields: pgFields(oidTimestamptz, oidTimestamptz), rows: [][][]byte{{[]byte(fakePlacedAt), []byte(fakeDeadline)}}, tag: "INSERT 0 1"}, true
	case strings.HasPrefix(s, "INSERT INTO orders"):
		return pgAnswer{fields: pgFields(oidTimestamptz, oidTimestamptz), rows: [][][]byte{{[]byte(fakePlacedAt), []byte(fakeDeadline)}}, tag: "INSERT 0 1"}, true
	case strings.HasPrefix(s, "INSERT INTO domain_reservations"), strings.HasPrefix(s, "INSERT INTO order_events"):
		return pgAnswer{tag: "INSERT 0 1"}, true
	case strings.HasPrefix(s, "SELECT o.order_id, o.shop,"): // GetOrder: no such order
		oids := make([]uint32, 39)
		for i := range oids {
			oids[i] = oidText
		}
		return pgAnswer{fields: pgFields(oids...), tag: "SELECT 0"}, true
	}
	return pgAnswer{}, false
}

// serve is one backend connection.
func (db *fakePostgres) serve(conn net.Conn) {
	defer conn.Close()
	be := pgproto3.NewBackend(conn, conn)
	if _, err := be.ReceiveStartupMessage(); err != nil {
		return
	}
	be.Send(&pgproto3.AuthenticationOk{})
	for _, p := range [][2]string{{"server_version", "17.0"}, {"client_encoding", "UTF8"}, {"server_encoding", "UTF8"},
		{"standard_conforming_strings", "on"}, {"DateStyle", "ISO, MDY"}, {"TimeZone", "UTC"}, {"integer_datetimes", "on"}} {
		be.Send(&pgproto3.ParameterStatus{Name: p[0], Value: p[1]})
	}
	be.Send(&pgproto3.BackendKeyData{ProcessID: 1, SecretKey: []byte{0, 0, 0, 1}})
	be.Send(&pgproto3.ReadyForQuery{TxStatus: 'I'})
	if be.Flush() != nil {
		return
	}
	tx := byte('I')
	var sql string
	var cur pgAnswer
	failed := false
	fail := func(code, msg string) {
		db.refuse(msg)
		be.Send(&pgproto3.ErrorResponse{Severity: "ERROR", SeverityUnlocalized: "ERROR", Code: code, Message: msg})
		failed = true
		if tx == 'T' {
			tx = 'E'
		}
	}
	for {
		msg, err := be.Receive()
		if err != nil {
			return
		}
		switch m := msg.(type) {
		case *pgproto3.Query: // begin, commit, rollback, pings
			q := strings.ToLower(strings.TrimSpace(m.String))
			switch {
			case q == "" || strings.HasPrefix(q, "--") || q == ";":
				be.Send(&pgproto3.EmptyQueryResponse{})
			case strings.HasPrefix(q, "begin"):
				tx = 'T'
				be.Send(&pgproto3.CommandComplete{CommandTag: []byte("BEGIN")})
			case q == "commit":
				if tx == 'E' {
					be.Send(&pgproto3.CommandComplete{CommandTag: []byte("ROLLBACK")})
				} else {
					be.Send(&pgproto3.CommandComplete{CommandTag: []byte("COMMIT")})
				}
				tx = 'I'
			case q == "rollback":
				tx = 'I'
				be.Send(&pgproto3.CommandComplete{CommandTag: []byte("ROLLBACK")})
			default:
				db.refuse("unexpected simple query: " + m.String)
				be.Send(&pgproto3.ErrorResponse{Severity: "ERROR", Code: "XX000", Message: "fake postgres: unexpected query"})
			}
			be.Send(&pgproto3.ReadyForQuery{TxStatus: tx})
			if be.Flush() != nil {
				return
			}
		case *pgproto3.Parse:
			sql = m.Query
			if !failed {
				be.Send(&pgproto3.ParseComplete{})
			}
		case *pgproto3.Bind:
			if failed {
				continue
			}
			c := pgCall{SQL: sql}
			for i, p := range m.Parameters {
				binary := len(m.ParameterFormatCodes) == 1 && m.ParameterFormatCodes[0] == 1 ||
					len(m.ParameterFormatCodes) > i && m.ParameterFormatCodes[i] == 1
				if !binary && p != nil && (bytes.IndexByte(p, 0) >= 0 || !utf8.Valid(p)) {
					fail("22021", fmt.Sprintf("invalid byte sequence for encoding \"UTF8\" in parameter $%d of %q", i+1, firstLine(sql)))
					break
				}
				c.Params = append(c.Params, string(p))
			}
			if failed {
				continue
			}
			db.record(c)
			a, ok := answerFor(sql)
			if !ok {
				fail("XX000", "fake postgres: unexpected statement "+firstLine(sql))
				continue
			}
			cur = a
			be.Send(&pgproto3.BindComplete{})
		case *pgproto3.Describe:
			if failed {
				continue
			}
			if cur.fields == nil {
				be.Send(&pgproto3.NoData{})
			} else {
				be.Send(&pgproto3.RowDescription{Fields: cur.fields})
			}
		case *pgproto3.Execute:
			if failed {
				continue
			}
			for _, r := range cur.rows {
				be.Send(&pgproto3.DataRow{Values: r})
			}
			be.Send(&pgproto3.CommandComplete{CommandTag: []byte(cur.tag)})
		case *pgproto3.Sync:
			failed, cur = false, pgAnswer{}
			be.Send(&pgproto3.ReadyForQuery{TxStatus: tx})
			if be.Flush() != nil {
				return
			}
		case *pgproto3.Terminate:
			return
		default:
			db.refuse(fmt.Sprintf("unexpected message %T", msg))
			return
		}
	}
}

func firstLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 60 {
		s = s[:60] + "..."
	}
	return s
}

type started struct {
	ID    string
	Input workflows.OrderInput
}

type fakeTemporal struct {
	client.Client // nil: a call the fake does not stand in for panics
	mu            sync.Mutex
	started       []started
	signals       []string
	store         *store.Store // where the stand-in workflow records its order
}

func (f *fakeTemporal) reset() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.started, f.signals = nil, nil
}

func (f *fakeTemporal) snapshot() ([]started, []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]started(nil), f.started...), append([]string(nil), f.signals...)
}

func (f *fakeTemporal) NewWithStartWorkflowOperation(o client.StartWorkflowOptions, wf any, args ...any) client.WithStartWorkflowOperation {
	return newStartOp(o, args)
}

// UpdateWithStartWorkflow records the start and answers the place update as
// the workflow would, recording the order on the stand-in PostgreSQL.
func (f *fakeTemporal) UpdateWithStartWorkflow(ctx context.Context, o client.UpdateWithStartWorkflowOptions) (client.WorkflowUpdateHandle, error) {
	op := o.StartWorkflowOperation.(*startOp)
	s := started{ID: op.opts.ID}
	if len(op.args) == 1 {
		s.Input, _ = op.args[0].(workflows.OrderInput)
	}
	f.mu.Lock()
	f.started = append(f.started, s)
	f.mu.Unlock()
	return placeInline(ctx, f.store, o)
}

func (f *fakeTemporal) SignalWorkflow(ctx context.Context, workflowID, runID, signalName string, arg any) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.signals = append(f.signals, workflowID+" "+signalName)
	return nil
}

// standIn is a real Server on the two stand-ins.
type standIn struct {
	db       *fakePostgres
	temporal *fakeTemporal
	srv      *Server
}

func newStandIn(tb testing.TB) *standIn {
	tb.Helper()
	db := &fakePostgres{}
	st := &store.Store{Pool: db.pool(tb)}
	tc := &fakeTemporal{store: st}
	return &standIn{db: db, temporal: tc, srv: &Server{
		Store: st, Temporal: tc, TaskQueue: "fuzz",
		Keys: []string{"other-shop-key", fuzzShopKey}, WebhookSecret: []byte(fuzzSecret),
		Deadline: 168 * time.Hour, Log: zap.NewNop(),
	}}
}

func (s *standIn) reset() {
	s.db.reset()
	s.temporal.reset()
}
