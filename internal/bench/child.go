package bench

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/officeflow/officeflow/internal/config"
	"github.com/officeflow/officeflow/internal/stack"
	"go.uber.org/zap"
)

// The waiting orders' memory is the worker's alone: the embedded server,
// the intake and the mail sink of the bench's own process would be in any
// in-process figure. So the waiting orders go to a task queue that only a
// worker in a child process serves: the bench's own executable run again
// with childEnv set, which answers each line on its stdin with its memory.

const (
	childEnv     = "OFFICEFLOW_BENCH_WORKER"
	waitingQueue = "bench-waiting"
)

// IsWorkerChild tells a main (the CLI's, a test binary's) that it was
// started as the bench's worker process and must run WorkerChild instead.
func IsWorkerChild() bool { return os.Getenv(childEnv) == "1" }

// WorkerChild runs a worker from the environment's configuration until
// stdin closes, writing "ready" and then, for each line read, its memory as
// JSON. It returns the process's exit code.
func WorkerChild() int {
	stack.TuneGC() // as the worker runs
	cfg, err := config.Load(true)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench worker:", err)
		return 1
	}
	st, err := stack.Start(context.Background(), stack.Options{Config: cfg, Logger: zap.NewNop(), Worker: true, Service: "officeflow-bench-worker"})
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench worker:", err)
		return 1
	}
	defer st.Close()
	out := json.NewEncoder(os.Stdout)
	fmt.Println("ready")
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		m := memNow()
		if err := out.Encode(map[string]int64{"heap": m.heap, "rss": m.rss}); err != nil {
			return 1
		}
	}
	return 0
}

// child is the worker process as the bench sees it.
type child struct {
	cmd *exec.Cmd
	in  io.WriteCloser
	out *bufio.Scanner
}

func (r *runner) startChild(ctx context.Context) (*child, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cfg := r.o.Config
	cmd := exec.CommandContext(ctx, exe)
	cmd.Env = append(os.Environ(), childEnv+"=1",
		"TEMPORAL_ADDRESS="+r.st.Temporal.Address(), "TEMPORAL_NAMESPACE="+cfg.TemporalNamespace,
		"TEMPORAL_TASK_QUEUE="+waitingQueue, "DATABASE_URL="+cfg.DatabaseURL,
		"SMTP_HOST="+r.st.Sink.Host(), "SMTP_PORT="+strconv.Itoa(r.st.Sink.Port()), "SMTP_TLS=none",
		"PARTNER_API_URL="+r.st.FakeURL, "PAYLOAD_KEYS="+cfg.PayloadKeysEnv(),
		// The bench's KSeF fake, so that the worker holds a KSeF client as
		// a production worker does, and no fake of its own.
		"KSEF_URL="+r.st.KSeFFakeURL, "KSEF_TOKEN="+config.DevKSeFToken,
		"CREDENTIALS_KEY="+base64.StdEncoding.EncodeToString(cfg.CredentialsKey),
		"METRICS_ADDR=", "OTEL_EXPORTER_OTLP_ENDPOINT=", "HTTP_ADDR=127.0.0.1:0",
	)
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	c := &child{cmd: cmd, in: in, out: bufio.NewScanner(stdout)}
	// Lines before "ready" are whatever the child's main printed first.
	for c.out.Scan() {
		if strings.TrimSpace(c.out.Text()) == "ready" {
			return c, nil
		}
	}
	c.stop()
	return nil, fmt.Errorf("bench worker process ended before it was ready: %v", c.out.Err())
}

func (c *child) memory() (memory, error) {
	if _, err := io.WriteString(c.in, "mem\n"); err != nil {
		return memory{}, err
	}
	if !c.out.Scan() {
		return memory{}, fmt.Errorf("bench worker process: no answer: %v", c.out.Err())
	}
	var m map[string]int64
	if err := json.Unmarshal(c.out.Bytes(), &m); err != nil {
		return memory{}, fmt.Errorf("bench worker process: %q: %w", c.out.Text(), err)
	}
	return memory{heap: m["heap"], rss: m["rss"]}, nil
}

// stop closes its stdin, on which it shuts down; it is killed if that takes
// longer than the worker's own stop timeout.
func (c *child) stop() {
	_ = c.in.Close()
	done := make(chan struct{})
	go func() { _ = c.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(45 * time.Second):
		_ = c.cmd.Process.Kill()
		<-done
	}
}
