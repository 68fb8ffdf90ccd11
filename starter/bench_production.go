//go:build production

package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/officeflow/officeflow/internal/stack"
)

// A production build has no bench: it would link the embedded Temporal
// server.

func benchWorkerChild() (int, bool) { return 0, false }

func benchCmd(context.Context, *flag.FlagSet, []string, io.Writer, io.Writer) error {
	return fmt.Errorf("bench: %w", stack.ErrNoDev)
}
