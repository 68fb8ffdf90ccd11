package stack

import (
	"runtime/debug"
	"testing"

	"github.com/stretchr/testify/require"
)

// restoreGC puts back the process's GC target after a test changed it.
func restoreGC(t *testing.T) {
	p := debug.SetGCPercent(-1)
	debug.SetGCPercent(p)
	t.Cleanup(func() { debug.SetGCPercent(p) })
}

func gcPercent() int {
	p := debug.SetGCPercent(-1)
	debug.SetGCPercent(p)
	return p
}

// Without GOGC the worker runs at GCPercent.
func TestTuneGCSetsItsTarget(t *testing.T) {
	restoreGC(t)
	t.Setenv("GOGC", "")
	debug.SetGCPercent(100)
	require.Equal(t, GCPercent, TuneGC())
	require.Equal(t, GCPercent, gcPercent())
}

// GOGC set by whoever runs the worker wins: TuneGC leaves the runtime's
// target (which the runtime read from GOGC at start) as it is and says it.
func TestTuneGCLeavesAGOGCSet(t *testing.T) {
	restoreGC(t)
	t.Setenv("GOGC", "150")
	debug.SetGCPercent(150) // as the runtime did from GOGC at start
	require.Equal(t, 150, TuneGC())
	require.Equal(t, 150, gcPercent())
}
