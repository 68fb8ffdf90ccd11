//go:build !production

package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/officeflow/officeflow/internal/bench"
	"github.com/officeflow/officeflow/internal/config"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// benchWorkerChild runs the bench's worker process when this binary was
// started as one, and says so.
func benchWorkerChild() (int, bool) {
	if !bench.IsWorkerChild() {
		return 0, false
	}
	return bench.WorkerChild(), true
}

// benchCmd runs the benchmark on a stack of its own, on free loopback ports
// so that it never meets a `worker -dev` already running.
func benchCmd(ctx context.Context, flags *flag.FlagSet, args []string, stdout, stderr io.Writer) error {
	o := bench.Options{}
	flags.IntVar(&o.Orders, "n", 1000, "orders through the floor and the saga, and accepted by each way in")
	flags.IntVar(&o.Concurrency, "c", 100, "orders in flight")
	flags.IntVar(&o.Waiting, "waiting", 1000, "orders left waiting for payment for the memory and storage figures (e.g. 10000)")
	flags.StringVar(&o.Persistence, "persistence", bench.PersistenceSQLite, "the embedded Temporal's store: sqlite or postgres")
	flags.BoolVar(&o.SQLiteFile, "sqlite-file", false, "keep the embedded Temporal's SQLite in a temporary file, not in memory, so that its growth is measured")
	flags.StringVar(&o.TemporalLog, "temporal-log", "", "the embedded Temporal server's log `FILE` (default: beside -json's FILE as NAME.temporal.log, else a new file in the temp dir)")
	jsonFile := flags.String("json", "", "also write the figures as JSON to `FILE`")
	if _, err := parse(flags, args, 0); err != nil {
		return helpOr(err, stdout)
	}
	if o.TemporalLog == "" && *jsonFile != "" {
		o.TemporalLog = strings.TrimSuffix(*jsonFile, filepath.Ext(*jsonFile)) + ".temporal.log"
	}
	cfg, err := config.Load(true)
	if err != nil {
		return err
	}
	cfg.TemporalAddress, cfg.HTTPAddr = "127.0.0.1:0", "127.0.0.1:0"
	o.Config = cfg
	// Warnings only, so that the table on stdout stays readable; the
	// embedded server's go to its own file (-temporal-log).
	o.Logger = zap.New(zapcore.NewCore(zapcore.NewConsoleEncoder(zap.NewDevelopmentEncoderConfig()),
		zapcore.Lock(zapcore.AddSync(stderr)), zap.WarnLevel))
	defer o.Logger.Sync() //nolint:errcheck
	res, err := bench.Run(ctx, o, stdout)
	if err != nil {
		return err
	}
	if *jsonFile == "" {
		return nil
	}
	raw, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(*jsonFile, append(raw, '\n'), 0o644); err != nil {
		return fmt.Errorf("-json: %w", err)
	}
	return nil
}
