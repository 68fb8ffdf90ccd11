package fault

import (
	"encoding/base64"
	"strconv"
	"testing"

	"github.com/officeflow/officeflow/internal/config"
	"github.com/officeflow/officeflow/internal/proctest"
	"github.com/officeflow/officeflow/internal/store"
)

// watchedLogs are log messages of the worker counted per process: they
// show that a fault reached the worker, and what it made of it.
var watchedLogs = []string{
	"mail send failed",
	`"smtp_code":451`,
	"mail sent, closing the connection failed",
	"email sent",
	"tenant created",
	"recording a sent email failed",
	"accepted by KSeF",
	"KSeF unreachable: document issued offline",
}

// workerEnv is what every worker process gets: the test stack's Temporal,
// tenant API (through the recorder), KSeF fake (through its recorder) and
// mail sink, the stack's keys. Outside -dev the worker requires KSeF and a
// seller: the seller is -dev's (store.DefaultSeller), the one the stack's
// intake issues the pro-formas of and whose KSeF token the fake takes.
func workerEnv() []string {
	s := store.DefaultSeller
	return []string{
		"TEMPORAL_ADDRESS=" + st.Temporal.Address(), "DATABASE_URL=" + dbURL,
		"PARTNER_API_URL=" + partner.url, "SMTP_HOST=" + st.Sink.Host(), "SMTP_PORT=" + strconv.Itoa(st.Sink.Port()), "SMTP_TLS=none",
		"CREDENTIALS_KEY=" + base64.StdEncoding.EncodeToString(cfg.CredentialsKey), "METRICS_ADDR=",
		"PAYLOAD_KEYS=" + cfg.PayloadKeysEnv(), "OTEL_EXPORTER_OTLP_ENDPOINT=",
		"KSEF_URL=" + ksefCalls.url, "KSEF_TOKEN=" + config.DevKSeFToken,
		"SELLER_NAME=" + s.Name, "SELLER_ADDRESS=" + s.Address, "SELLER_POSTAL_CODE=" + s.PostalCode, "SELLER_CITY=" + s.City,
		"SELLER_COUNTRY=" + s.Country, "SELLER_NIP=" + s.NIP, "SELLER_BANK_ACCOUNT=" + s.BankAccount,
	}
}

// startWorkerProcess starts ../../worker as a process of its own and waits
// until it runs; env adds or overrides variables (TEMPORAL_TASK_QUEUE,
// DATABASE_URL). The process is stopped when the test ends.
func startWorkerProcess(t *testing.T, env ...string) *proctest.Process {
	t.Helper()
	return proctest.Start(t, workerBin, proctest.Options{
		Env: append(workerEnv(), env...), Ready: "officeflow is running", Watch: watchedLogs,
	})
}
