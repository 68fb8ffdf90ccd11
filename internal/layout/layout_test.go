package layout

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// pkg is what the tests read of `go list -json`.
type pkg struct {
	ImportPath   string
	Module       *struct{ Path string }
	GoFiles      []string
	Imports      []string
	Deps         []string
	TestImports  []string
	XTestImports []string
}

// goCmd runs the go command at the module's root and returns its stdout.
func goCmd(t *testing.T, args ...string) []byte {
	t.Helper()
	cmd := exec.Command("go", args...)
	cmd.Dir = moduleRoot(t)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(t, err, "go %s: %s", strings.Join(args, " "), stderr.String())
	return out
}

func moduleRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	require.NoError(t, err)
	return root
}

func goList(t *testing.T, args ...string) []pkg {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(goCmd(t, append([]string{"list", "-e", "-json"}, args...)...)))
	var pkgs []pkg
	for {
		var p pkg
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else {
			require.NoError(t, err)
		}
		pkgs = append(pkgs, p)
	}
	require.NotEmpty(t, pkgs)
	return pkgs
}

// within tells whether package path p is the package at dir or in a folder
// under it.
func within(p, dir string) bool { return p == dir || strings.HasPrefix(p, dir+"/") }

// TestNothingImportsUpward: a package and the packages in folders under it
// are one part. No package may depend on a part that depends on it back:
// starter/intake, imported by internal/stack which starter imports, was
// one. And internal/ is for the commands, never the other way round.
func TestNothingImportsUpward(t *testing.T) {
	pkgs := goList(t, "./...")
	module := pkgs[0].Module.Path
	byPath := map[string]pkg{}
	for _, p := range pkgs {
		byPath[p.ImportPath] = p
	}
	ours := func(path string) bool { return within(path, module) }
	for _, p := range pkgs {
		for _, q := range p.Deps {
			if !ours(q) {
				continue
			}
			// Every package whose part q is in, q's own included.
			for _, r := range pkgs {
				if !within(q, r.ImportPath) || within(p.ImportPath, r.ImportPath) || r.ImportPath == module {
					continue
				}
				if slices.Contains(r.Deps, p.ImportPath) {
					t.Errorf("%s depends on %s, part of %s, which depends on %s back", p.ImportPath, q, r.ImportPath, p.ImportPath)
				}
			}
		}
		if !within(p.ImportPath, module+"/internal") {
			continue
		}
		for _, q := range slices.Concat(p.Deps, p.TestImports, p.XTestImports) {
			for _, cmd := range []string{"starter", "worker"} {
				if within(q, module+"/"+cmd) {
					t.Errorf("%s imports %s: internal/ must not import the commands' folders", p.ImportPath, q)
				}
			}
		}
	}
	_, ok := byPath[module+"/internal/intake"]
	require.True(t, ok, "the intake API is internal/intake")
}

// devOnly are the packages -dev, the bench and the tests use, which a
// production binary must not link.
func devOnly(module string) []string {
	return []string{
		"go.temporal.io/server", "github.com/temporalio/ui-server",
		module + "/internal/devserver", module + "/internal/bench", module + "/internal/dnstest",
		module + "/internal/pgtest", module + "/internal/pdftest", module + "/internal/proctest", module + "/internal/faultnet",
	}
}

// devFiles are the fakes that live beside the real thing, in files a
// production build leaves out.
var devFiles = map[string][]string{
	"/internal/tenant": {"fake"}, // the tenant API fake
	"/internal/mail":   {"sink"}, // the mail sink
	"/internal/p24":    {"fake"}, // the Przelewy24 fake
	"/internal/ksef":   {"fake"}, // the KSeF fake
}

// TestProductionBuildHasNoDevStack runs `go list -deps -tags production` of
// both commands the images ship: no package of the Temporal server, its Web
// UI, the dev helpers or the bench, and no fake file.
func TestProductionBuildHasNoDevStack(t *testing.T) {
	for _, cmd := range []string{"./worker", "./starter"} {
		t.Run(strings.TrimPrefix(cmd, "./"), func(t *testing.T) {
			deps := goList(t, "-deps", "-tags", "production", cmd)
			module := deps[len(deps)-1].Module.Path
			for _, p := range deps {
				for _, bad := range devOnly(module) {
					if within(p.ImportPath, bad) {
						t.Errorf("the production %s links %s", cmd, p.ImportPath)
						break
					}
				}
				for dir, prefixes := range devFiles {
					if p.ImportPath != module+dir {
						continue
					}
					for _, f := range p.GoFiles {
						for _, pre := range prefixes {
							if strings.HasPrefix(f, pre) {
								t.Errorf("the production %s compiles %s/%s", cmd, p.ImportPath, f)
							}
						}
					}
				}
			}
			require.Greater(t, len(deps), 100, "go list found the command's dependencies")
		})
	}
	// Without the tag the dev stack is there: -dev and the bench still run.
	dev := goCmd(t, "list", "-deps", "./worker", "./starter")
	for _, want := range []string{"/internal/devserver\n", "/internal/bench\n", "go.temporal.io/server/temporal\n"} {
		require.Contains(t, string(dev), want, "the default build of worker and starter has the dev stack")
	}
}

// TestProductionBinariesRefuseWhatTheyLack builds both commands as the
// images do and runs them: -dev and bench answer that the build has none,
// and the worker does not start without its tenant API or mail server.
// Each failure is one line on stderr and a non-zero exit.
func TestProductionBinariesRefuseWhatTheyLack(t *testing.T) {
	if testing.Short() {
		t.Skip("builds both commands")
	}
	dir := t.TempDir()
	goCmd(t, "build", "-tags", "production", "-o", dir+string(filepath.Separator), "./worker", "./starter")
	keys := []string{
		"CREDENTIALS_KEY=MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
		"PAYLOAD_KEYS=k1:MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
	}
	for _, c := range []struct {
		name, bin string
		args, env []string
		want      string
	}{
		{"worker -dev", "worker", []string{"-dev"}, nil, "worker: -dev: this build (-tags production) has no dev stack"},
		{"starter bench", "starter", []string{"bench"}, nil, "starter: bench: this build (-tags production) has no dev stack"},
		{"no PARTNER_API_URL", "worker", nil, keys, "worker: PARTNER_API_URL: required outside -dev"},
		{"no SMTP_HOST", "worker", nil, append(slices.Clone(keys), "PARTNER_API_URL=https://partner.example"), "worker: SMTP_HOST: required outside -dev"},
	} {
		t.Run(c.name, func(t *testing.T) {
			cmd := exec.Command(filepath.Join(dir, c.bin), c.args...)
			// Nothing of the developer's environment: only what the case sets.
			cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}, c.env...)
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			var exit *exec.ExitError
			require.ErrorAs(t, err, &exit, "exits non-zero; stderr: %s", stderr.String())
			lines := strings.Split(strings.TrimSuffix(stderr.String(), "\n"), "\n")
			require.Len(t, lines, 1, "one line on stderr: %q", stderr.String())
			require.True(t, strings.HasPrefix(lines[0], c.want), "stderr: %q", lines[0])
			require.Empty(t, stdout.String())
		})
	}
}
