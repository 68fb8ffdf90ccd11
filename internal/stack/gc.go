package stack

import (
	"os"
	"runtime/debug"
)

// GCPercent is the garbage collector's target (GOGC) a worker runs with
// unless the environment sets GOGC. The worker's live heap is small (about
// 11 MB idle and 15 MB more per 1,000 orders waiting, BENCHMARKS.md), and at
// the default of 100 the collector's marking was about 13 ms of CPU an
// order, the largest share of the saga's cost beyond the floor's after the
// server's own work. At 200 it runs half as often for a peak heap of three
// times the live one instead of two: a few tens of MB more, measured against
// 100 in BENCHMARKS.md ("Issue 20, the garbage collector").
const GCPercent = 200

// TuneGC sets GCPercent unless GOGC is set, which wins (GOGC=100 is the Go
// default), and returns the target in force: -1 for GOGC=off.
func TuneGC() int {
	if v, ok := os.LookupEnv("GOGC"); ok && v != "" {
		p := debug.SetGCPercent(-1)
		debug.SetGCPercent(p)
		return p
	}
	debug.SetGCPercent(GCPercent)
	return GCPercent
}
