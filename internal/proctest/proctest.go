// Package proctest runs a program of the repository as a process of its
// own in tests, so that a test can kill it as a crash would and read what
// it logged.
package proctest

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Build compiles the main package in dir into a temporary directory;
// cleanup removes it.
func Build(dir string) (bin string, cleanup func(), err error) {
	tmp, err := os.MkdirTemp("", "officeflow-proc-")
	if err != nil {
		return "", nil, err
	}
	cleanup = func() { os.RemoveAll(tmp) }
	bin = filepath.Join(tmp, filepath.Base(dir))
	build := exec.Command("go", "build", "-o", bin, dir)
	build.Env = append(os.Environ(), "GOTOOLCHAIN=local")
	if out, err := build.CombinedOutput(); err != nil {
		cleanup()
		return "", nil, fmt.Errorf("go build %s: %w: %s", dir, err, out)
	}
	return bin, cleanup, nil
}

// Options of a process.
type Options struct {
	Env   []string // added to the test's environment, later ones win
	Ready string   // a fragment of the log line that says the process runs
	Watch []string // log fragments counted per process (see LogCounts)
}

// Process is a running program whose stderr is read line by line.
type Process struct {
	Cmd  *exec.Cmd
	done chan struct{} // closed once the process has exited and been reaped

	mu     sync.Mutex
	lines  []string // the last lines of its log, shown when a test fails
	counts map[string]int
}

const keptLines = 40

// Start starts bin and waits until it logs o.Ready. The process gets
// SIGTERM (then SIGKILL after 40 s) when the test ends, and its last log
// lines are shown if the test failed.
func Start(t testing.TB, bin string, o Options) *Process {
	t.Helper()
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(), o.Env...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &Process{Cmd: cmd, done: make(chan struct{}), counts: map[string]int{}}
	running := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		once := sync.Once{}
		for sc.Scan() {
			line := sc.Text()
			p.mu.Lock()
			p.lines = append(p.lines, line)
			if len(p.lines) > keptLines {
				p.lines = p.lines[1:]
			}
			for _, s := range o.Watch {
				if strings.Contains(line, s) {
					p.counts[s]++
				}
			}
			p.mu.Unlock()
			if strings.Contains(line, o.Ready) {
				once.Do(func() { close(running) })
			}
		}
		_ = cmd.Wait() // after the pipe is drained, as exec requires
		close(p.done)
	}()
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("process %d, last lines of its log:\n%s", p.Pid(), p.tail())
		}
		select {
		case <-p.done:
			return
		default:
		}
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(40 * time.Second):
			_ = cmd.Process.Kill()
			<-p.done
		}
	})
	select {
	case <-running:
	case <-p.done:
		t.Fatalf("process %s exited before it ran:\n%s", bin, p.tail())
	case <-time.After(90 * time.Second):
		t.Fatalf("process %s did not log %q within 90 s", bin, o.Ready)
	}
	return p
}

// Pid is the process id.
func (p *Process) Pid() int { return p.Cmd.Process.Pid }

// Kill ends the process with SIGKILL, as a crash would, and waits for it.
func (p *Process) Kill(t testing.TB) {
	t.Helper()
	if err := p.Cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		t.Fatal("the killed process did not exit")
	}
}

// LogCounts is how many log lines held each of Options.Watch so far.
func (p *Process) LogCounts() map[string]int {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make(map[string]int, len(p.counts))
	for k, v := range p.counts {
		out[k] = v
	}
	return out
}

func (p *Process) tail() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return strings.Join(p.lines, "\n")
}
