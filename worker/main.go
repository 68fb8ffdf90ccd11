// Command worker runs officeflow's order saga worker; with -dev it runs the
// whole stack in one process: an embedded Temporal server with its Web UI,
// the worker, the intake API, a tenant API fake and a mail sink. A build
// with -tags production (the images) has no -dev.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"
	_ "time/tzdata" // invoice dates are Polish dates on any host

	"github.com/officeflow/officeflow/internal/config"
	"github.com/officeflow/officeflow/internal/stack"
	"go.temporal.io/sdk/client"
	"go.uber.org/zap"
)

func main() {
	dev := flag.Bool("dev", false, "run the whole stack in this process with embedded defaults")
	devDB := flag.String("dev-db", "", "with -dev: keep Temporal's state in this SQLite file (default: in memory)")
	uiAddr := flag.String("ui", "127.0.0.1:8233", "with -dev: where the Temporal Web UI listens")
	flag.Parse()
	if flag.Arg(0) == "setup-namespace" {
		if err := setupNamespace(); err != nil {
			fmt.Fprintln(os.Stderr, "worker setup-namespace:", err)
			os.Exit(1)
		}
		return
	}
	if *dev && !stack.HasDev {
		fmt.Fprintln(os.Stderr, "worker: -dev:", stack.ErrNoDev)
		os.Exit(2)
	}
	if err := run(*dev, *devDB, *uiAddr); err != nil {
		fmt.Fprintln(os.Stderr, "worker:", err)
		os.Exit(1)
	}
}

func run(dev bool, devDB, uiAddr string) error {
	cfg, err := config.Load(dev)
	if err != nil {
		return err
	}
	if err := cfg.RequireWorker(); err != nil {
		return err
	}
	log, err := newLogger(dev)
	if err != nil {
		return err
	}
	defer log.Sync() //nolint:errcheck

	gogc := stack.TuneGC()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	opts := stack.Options{Config: cfg, Logger: log, Worker: true, Service: "officeflow-worker"}
	if dev {
		opts.EmbedTemporal, opts.Intake, opts.TemporalDB, opts.UIAddress = true, true, devDB, uiAddr
		opts.DataDir, opts.Service = "officeflow-dev", "officeflow"
		if devDB != "" {
			if devDB, err = filepath.Abs(devDB); err != nil {
				return err
			}
			opts.TemporalDB = devDB
		}
	}
	st, err := stack.Start(ctx, opts)
	if err != nil {
		return err
	}
	defer st.Close()
	announce(log, st, cfg, gogc)
	<-ctx.Done()
	log.Info("shutting down: the worker finishes its running activities")
	return nil
}

func announce(log *zap.Logger, st *stack.Stack, cfg config.Config, gogc int) {
	fields := []zap.Field{zap.String("temporal", st.TemporalAddress), zap.String("namespace", cfg.TemporalNamespace), zap.String("task_queue", cfg.TaskQueue),
		zap.Int("gogc", gogc)}
	if st.HTTPAddr != "" {
		fields = append(fields, zap.String("intake_api", "http://"+st.HTTPAddr))
	}
	if st.CodecAddr != "" {
		fields = append(fields, zap.String("codec", "http://"+st.CodecAddr+"/codec"))
	}
	if st.MetricsAddr != "" {
		fields = append(fields, zap.String("metrics", "http://"+st.MetricsAddr+"/metrics"))
	}
	// The Web UI, the tenant API fake and the mail sink, in -dev.
	fields = append(fields, st.DevEndpoints()...)
	log.Info("officeflow is running", fields...)
}

func newLogger(dev bool) (*zap.Logger, error) {
	if dev {
		c := zap.NewDevelopmentConfig()
		c.Level = zap.NewAtomicLevelAt(zap.InfoLevel)
		return c.Build()
	}
	return zap.NewProduction()
}

// setupNamespace registers the saga's search attributes on the cluster at
// TEMPORAL_ADDRESS (TLS and API key as for the worker); -dev does it by
// itself. Attributes already there are left alone.
func setupNamespace() error {
	cfg, err := config.Load(false)
	if err != nil {
		return err
	}
	opts := client.Options{HostPort: cfg.TemporalAddress, Namespace: cfg.TemporalNamespace}
	opts.ConnectionOptions.TLS = cfg.Temporal.TLS
	if cfg.Temporal.APIKey != "" {
		opts.Credentials = client.NewAPIKeyStaticCredentials(cfg.Temporal.APIKey)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, err := client.DialContext(ctx, opts)
	if err != nil {
		return fmt.Errorf("temporal at %s: %w", cfg.TemporalAddress, err)
	}
	defer c.Close()
	if err := stack.RegisterSearchAttributes(ctx, c, cfg.TemporalNamespace); err != nil {
		return err
	}
	fmt.Printf("search attributes of namespace %s are registered: %s\n", cfg.TemporalNamespace, stack.SearchAttributeNames())
	return nil
}
