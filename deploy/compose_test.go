// Package deploy holds no code: its tests are the proof of the container
// set-up (docker-compose.yml, Dockerfile, .env.example) on machines where
// Docker cannot run. They load the compose file the way `docker compose`
// does, through compose-go, and check what a broken deploy would get wrong.
package deploy

import (
	"bufio"
	"cmp"
	"context"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/dotenv"
	"github.com/compose-spec/compose-go/v2/loader"
	"github.com/compose-spec/compose-go/v2/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// oneShots run to completion; everything else runs for good.
var oneShots = []string{"temporal-schema", "temporal-namespace"}

// requiredSecrets must come from the operator: compose refuses to start
// without them.
var requiredSecrets = []string{"POSTGRES_PASSWORD", "CREDENTIALS_KEY", "INTAKE_API_KEYS", "PAYMENT_WEBHOOK_SECRET"}

// extraEnv are variables the processes read that the outside interface does
// not list (the README does); anything else in the worker's or intake's
// environment is a typo the processes would silently ignore.
var extraEnv = []string{"CREDENTIALS_KEY", "BILLING_PANEL_URL", "METRICS_ADDR", "OTEL_EXPORTER_OTLP_ENDPOINT", "TEMPORAL_TLS", "TEMPORAL_API_KEY",
	"PAYMENT_REMINDERS", "PAYLOAD_KEYS", "CODEC_TOKEN", "CODEC_CORS_ORIGINS", "CODEC_ADDR", "WORKFLOW_CACHE_SIZE",
	"SELLER_NAME", "SELLER_ADDRESS", "SELLER_POSTAL_CODE", "SELLER_CITY", "SELLER_NIP", "SELLER_BANK_ACCOUNT",
	"RENEWAL_NOTICE", "RENEWAL_GRACE", "SUSPENSION_PERIOD", "DNS_RESOLVER", "DOMAIN_CHECK_INTERVAL", "DOMAIN_CHECK_MAX_INTERVAL", "DOMAIN_CHECK_FOR",
	"KSEF_OFFLINE_CERT", "KSEF_OFFLINE_KEY", "KSEF_OFFLINE_AFTER", "KSEF_ALERT_BEFORE"}

const extraEnvPrefix = "TEMPORAL_TLS_"

// secretName matches variables whose value must never be written into the
// compose file itself. TEMPORAL_TLS_KEY is a file path, not a secret.
var secretName = regexp.MustCompile(`(PASSWORD|PWD|SECRET|TOKEN|CREDENTIALS_KEY|API_KEY|API_KEYS|PAYLOAD_KEYS)$`)

// composeVar matches ${NAME...} references; $${ is compose's escape for a
// literal $ and is not one. Group 2 is the name, group 3 the modifier (":?"
// for required).
var composeVar = regexp.MustCompile(`(^|[^$])\$\{([A-Za-z_][A-Za-z0-9_]*)(:?[-?+])?`)

func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("..")
	require.NoError(t, err)
	return root
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	return string(b)
}

// composeVars returns the variables docker-compose.yml interpolates, and
// which of them it requires. Comment lines are skipped: they may show the
// syntax without using it.
func composeVars(t *testing.T) (all, required map[string]bool) {
	t.Helper()
	all, required = map[string]bool{}, map[string]bool{}
	for _, line := range strings.Split(readFile(t, filepath.Join(repoRoot(t), "docker-compose.yml")), "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "#") {
			continue
		}
		for _, m := range composeVar.FindAllStringSubmatch(line, -1) {
			all[m[2]] = true
			if strings.HasSuffix(m[3], "?") {
				required[m[2]] = true
			}
		}
	}
	return all, required
}

// sentinel is the value a test environment gives a secret, so that a value
// in the loaded project can be traced back to interpolation.
func sentinel(name string) string { return "sentinel-" + strings.ToLower(name) }

// testEnv sets every required and every secret variable to its sentinel and
// leaves the rest unset, so that the compose file's defaults apply.
func testEnv(t *testing.T) map[string]string {
	t.Helper()
	all, required := composeVars(t)
	e := map[string]string{}
	for name := range all {
		if required[name] || secretName.MatchString(name) {
			e[name] = sentinel(name)
		}
	}
	return e
}

func load(t *testing.T, env map[string]string) (*types.Project, error) {
	t.Helper()
	root := repoRoot(t)
	path := filepath.Join(root, "docker-compose.yml")
	return loader.LoadWithContext(context.Background(), types.ConfigDetails{
		WorkingDir:  root,
		ConfigFiles: []types.ConfigFile{{Filename: path, Content: []byte(readFile(t, path))}},
		Environment: env,
	})
}

func loadProject(t *testing.T) *types.Project {
	t.Helper()
	p, err := load(t, testEnv(t))
	require.NoError(t, err, "docker-compose.yml does not load")
	return p
}

func service(t *testing.T, p *types.Project, name string) types.ServiceConfig {
	t.Helper()
	s, err := p.GetService(name)
	require.NoError(t, err)
	return s
}

func env(s types.ServiceConfig, name string) string {
	if v := s.Environment[name]; v != nil {
		return *v
	}
	return ""
}

// goModVersion is the version go.mod requires of a module.
func goModVersion(t *testing.T, module string) string {
	t.Helper()
	re := regexp.MustCompile(`(?m)^\s*` + regexp.QuoteMeta(module) + `\s+v(\S+)`)
	m := re.FindStringSubmatch(readFile(t, filepath.Join(repoRoot(t), "go.mod")))
	require.NotNil(t, m, "go.mod does not require %s", module)
	return m[1]
}

func TestComposeServices(t *testing.T) {
	p := loadProject(t)
	assert.ElementsMatch(t,
		[]string{"postgres", "temporal-schema", "temporal", "temporal-namespace", "temporal-ui", "mailpit", "worker", "intake"},
		p.ServiceNames())
	assert.NotRegexp(t, `(?m)^version:`, readFile(t, filepath.Join(repoRoot(t), "docker-compose.yml")),
		"the Compose Specification has no version key; compose warns about it")
}

func TestComposeImages(t *testing.T) {
	p := loadProject(t)
	// The containers run the Temporal release the embedded -dev server and
	// the tests run, and the schema tool of that same release.
	server := goModVersion(t, "go.temporal.io/server")
	ui := goModVersion(t, "github.com/temporalio/ui-server/v2")
	want := map[string]string{
		"postgres":           "postgres:16-alpine",
		"temporal":           "temporalio/server:" + server,
		"temporal-schema":    "temporalio/admin-tools:" + server,
		"temporal-namespace": "temporalio/admin-tools:" + server,
		"temporal-ui":        "temporalio/ui:" + ui,
	}
	for name, image := range want {
		assert.Equal(t, image, service(t, p, name).Image, name)
	}
	assert.True(t, strings.HasPrefix(service(t, p, "mailpit").Image, "axllent/mailpit:"), "mailpit image: %s", service(t, p, "mailpit").Image)
}

func TestComposePublishedPorts(t *testing.T) {
	p := loadProject(t)
	type port struct {
		service   string
		published string
		target    uint32
		// Operator surfaces without authentication stay on loopback unless
		// ADMIN_BIND_ADDRESS says otherwise; the intake API is public.
		hostIP string
	}
	want := []port{
		{"temporal", "7233", 7233, "127.0.0.1"},
		{"temporal-ui", "8233", 8080, "127.0.0.1"},
		{"mailpit", "1025", 1025, "127.0.0.1"},
		{"mailpit", "8025", 8025, "127.0.0.1"},
		{"intake", "8080", 8080, ""},
		// The codec endpoint decrypts payloads: for operators only.
		{"intake", "8081", 8081, "127.0.0.1"},
	}
	var got []port
	for _, s := range p.Services {
		for _, pc := range s.Ports {
			got = append(got, port{s.Name, pc.Published, pc.Target, pc.HostIP})
		}
	}
	assert.ElementsMatch(t, want, got)
}

func TestComposeHealthchecks(t *testing.T) {
	p := loadProject(t)
	for _, s := range p.Services {
		if slices.Contains(oneShots, s.Name) {
			// Restarted, a one-shot would never count as completed.
			assert.Contains(t, []string{"", "no"}, s.Restart, "%s is a one-shot job", s.Name)
			continue
		}
		if assert.NotNil(t, s.HealthCheck, "%s has no healthcheck", s.Name) {
			assert.False(t, s.HealthCheck.Disable, s.Name)
			assert.NotEmpty(t, s.HealthCheck.Test, s.Name)
		}
		assert.Equal(t, "unless-stopped", s.Restart, "%s should come back after a crash or reboot", s.Name)
	}
}

func TestComposeDependsOn(t *testing.T) {
	p := loadProject(t)
	for _, s := range p.Services {
		for dep, d := range s.DependsOn {
			target, err := p.GetService(dep)
			if !assert.NoError(t, err, "%s depends on unknown service %s", s.Name, dep) {
				continue
			}
			switch d.Condition {
			case types.ServiceConditionHealthy:
				assert.NotNil(t, target.HealthCheck, "%s waits for %s to be healthy, which has no healthcheck", s.Name, dep)
			case types.ServiceConditionCompletedSuccessfully:
				assert.Contains(t, oneShots, dep, "%s waits for %s to complete, which is not a one-shot", s.Name, dep)
			default:
				t.Errorf("%s depends on %s with condition %q: a started container is not a ready one", s.Name, dep, d.Condition)
			}
		}
	}
	// The order that makes the stack come up: schema before server,
	// namespace before worker, worker (which migrates) before intake.
	for _, c := range []struct{ service, dep, condition string }{
		{"temporal-schema", "postgres", types.ServiceConditionHealthy},
		{"temporal", "temporal-schema", types.ServiceConditionCompletedSuccessfully},
		{"temporal-namespace", "temporal", types.ServiceConditionHealthy},
		{"temporal-ui", "temporal", types.ServiceConditionHealthy},
		{"worker", "temporal-namespace", types.ServiceConditionCompletedSuccessfully},
		{"worker", "postgres", types.ServiceConditionHealthy},
		{"worker", "mailpit", types.ServiceConditionHealthy},
		{"intake", "worker", types.ServiceConditionHealthy},
	} {
		d, ok := service(t, p, c.service).DependsOn[c.dep]
		if assert.True(t, ok, "%s should depend on %s", c.service, c.dep) {
			assert.Equal(t, c.condition, d.Condition, "%s -> %s", c.service, c.dep)
		}
	}
}

// interfaceEnv reads the variable names of the Environment table in the
// outside interface, which lives beside the repository.
func interfaceEnv(t *testing.T) map[string]bool {
	t.Helper()
	path := filepath.Join(repoRoot(t), "..", "shared", "interface.md")
	f, err := os.Open(path)
	require.NoError(t, err, "the outside interface is expected beside the repository")
	defer f.Close()
	name := regexp.MustCompile("`([A-Z][A-Z0-9_]*)`")
	names := map[string]bool{}
	inEnv := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "## ") {
			// The KSeF section has its variables' table of its own.
			h := strings.TrimSpace(strings.TrimPrefix(line, "## "))
			inEnv = h == "Environment" || strings.HasPrefix(h, "KSeF")
			continue
		}
		if !inEnv || !strings.HasPrefix(line, "| `") {
			continue
		}
		firstCell := strings.SplitN(line, "|", 3)[1]
		for _, m := range name.FindAllStringSubmatch(firstCell, -1) {
			names[m[1]] = true
		}
	}
	require.NoError(t, sc.Err())
	require.Greater(t, len(names), 5, "no Environment table found in %s", path)
	return names
}

func TestComposeAppEnvironment(t *testing.T) {
	p := loadProject(t)
	known := interfaceEnv(t)
	for _, name := range []string{"worker", "intake"} {
		s := service(t, p, name)
		if assert.NotNil(t, s.Build, "%s is built from this repository", name) {
			assert.Equal(t, repoRoot(t), s.Build.Context, name)
			assert.Equal(t, name, s.Build.Target, "%s builds its own Dockerfile target", name)
		}
		for v := range s.Environment {
			ok := known[v] || slices.Contains(extraEnv, v) || strings.HasPrefix(v, extraEnvPrefix)
			assert.True(t, ok, "%s sets %s, which no process reads", name, v)
		}
	}

	worker := service(t, p, "worker")
	for _, v := range []string{"DATABASE_URL", "TEMPORAL_ADDRESS", "TEMPORAL_NAMESPACE", "TEMPORAL_TASK_QUEUE", "CREDENTIALS_KEY", "SMTP_HOST", "PARTNER_API_URL", "METRICS_ADDR"} {
		assert.NotEmpty(t, env(worker, v), "worker needs %s", v)
	}
	// The image has no tenant API fake and the worker exits without one:
	// compose asks for it rather than start a worker that stops at once.
	_, required := composeVars(t)
	assert.True(t, required["PARTNER_API_URL"], "PARTNER_API_URL should be ${PARTNER_API_URL:?...}")
	intake := service(t, p, "intake")
	for _, v := range []string{"DATABASE_URL", "TEMPORAL_ADDRESS", "TEMPORAL_NAMESPACE", "TEMPORAL_TASK_QUEUE", "HTTP_ADDR", "INTAKE_API_KEYS", "PAYMENT_WEBHOOK_SECRET"} {
		assert.NotEmpty(t, env(intake, v), "intake needs %s", v)
	}
	// Both must talk to the same cluster, namespace, queue and database, or
	// orders are placed where no worker looks.
	for _, v := range []string{"DATABASE_URL", "TEMPORAL_ADDRESS", "TEMPORAL_NAMESPACE", "TEMPORAL_TASK_QUEUE"} {
		assert.Equal(t, env(worker, v), env(intake, v), v)
	}
	assert.Equal(t, env(worker, "TEMPORAL_NAMESPACE"), env(service(t, p, "temporal-namespace"), "NAMESPACE"),
		"the namespace job creates the namespace the apps use")
}

func hostPort(t *testing.T, addr string) (host, port string) {
	t.Helper()
	host, port, err := net.SplitHostPort(addr)
	require.NoError(t, err, addr)
	return host, port
}

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	require.NoError(t, err, s)
	return u
}

func TestComposeAddressesPointAtServices(t *testing.T) {
	p := loadProject(t)
	w := service(t, p, "worker")
	temporalHost, temporalPort := hostPort(t, env(w, "TEMPORAL_ADDRESS"))
	db := mustURL(t, env(w, "DATABASE_URL"))
	for _, c := range []struct{ what, host, port, wantHost, wantPort string }{
		{"TEMPORAL_ADDRESS", temporalHost, temporalPort, "temporal", "7233"},
		{"DATABASE_URL", db.Hostname(), db.Port(), "postgres", "5432"},
		{"SMTP_HOST, SMTP_PORT", env(w, "SMTP_HOST"), env(w, "SMTP_PORT"), "mailpit", "1025"},
	} {
		assert.Equal(t, c.wantHost+":"+c.wantPort, c.host+":"+c.port, c.what)
		_, err := p.GetService(c.host)
		assert.NoError(t, err, "%s points at %s, which is no service", c.what, c.host)
	}
	assert.Equal(t, "none", env(w, "SMTP_TLS"), "mailpit speaks plain SMTP")
	assert.Equal(t, env(service(t, p, "postgres"), "POSTGRES_USER"), db.User.Username(), "DATABASE_URL user")
}

// TestComposeHealthchecksProbeTheListenAddress: a healthcheck on another
// port than the process listens on never turns healthy, and everything
// behind it waits for ever.
func TestComposeHealthchecksProbeTheListenAddress(t *testing.T) {
	p := loadProject(t)
	for name, addrVar := range map[string]string{"worker": "METRICS_ADDR", "intake": "HTTP_ADDR"} {
		s := service(t, p, name)
		require.NotNil(t, s.HealthCheck, name)
		test := []string(s.HealthCheck.Test)
		require.Len(t, test, 3, "%s: [CMD, /healthcheck, URL]: distroless has no shell", name)
		assert.Equal(t, []string{"CMD", "/healthcheck"}, test[:2], name)
		listenHost, listenPort := hostPort(t, env(s, addrVar))
		assert.Equal(t, "0.0.0.0", listenHost, "%s %s must listen beyond the container's loopback", name, addrVar)
		u := mustURL(t, test[2])
		assert.Equal(t, listenPort, u.Port(), "%s healthcheck port vs %s", name, addrVar)
		assert.Equal(t, "127.0.0.1", u.Hostname(), name)
	}
	assert.Equal(t, "/healthz", mustURL(t, service(t, p, "worker").HealthCheck.Test[2]).Path)
	assert.Equal(t, "/readyz", mustURL(t, service(t, p, "intake").HealthCheck.Test[2]).Path)
	intake := service(t, p, "intake")
	_, port := hostPort(t, env(intake, "HTTP_ADDR"))
	_, codecPort := hostPort(t, env(intake, "CODEC_ADDR"))
	for _, pc := range intake.Ports {
		assert.Contains(t, []string{port, codecPort}, fmt.Sprint(pc.Target), "intake publishes the ports HTTP_ADDR and CODEC_ADDR listen on")
	}
}

// TestComposeCodecForOperatorsOnly: the codec endpoint decrypts any
// workflow's payloads (customer names) and encrypts forged ones for its
// caller. The intake serves it on CODEC_ADDR, not on the public HTTP_ADDR,
// and that port is published on ADMIN_BIND_ADDRESS (loopback unless the
// operator widens it), like the Web UI whose browser calls it.
func TestComposeCodecForOperatorsOnly(t *testing.T) {
	p := loadProject(t)
	intake, ui := service(t, p, "intake"), service(t, p, "temporal-ui")
	_, httpPort := hostPort(t, env(intake, "HTTP_ADDR"))
	codecHost, codecPort := hostPort(t, env(intake, "CODEC_ADDR"))
	assert.Equal(t, "0.0.0.0", codecHost, "CODEC_ADDR must listen beyond the container's loopback to be published at all")
	assert.NotEqual(t, httpPort, codecPort, "the codec must not share the public intake port")

	var published []types.ServicePortConfig
	for _, pc := range intake.Ports {
		if fmt.Sprint(pc.Target) == codecPort {
			published = append(published, pc)
		}
		if fmt.Sprint(pc.Target) == httpPort {
			assert.NotEqual(t, codecPort, pc.Published, "the public port leads to HTTP_ADDR, not to the codec")
		}
	}
	require.Len(t, published, 1, "the codec port is published once, for the operators' browsers")
	assert.Equal(t, "127.0.0.1", published[0].HostIP, "the codec port is on loopback unless ADMIN_BIND_ADDRESS widens it")
	for _, pc := range ui.Ports {
		assert.Equal(t, pc.HostIP, published[0].HostIP, "the codec is published where the Web UI is")
	}

	// Without ADMIN_BIND_ADDRESS it is loopback; with it, it follows.
	e := testEnv(t)
	e["ADMIN_BIND_ADDRESS"] = "10.0.0.5"
	widened, err := load(t, e)
	require.NoError(t, err)
	for _, pc := range service(t, widened, "intake").Ports {
		if fmt.Sprint(pc.Target) == codecPort {
			assert.Equal(t, "10.0.0.5", pc.HostIP)
		} else {
			assert.Empty(t, pc.HostIP, "the public API is not moved by ADMIN_BIND_ADDRESS")
		}
	}

	// The operator's browser, on the UI's page, calls the published port.
	u := mustURL(t, env(ui, "TEMPORAL_CODEC_ENDPOINT"))
	assert.Contains(t, []string{"localhost", "127.0.0.1"}, u.Hostname())
	assert.Equal(t, published[0].Published, u.Port(), "TEMPORAL_CODEC_ENDPOINT calls the published codec port")
	assert.Equal(t, "/codec", u.Path)
	// Only the UI's origin may call it from a browser.
	require.NotEmpty(t, ui.Ports)
	origins := strings.Split(env(intake, "CODEC_CORS_ORIGINS"), ",")
	assert.Contains(t, origins, "http://localhost:"+ui.Ports[0].Published)
	for _, o := range origins {
		assert.NotEqual(t, "*", o)
		assert.Regexp(t, `^http://(localhost|127\.0\.0\.1):`+ui.Ports[0].Published+`$`, o)
	}
	// The token is passed through from .env and never written here.
	assert.Equal(t, sentinel("CODEC_TOKEN"), env(intake, "CODEC_TOKEN"))
}

// TestComposeSecretsComeFromEnvironment: every secret in the loaded project
// carries the test environment's sentinel, so none is written in the file.
func TestComposeSecretsComeFromEnvironment(t *testing.T) {
	p := loadProject(t)
	sentinels := map[string]bool{}
	for name, v := range testEnv(t) {
		if secretName.MatchString(name) {
			sentinels[v] = true
		}
	}
	checked := 0
	for _, s := range p.Services {
		for name, v := range s.Environment {
			if v == nil {
				continue
			}
			if secretName.MatchString(name) {
				checked++
				assert.True(t, sentinels[*v], "%s: %s=%q is not interpolated from the environment", s.Name, name, *v)
			}
			if u, err := url.Parse(*v); err == nil && u.User != nil {
				pw, set := u.User.Password()
				assert.True(t, set && sentinels[pw], "%s: %s carries a literal password", s.Name, name)
			}
		}
	}
	assert.GreaterOrEqual(t, checked, len(requiredSecrets), "no secrets found to check")
	assert.Equal(t, sentinel("POSTGRES_PASSWORD"), env(service(t, p, "postgres"), "POSTGRES_PASSWORD"))
	assert.Equal(t, sentinel("POSTGRES_PASSWORD"), env(service(t, p, "temporal"), "POSTGRES_PWD"))
	assert.Equal(t, sentinel("CREDENTIALS_KEY"), env(service(t, p, "worker"), "CREDENTIALS_KEY"))
	assert.Equal(t, sentinel("INTAKE_API_KEYS"), env(service(t, p, "intake"), "INTAKE_API_KEYS"))
	assert.Equal(t, sentinel("PAYMENT_WEBHOOK_SECRET"), env(service(t, p, "intake"), "PAYMENT_WEBHOOK_SECRET"))
}

// TestComposeRequiresSecrets: without a secret, compose stops and names it
// instead of starting with an empty one.
func TestComposeRequiresSecrets(t *testing.T) {
	_, required := composeVars(t)
	for _, name := range requiredSecrets {
		assert.True(t, required[name], "%s should be ${%s:?...}", name, name)
		e := testEnv(t)
		delete(e, name)
		_, err := load(t, e)
		if assert.Error(t, err, "loads without %s", name) {
			assert.Contains(t, err.Error(), name)
		}
	}
}

var envLine = regexp.MustCompile(`^(#\s*)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$`)

// TestEnvExampleNamesEveryComposeVariable: .env.example is where an operator
// learns what can be set, so nothing the compose file reads may be missing.
// Required variables are uncommented and empty there: a placeholder that
// works would be a shared secret.
func TestEnvExampleNamesEveryComposeVariable(t *testing.T) {
	type entry struct {
		commented bool
		value     string
	}
	example := map[string]entry{}
	for _, line := range strings.Split(readFile(t, filepath.Join(repoRoot(t), ".env.example")), "\n") {
		if m := envLine.FindStringSubmatch(strings.TrimSpace(line)); m != nil {
			example[m[2]] = entry{commented: m[1] != "", value: m[3]}
		}
	}
	all, required := composeVars(t)
	require.NotEmpty(t, all)
	for name := range all {
		e, ok := example[name]
		if !assert.True(t, ok, ".env.example does not name %s, which docker-compose.yml reads", name) {
			continue
		}
		if required[name] {
			assert.False(t, e.commented, "%s is required: it should be an assignment in .env.example", name)
			assert.Empty(t, e.value, "%s is a secret: .env.example must not carry a value", name)
		}
	}
}

// TestEnvExampleAloneIsRefused: copied unchanged, .env.example must not
// bring the stack up with empty secrets.
func TestEnvExampleAloneIsRefused(t *testing.T) {
	f, err := os.Open(filepath.Join(repoRoot(t), ".env.example"))
	require.NoError(t, err)
	defer f.Close()
	e, err := dotenv.Parse(f)
	require.NoError(t, err)
	_, err = load(t, e)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "required variable")
}

// stage is one FROM of the Dockerfile, with what the tests look at.
type stage struct {
	base, name, user, entrypoint string
}

func dockerStages(t *testing.T) []stage {
	t.Helper()
	text := readFile(t, filepath.Join(repoRoot(t), "Dockerfile"))
	text = strings.ReplaceAll(text, "\\\n", " ")
	var stages []stage
	for _, line := range strings.Split(text, "\n") {
		f := strings.Fields(line)
		if len(f) == 0 || strings.HasPrefix(f[0], "#") {
			continue
		}
		instr, args := strings.ToUpper(f[0]), f[1:]
		if instr == "FROM" {
			args = slices.DeleteFunc(args, func(a string) bool { return strings.HasPrefix(a, "--") })
			require.NotEmpty(t, args, line)
			s := stage{base: args[0]}
			if len(args) == 3 && strings.EqualFold(args[1], "AS") {
				s.name = args[2]
			}
			stages = append(stages, s)
			continue
		}
		if len(stages) == 0 {
			continue
		}
		cur := &stages[len(stages)-1]
		switch instr {
		case "USER":
			cur.user = strings.Join(args, " ")
		case "ENTRYPOINT":
			cur.entrypoint = strings.Join(args, " ")
		}
	}
	require.NotEmpty(t, stages, "no FROM in the Dockerfile")
	return stages
}

// resolve follows a stage through the earlier stages it is built FROM, to
// the image it really starts from and the user and entrypoint it inherits.
func resolve(stages []stage, i int) stage {
	s := stages[i]
	for j := i - 1; j >= 0; j-- {
		if stages[j].name != "" && stages[j].name == s.base {
			parent := resolve(stages, j)
			s.base = parent.base
			s.user = cmp.Or(s.user, parent.user)
			s.entrypoint = cmp.Or(s.entrypoint, parent.entrypoint)
			break
		}
	}
	return s
}

// TestDockerfileRuntimeIsDistrolessNonRoot: whatever target is built, the
// container has no shell or package manager to exploit and does not run as
// root.
func TestDockerfileRuntimeIsDistrolessNonRoot(t *testing.T) {
	stages := dockerStages(t)
	targets := map[string]int{"final stage": len(stages) - 1}
	p := loadProject(t)
	for _, name := range []string{"worker", "intake"} {
		target := service(t, p, name).Build.Target
		i := slices.IndexFunc(stages, func(s stage) bool { return s.name == target })
		if assert.GreaterOrEqual(t, i, 0, "the Dockerfile has no stage %q for %s", target, name) {
			targets["target "+target] = i
		}
	}
	for what, i := range targets {
		s := resolve(stages, i)
		assert.True(t, strings.HasPrefix(s.base, "gcr.io/distroless/") || s.base == "scratch",
			"%s starts from %s, not distroless or scratch", what, s.base)
		user, _, _ := strings.Cut(s.user, ":")
		assert.NotEmpty(t, user, "%s sets no USER, so it runs as root", what)
		assert.NotContains(t, []string{"root", "0"}, user, what)
		assert.True(t, strings.HasPrefix(s.entrypoint, "["), "%s: ENTRYPOINT in exec form, as there is no shell: %q", what, s.entrypoint)
	}
}

// TestDockerfileBuildsStaticBinaries: distroless/static has no libc, and the
// compose file runs the three binaries.
func TestDockerfileBuildsStaticBinaries(t *testing.T) {
	stages := dockerStages(t)
	tag, ok := strings.CutPrefix(stages[0].base, "golang:")
	require.True(t, ok, "the first stage builds with the golang image: %s", stages[0].base)
	goDirective := regexp.MustCompile(`(?m)^go (\S+)`).FindStringSubmatch(readFile(t, filepath.Join(repoRoot(t), "go.mod")))
	require.NotNil(t, goDirective)
	assert.True(t, goDirective[1] == tag || strings.HasPrefix(goDirective[1], tag+"."),
		"golang:%s cannot build go %s with GOTOOLCHAIN=local", tag, goDirective[1])

	text := strings.ReplaceAll(readFile(t, filepath.Join(repoRoot(t), "Dockerfile")), "\\\n", " ")
	build := regexp.MustCompile(`(?m)^RUN .*go build .*$`).FindString(text)
	require.NotEmpty(t, build, "no go build in the Dockerfile")
	assert.Contains(t, build, "CGO_ENABLED=0")
	assert.Contains(t, build, "-tags production", "the images hold no embedded Temporal, fakes or bench")
	assert.Contains(t, build, "-trimpath")
	for _, pkg := range []string{"./worker", "./starter", "./deploy/healthcheck"} {
		assert.Regexp(t, regexp.QuoteMeta(pkg)+`(\s|$)`, build)
	}
}
