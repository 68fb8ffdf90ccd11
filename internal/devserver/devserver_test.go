package devserver

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/officeflow/officeflow/internal/pgtest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
	pgschema "go.temporal.io/server/schema/postgresql/v12"
)

const testTaskQueue = "devserver-test"

func greetWorkflow(ctx workflow.Context, name string) (string, error) {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: 10 * time.Second})
	var out string
	err := workflow.ExecuteActivity(ctx, greetActivity, name).Get(ctx, &out)
	return out, err
}

func greetActivity(_ context.Context, name string) (string, error) {
	return "hello " + name, nil
}

func dial(t *testing.T, s *Server) client.Client {
	t.Helper()
	c, err := client.Dial(client.Options{
		HostPort:  s.Address(),
		Namespace: s.Namespace(),
		Logger:    sdklog.NewStructuredLogger(slog.New(slog.DiscardHandler)),
	})
	require.NoError(t, err)
	return c
}

// roundTrip runs greetWorkflow with its activity through a worker to
// completion and returns the workflow's ID and run ID.
func roundTrip(t *testing.T, s *Server, name string) (string, string) {
	t.Helper()
	c := dial(t, s)
	defer c.Close()
	w := worker.New(c, testTaskQueue, worker.Options{})
	w.RegisterWorkflow(greetWorkflow)
	w.RegisterActivity(greetActivity)
	require.NoError(t, w.Start())
	defer w.Stop()

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "greet-" + name, TaskQueue: testTaskQueue}, greetWorkflow, name)
	require.NoError(t, err)
	var out string
	require.NoError(t, run.Get(ctx, &out))
	assert.Equal(t, "hello "+name, out)
	return run.GetID(), run.GetRunID()
}

// historyTypes lists the event types of a workflow run's history.
func historyTypes(t *testing.T, c client.Client, id, runID string) []enumspb.EventType {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	it := c.GetWorkflowHistory(ctx, id, runID, false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	var types []enumspb.EventType
	for it.HasNext() {
		e, err := it.Next()
		require.NoError(t, err)
		types = append(types, e.GetEventType())
	}
	return types
}

func TestSQLiteInMemoryRoundTrip(t *testing.T) {
	start := time.Now()
	s, err := Start(Options{})
	require.NoError(t, err)
	defer s.Stop()
	t.Logf("start-up on in-memory SQLite: %v", time.Since(start))
	assert.Equal(t, "default", s.Namespace())

	id, runID := roundTrip(t, s, "sqlite")
	c := dial(t, s)
	defer c.Close()
	types := historyTypes(t, c, id, runID)
	assert.Contains(t, types, enumspb.EVENT_TYPE_ACTIVITY_TASK_COMPLETED)
	assert.Contains(t, types, enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED)
}

// postgresDatabases names a fresh database pair temporal_test_<random> (+
// _visibility) on the server of DATABASE_URL (or pgtest's default) and drops
// both at the end of the test. It returns the URL for Options.PostgresURL,
// as a string and parsed.
func postgresDatabases(t *testing.T) (string, *url.URL) {
	t.Helper()
	base := os.Getenv("DATABASE_URL")
	if base == "" {
		base = pgtest.DefaultURL
	}
	u, err := url.Parse(base)
	require.NoError(t, err)
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := "temporal_test_" + hex.EncodeToString(b)
	u.Path = "/" + name
	admin := *u
	admin.Path = "/postgres"
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, admin.String())
		if !assert.NoError(t, err, "drop test databases") {
			return
		}
		defer conn.Close(ctx)
		for _, db := range []string{name, name + "_visibility"} {
			_, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{db}.Sanitize()+" WITH (FORCE)")
			assert.NoError(t, err, "drop %s", db)
		}
	})
	return u.String(), u
}

// schemaVersion reads the version the schema setup recorded in a database.
func schemaVersion(t *testing.T, u url.URL, db string) string {
	t.Helper()
	u.Path = "/" + db
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, u.String())
	require.NoError(t, err)
	defer conn.Close(ctx)
	var v string
	require.NoError(t, conn.QueryRow(ctx, "SELECT curr_version FROM schema_version WHERE db_name = $1", db).Scan(&v))
	return v
}

func TestPostgresRoundTripSurvivesRestart(t *testing.T) {
	dbURL, u := postgresDatabases(t)
	name := u.Path[1:]

	start := time.Now()
	s, err := Start(Options{PostgresURL: dbURL, Namespace: "bench"})
	require.NoError(t, err)
	t.Logf("first start-up on PostgreSQL (create databases, full schema, register namespace): %v", time.Since(start))
	stopped := false
	defer func() {
		if !stopped {
			s.Stop()
		}
	}()
	assert.Equal(t, pgschema.Version, schemaVersion(t, *u, name))
	assert.Equal(t, pgschema.VisibilityVersion, schemaVersion(t, *u, name+"_visibility"))

	id, runID := roundTrip(t, s, "postgres")
	s.Stop()
	stopped = true

	// Same databases again: setup finds everything in place.
	start = time.Now()
	s2, err := Start(Options{PostgresURL: dbURL, Namespace: "bench"})
	require.NoError(t, err)
	defer s2.Stop()
	t.Logf("second start-up on PostgreSQL (existing databases): %v", time.Since(start))

	c := dial(t, s2)
	defer c.Close()
	types := historyTypes(t, c, id, runID)
	assert.Contains(t, types, enumspb.EVENT_TYPE_ACTIVITY_TASK_COMPLETED)
	assert.Contains(t, types, enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED)

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	desc, err := c.DescribeWorkflowExecution(ctx, id, runID)
	require.NoError(t, err)
	assert.Equal(t, enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED, desc.GetWorkflowExecutionInfo().GetStatus())
	// Visibility lives in the second database and survived as well.
	list, err := c.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Query: "WorkflowId = '" + id + "'"})
	require.NoError(t, err)
	if assert.Len(t, list.GetExecutions(), 1) {
		assert.Equal(t, runID, list.GetExecutions()[0].GetExecution().GetRunId())
	}

	// And the restarted server runs new work.
	roundTrip(t, s2, "postgres-again")
}
