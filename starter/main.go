// Command starter is officeflow's CLI: `serve` runs the HTTP intake API
// alone; place, status, pay and cancel call a running intake API the way a
// person or a shop's script does. Any failure is one line on stderr and a
// non-zero exit, so scripts can rely on both.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/officeflow/officeflow/internal/config"
	"github.com/officeflow/officeflow/internal/intake"
	"github.com/officeflow/officeflow/internal/stack"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

var usage = `usage: starter <command> [flags] [arguments]

commands:
  serve                        run the HTTP intake API alone, against an existing
                               Temporal and PostgreSQL (reads the worker's environment)
  place -f FILE                place the order in FILE (- reads stdin)
  status ORDER_ID              show an order and its invoice
  pay [-failed] [-payment-id ID] ORDER_ID
                               send a signed payment notification for the invoice's
                               gross amount (payment id cli-ORDER_ID unless given)
  cancel [-reason TEXT] ORDER_ID
                               cancel an order that has not been provisioned yet
  documents ORDER_ID           list an order's pro-forma, VAT invoice and correction
  pdf -o FILE DOCUMENT_ID      download a document's PDF (- writes stdout)
  ksef ORDER_ID                show the KSeF state of an order's documents
  bench [-n 1000] [-c 100] [-waiting 1000] [-persistence sqlite|postgres] [-json FILE]
                               measure the saga against a bare workflow of the same
                               shape on an in-process stack (PostgreSQL from DATABASE_URL;
                               not in a -tags production build)
  op ACTION [-actor NAME] [-reason TEXT] ORDER_ID
                               an operator's action, as a Workflow Update (Temporal directly):
                               mark-paid -reference REF   a transfer seen by hand
                               extend-deadline -until T   RFC 3339 time or duration from now
                               retry-provisioning         retry the tenant step at once
                               cancel                     cancel before payment
                               retry-compensation         needs_attention: run the failed undo again
                               resolve                    needs_attention: the failed undo was done
                                                          by hand (-reason required)
  help                         show this help
` + afterUsage[1:] + `

environment of place, status, pay, cancel, documents, pdf and ksef:
  INTAKE_URL              API base URL (default http:// + HTTP_ADDR, default 127.0.0.1:8080)
  INTAKE_API_KEY          the shop's key (default the first of INTAKE_API_KEYS, else dev-key)
  PAYMENT_WEBHOOK_SECRET  HMAC key of payment notifications (default dev-secret)

environment of op (Temporal directly, like the Web UI):
  TEMPORAL_ADDRESS (default 127.0.0.1:7233), TEMPORAL_NAMESPACE (default default),
  TEMPORAL_TLS*, TEMPORAL_API_KEY as for the worker
`

func main() {
	if code, ok := benchWorkerChild(); ok {
		// `starter bench` runs its waiting orders' worker as this binary.
		os.Exit(code)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// usageError is a command line that makes no sense; it exits 2, like flag
// errors conventionally do, apart from failures of a sensible command (1).
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

var newlines = strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ")

// run is the whole CLI; main only wires it to the process.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	err := dispatch(ctx, args, stdin, stdout, stderr)
	if err == nil {
		return 0
	}
	fmt.Fprintln(stderr, "starter: "+newlines.Replace(err.Error()))
	if errors.As(err, new(usageError)) {
		return 2
	}
	return 1
}

func dispatch(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usagef(`no command; run "starter help"`)
	}
	cmd, args := args[0], args[1:]
	flags := flag.NewFlagSet(cmd, flag.ContinueOnError)
	flags.SetOutput(io.Discard) // errors are reported by run, as one line
	var err error
	switch cmd {
	case "help", "-h", "-help", "--help":
		_, err = io.WriteString(stdout, usage)
		return err
	case "serve":
		if _, err = parse(flags, args, 0); err != nil {
			return helpOr(err, stdout)
		}
		return serve(ctx, stderr)
	case "place":
		file := flags.String("f", "", "the order's JSON `file`; - reads stdin")
		if _, err = parse(flags, args, 0); err != nil {
			return helpOr(err, stdout)
		}
		if *file == "" {
			return usagef("place: -f FILE is required")
		}
		return place(ctx, *file, stdin, stdout)
	case "status":
		pos, err := parse(flags, args, 1)
		if err != nil {
			return helpOr(err, stdout)
		}
		return status(ctx, pos[0], stdout)
	case "pay":
		paymentID := flags.String("payment-id", "", "payment `id` (default cli-ORDER_ID, so that a repeat is a duplicate)")
		failed := flags.Bool("failed", false, "report a failed payment instead of a completed one")
		charge := flags.String("charge", "", "pay this later purchase's `charge_id` instead of the order")
		pos, err := parse(flags, args, 1)
		if err != nil {
			return helpOr(err, stdout)
		}
		return pay(ctx, pos[0], *paymentID, *charge, *failed, stdout)
	case "bench":
		return benchCmd(ctx, flags, args, stdout, stderr)
	case "op":
		return opCmd(ctx, flags, args, stdout)
	case "documents":
		pos, err := parse(flags, args, 1)
		if err != nil {
			return helpOr(err, stdout)
		}
		return documents(ctx, pos[0], stdout)
	case "ksef":
		pos, err := parse(flags, args, 1)
		if err != nil {
			return helpOr(err, stdout)
		}
		return ksef(ctx, pos[0], stdout)
	case "pdf":
		out := flags.String("o", "", "write the PDF to `FILE` (- for stdout)")
		pos, err := parse(flags, args, 1)
		if err != nil {
			return helpOr(err, stdout)
		}
		if *out == "" {
			return usagef("pdf: -o FILE is required")
		}
		return downloadPDF(ctx, pos[0], *out, stdout)
	case "cancel":
		reason := flags.String("reason", "", "why, for the order's timeline")
		pos, err := parse(flags, args, 1)
		if err != nil {
			return helpOr(err, stdout)
		}
		return cancel(ctx, pos[0], *reason, stdout)
	}
	if ok, err := afterCmd(ctx, cmd, flags, args, stdout); ok {
		return err
	}
	return usagef("unknown command %q", cmd)
}

// parse takes flags before and after the positional arguments, as people
// type `pay shop-1 -failed` as often as `pay -failed shop-1`, and wants
// exactly n positional ones.
func parse(set *flag.FlagSet, args []string, n int) ([]string, error) {
	var pos []string
	for {
		if err := set.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, usagef("%s: %v", set.Name(), err)
		}
		rest := set.Args()
		if len(rest) == 0 {
			break
		}
		if used := len(args) - len(rest); used > 0 && args[used-1] == "--" {
			pos = append(pos, rest...)
			break
		}
		pos, args = append(pos, rest[0]), rest[1:]
	}
	switch {
	case len(pos) == n:
		return pos, nil
	case n == 0:
		return nil, usagef("%s: unexpected argument %q", set.Name(), pos[0])
	case len(pos) < n:
		return nil, usagef("%s: ORDER_ID is required", set.Name())
	}
	return nil, usagef("%s: one ORDER_ID expected, got %d arguments", set.Name(), len(pos))
}

// helpOr answers -h with the usage on stdout, as asked for help is no error.
func helpOr(err error, stdout io.Writer) error {
	if errors.Is(err, flag.ErrHelp) {
		_, werr := io.WriteString(stdout, usage)
		return werr
	}
	return err
}

func serve(ctx context.Context, stderr io.Writer) error {
	cfg, err := config.Load(false)
	if err != nil {
		return err
	}
	// Checked before dialling anything, so a missing key is the one line.
	if err := cfg.RequireIntake(); err != nil {
		return err
	}
	log := zap.New(zapcore.NewCore(zapcore.NewJSONEncoder(zap.NewProductionEncoderConfig()), zapcore.Lock(zapcore.AddSync(stderr)), zap.InfoLevel),
		zap.ErrorOutput(zapcore.Lock(zapcore.AddSync(stderr))))
	defer log.Sync() //nolint:errcheck
	st, err := stack.Start(ctx, stack.Options{Config: cfg, Logger: log, Intake: true, Service: "officeflow-intake"})
	if err != nil {
		return err
	}
	log.Info("intake API is running", zap.String("intake_api", "http://"+st.HTTPAddr), zap.String("codec", "http://"+st.CodecAddr+"/codec"),
		zap.String("temporal", cfg.TemporalAddress), zap.String("namespace", cfg.TemporalNamespace), zap.String("task_queue", cfg.TaskQueue))
	<-ctx.Done()
	log.Info("shutting down: requests in flight are finished first")
	st.Close()
	return nil
}

func place(ctx context.Context, file string, stdin io.Reader, stdout io.Writer) error {
	var body []byte
	var err error
	if file == "-" {
		body, err = io.ReadAll(stdin)
	} else {
		body, err = os.ReadFile(file)
	}
	if err != nil {
		// "order.json: no such file or directory" reads better than Go's
		// "open order.json: ...".
		var pe *fs.PathError
		if errors.As(err, &pe) {
			return fmt.Errorf("%s: %w", pe.Path, pe.Err)
		}
		return err
	}
	c, _, err := clientFromEnv()
	if err != nil {
		return err
	}
	p, err := c.PlaceJSON(ctx, body)
	if err != nil {
		return err
	}
	return printJSON(stdout, p)
}

func status(ctx context.Context, orderID string, stdout io.Writer) error {
	c, _, err := clientFromEnv()
	if err != nil {
		return err
	}
	v, err := c.Get(ctx, orderID)
	if err != nil {
		return err
	}
	return printJSON(stdout, v)
}

// pay pays what the invoice says, not what a person types, so that the CLI
// exercises the happy path; a fixed payment id makes a repeat a duplicate.
func pay(ctx context.Context, orderID, paymentID, chargeID string, failed bool, stdout io.Writer) error {
	c, secret, err := clientFromEnv()
	if err != nil {
		return err
	}
	n := intake.Notification{OrderID: orderID, PaymentID: paymentID, Status: "completed", ChargeID: chargeID}
	if chargeID != "" {
		if n.Amount, n.Currency, err = chargeAmount(ctx, c, orderID, chargeID); err != nil {
			return err
		}
		if n.PaymentID == "" {
			n.PaymentID = "cli-" + chargeID
		}
	} else {
		v, err := c.Get(ctx, orderID)
		if err != nil {
			return err
		}
		if v.Invoice == nil {
			return fmt.Errorf("order %s has no invoice yet (status %s)", orderID, v.Status)
		}
		n.Amount, n.Currency = v.Invoice.Gross, v.Invoice.Currency
		if n.PaymentID == "" {
			n.PaymentID = "cli-" + v.OrderID
		}
	}
	if failed {
		n.Status = "failed"
	}
	dup, err := c.Notify(ctx, secret, n)
	if err != nil {
		return err
	}
	return printJSON(stdout, struct {
		intake.Notification
		Duplicate bool `json:"duplicate"`
	}{n, dup})
}

// cancel shows the order as it is after the cancel, which says more than
// the bare acknowledgement; cancelling again is harmless if the read fails.
func cancel(ctx context.Context, orderID, reason string, stdout io.Writer) error {
	c, _, err := clientFromEnv()
	if err != nil {
		return err
	}
	if err := c.Cancel(ctx, orderID, reason); err != nil {
		return err
	}
	v, err := c.Get(ctx, orderID)
	if err != nil {
		return fmt.Errorf("cancel accepted, but reading the order failed: %w", err)
	}
	return printJSON(stdout, v)
}

// clientFromEnv follows the server's variables, so that the CLI finds a
// local `worker -dev` with no setup at all.
func clientFromEnv() (*intake.Client, []byte, error) {
	base := os.Getenv("INTAKE_URL")
	if base == "" {
		addr := envOr("HTTP_ADDR", "127.0.0.1:8080")
		host, port, err := net.SplitHostPort(addr)
		if err != nil {
			return nil, nil, fmt.Errorf("HTTP_ADDR: %q is not host:port", addr)
		}
		// A server listening on all interfaces is reached on loopback.
		if host == "" || host == "0.0.0.0" || host == "::" {
			host = "127.0.0.1"
		}
		base = "http://" + net.JoinHostPort(host, port)
	} else if u, err := url.Parse(base); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, nil, fmt.Errorf("INTAKE_URL: %q is not an http(s) URL", base)
	}
	key := os.Getenv("INTAKE_API_KEY")
	if key == "" {
		for k := range strings.SplitSeq(os.Getenv("INTAKE_API_KEYS"), ",") {
			if k = strings.TrimSpace(k); k != "" {
				key = k
				break
			}
		}
	}
	if key == "" {
		key = "dev-key"
	}
	secret := envOr("PAYMENT_WEBHOOK_SECRET", "dev-secret")
	return intake.NewClient(base, key, nil), []byte(secret), nil
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false) // URLs stay readable
	return enc.Encode(v)
}
