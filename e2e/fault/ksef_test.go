package fault

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/officeflow/officeflow/internal/ksef"
	"github.com/officeflow/officeflow/internal/mail"
	"github.com/officeflow/officeflow/internal/pdftest"
	"github.com/officeflow/officeflow/internal/store"
	"github.com/stretchr/testify/require"
)

// TestFaultKSeF: every paid order's VAT invoice goes to KSeF (a fake of the
// test's own, behind ksefFront, so that its faults reach only this test's
// worker processes) while KSeF misbehaves.
//
//   - down: KSeF answers 503 to everything while 50 orders are paid. After
//     KSEF_OFFLINE_AFTER (5 s) each invoice is issued offline (its
//     deadline set, the customer emailed at once with a PDF that carries
//     KOD I, labelled OFFLINE, and KOD II); once KSeF is back each is sent,
//     as offline, and accepted once: the XML the QR codes name.
//   - flaky: 200 orders while KSeF answers a share of the requests 429
//     (Retry-After: 1) or 503 at random, and acts on a share but loses the
//     answer (504). Every invoice is accepted exactly once: an invoice
//     whose sending lost its answer is found in its session, not sent
//     again (the fake would refuse that as a duplicate, 440).
//
// FAULT_SEED seeds the random answers.
func TestFaultKSeF(t *testing.T) {
	t.Parallel()
	s := seed(t)
	t.Run("down", func(t *testing.T) { ksefDown(t, s) })
	t.Run("flaky", func(t *testing.T) { ksefFlaky(t, s+1) })
}

func ksefDown(t *testing.T, seed uint64) {
	k := newKSeFFront(t, seed)
	k.setDown(true)
	var (
		asOffline map[int64]ksefDoc // the run's documents when KSeF came back
		mailed    map[string]int    // order -> e-invoice emails sent while down
	)
	runScenario(t, "ksef-down", scenario{
		orders: 50, ksef: k.fake,
		env: append(append(k.env(), offlineCertEnv(t)...), "KSEF_OFFLINE_AFTER=5s"),
		during: func(r *run) {
			n := len(r.reqs)
			if !r.until(func(p progress) bool { return p.Terminal == n }) {
				return
			}
			docs := awaitOffline(r, n-len(r.fails))
			asOffline = map[int64]ksefDoc{}
			for _, d := range docs {
				asOffline[d.id] = d
			}
			mailed = k.checkOfflineMail(r, asOffline)
			k.setDown(false)
			r.note("KSeF is back after %d requests answered 503; %d documents offline", k.counts()[answerDown], len(docs))
		},
		extra: func(r *run, orders []*ord) []row {
			byOrder := map[string][]ksefDoc{}
			for _, d := range asOffline {
				byOrder[d.order] = append(byOrder[d.order], d)
			}
			in := acceptedByNumber(k.fake)
			offline := func(d ksefDoc) bool { return d.status == store.KSeFOffline && d.offline && d.deadline }
			var rows []row
			add := func(name string, got func(d ksefDoc) bool) {
				rows = append(rows, tally(name, orders, (*ord).provisioned, func(o *ord) int {
					n := 0
					for _, d := range byOrder[o.id] {
						if got(d) {
							n++
						}
					}
					return n
				}))
			}
			add("KSeF down: invoices offline, with deadline (db)", offline)
			rows = append(rows, tally("  e_invoice emailed while down (sink)", orders, (*ord).provisioned, func(o *ord) int { return mailed[o.id] }))
			add("KSeF back: accepted as offline, once (fake)", func(d ksefDoc) bool {
				a := in[d.number]
				return len(a) == 1 && a[0].Offline
			})
			add("  the XML the offline QR codes name", func(d ksefDoc) bool {
				a := in[d.number]
				return len(a) == 1 && ksef.InvoiceHash(a[0].XML) == d.hash
			})
			return append(rows, strays(r, k.fake))
		},
	})
	c := k.counts()
	t.Logf("KSeF requests by answer: %s", frontCounts(c))
	require.Positive(t, c[answerDown], "KSeF answered 503 while down")
	require.Positive(t, c[answerPassed+" "+sendInvoices], "the offline invoices were sent once KSeF was back")
}

func ksefFlaky(t *testing.T, seed uint64) {
	k := newKSeFFront(t, seed)
	const throttle, unavailable, lose = 0.08, 0.06, 0.04
	k.setShares(throttle, unavailable, lose)
	r := runScenario(t, "ksef-flaky", scenario{
		ksef: k.fake,
		// Long enough for a document to get through the random faults
		// online; one that does not is issued offline and sent all the same.
		env: append(k.env(), "KSEF_OFFLINE_AFTER=1m"),
		before: func(r *run) {
			r.note("KSeF answers %.0f%% of requests 429, %.0f%% 503, loses %.0f%% of the answers (504)", throttle*100, unavailable*100, lose*100)
		},
		extra: func(r *run, orders []*ord) []row { return []row{strays(r, k.fake)} },
	})
	c := k.counts()
	t.Logf("KSeF requests by answer: %s", frontCounts(c))
	lostSends, listed := c[answerLost+" "+sendInvoices], c[answerPassed+" "+listInvoices]
	t.Logf("invoice sends whose answer was lost: %d; session listings answered: %d", lostSends, listed)
	if len(r.reqs) >= 50 {
		require.Positive(t, c[answer429], "429s served")
		require.Positive(t, c[answer503], "503s served")
		require.Positive(t, c[answerLost], "answers lost")
	}
	// Each invoice sent whose answer was lost is looked for in its session
	// (the table shows it was not sent again).
	require.GreaterOrEqual(t, listed, lostSends, "a lost sending is looked for in its session")
}

// awaitOffline waits (up to two minutes) until want documents of the run
// are offline and their customers emailed, and returns the run's
// documents as they then stand.
func awaitOffline(r *run, want int) []ksefDoc {
	ctx, cancel := context.WithTimeout(r.ctx, 2*time.Minute)
	defer cancel()
	for {
		docs, err := r.ksefDocs(ctx)
		emailed, qerr := recordedEInvoices(ctx, r)
		n := 0
		for _, d := range docs {
			if d.status == store.KSeFOffline && emailed[d.id] {
				n++
			}
		}
		if err == nil && qerr == nil && n >= want {
			r.note("%d invoices offline and emailed", n)
			return docs
		}
		select {
		case <-ctx.Done():
			r.t.Errorf("KSeF down: %d of %d invoices offline and emailed after two minutes", n, want)
			docs, _ := r.ksefDocs(context.Background())
			return docs
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// recordedEInvoices are the run's documents whose e-invoice email is
// recorded as sent.
func recordedEInvoices(ctx context.Context, r *run) (map[int64]bool, error) {
	rows, err := st.Store.Pool.Query(ctx, `SELECT key FROM sent_emails WHERE order_id LIKE $1 AND key LIKE 'e\_invoice#%'`, r.prefix+"%")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[int64]bool{}
	for rows.Next() {
		var key string
		if err := rows.Scan(&key); err != nil {
			return nil, err
		}
		_, n, _ := strings.Cut(key, "#")
		id, _ := strconv.ParseInt(n, 10, 64)
		out[id] = true
	}
	return out, rows.Err()
}

// checkOfflineMail counts the e-invoice emails of the run's orders sent so
// far (while KSeF is down), and reads the QR codes off a few of their PDFs:
// KOD I labelled OFFLINE, with the hash of the XML kept, and KOD II, signed
// with the offline certificate, both pointing at the fake's verification
// links.
func (k *ksefFront) checkOfflineMail(r *run, docs map[int64]ksefDoc) map[string]int {
	byHash := map[string]string{}
	for _, q := range r.reqs {
		byHash[messageIDHash(q.OrderID)] = q.OrderID
	}
	mailed := map[string]int{}
	nip := store.DefaultSeller.NIP
	checked := 0
	for _, m := range st.Sink.Messages() {
		hash, rest, _ := strings.Cut(m.MessageID, ".")
		kind, _, _ := strings.Cut(rest, "@")
		id := byHash[hash]
		if id == "" || !isEInvoice(kind) {
			continue
		}
		mailed[id]++
		if checked == 3 {
			continue
		}
		checked++
		_, n, _ := strings.Cut(kind, "#")
		docID, _ := strconv.ParseInt(n, 10, 64)
		d, ok := docs[docID]
		require.True(r.t, ok, "e-invoice email %s names a document of the run", m.MessageID)
		pdf := pdfOf(m)
		require.NotNil(r.t, pdf, "e-invoice email %s carries the PDF", m.MessageID)
		require.Contains(r.t, pdftest.Text(r.t, pdf), "OFFLINE", "the offline PDF of %s labels KOD I", d.number)
		codes := pdftest.QRCodes(r.t, pdf)
		sort.Strings(codes)
		require.Len(r.t, codes, 2, "KOD I and KOD II on %s: %v", d.number, codes)
		require.True(r.t, strings.HasPrefix(codes[1], k.url+"/qr/invoice/"+nip+"/") && strings.HasSuffix(codes[1], "/"+d.hash),
			"KOD I of %s names the XML kept (hash %s): %s", d.number, d.hash, codes[1])
		require.True(r.t, strings.HasPrefix(codes[0], k.url+"/qr/certificate/Nip/"+nip+"/"+nip+"/") && strings.Contains(codes[0], "/"+d.hash+"/"),
			"KOD II of %s: %s", d.number, codes[0])
		r.note("offline PDF of %s (order %s): KOD I %s, KOD II %s…", d.number, d.order, codes[1], codes[0][:min(len(codes[0]), 80)])
	}
	r.stat("offline PDFs whose QR codes were read: %d", checked)
	return mailed
}

// pdfOf is the message's PDF attachment, nil when it has none.
func pdfOf(m mail.Received) []byte {
	for _, a := range m.Attachments {
		if a.ContentType == "application/pdf" || strings.HasSuffix(a.Name, ".pdf") {
			return a.Data
		}
	}
	return nil
}

// acceptedByNumber are the fake's accepted invoices by number.
func acceptedByNumber(f *ksef.Fake) map[string][]ksef.AcceptedInvoice {
	out := map[string][]ksef.AcceptedInvoice{}
	for _, a := range f.Accepted() {
		out[a.InvoiceNumber] = append(out[a.InvoiceNumber], a)
	}
	return out
}

// strays is the row of invoices the run's own fake accepted that are no
// document of the run: made up, or sent under another number.
func strays(r *run, f *ksef.Fake) row {
	docs, err := r.ksefDocs(context.Background())
	r.require().NoError(err)
	ours := map[string]bool{}
	for _, d := range docs {
		ours[d.number] = true
	}
	rw := row{name: "KSeF: accepted invoices of no document (fake)"}
	for _, a := range f.Accepted() {
		if !ours[a.InvoiceNumber] {
			rw.got++
			rw.bad = append(rw.bad, a.InvoiceNumber+" "+a.KsefNumber)
		}
	}
	rw.dup = rw.got
	return rw
}

// frontCounts are the front's answers, without the per-route ones.
func frontCounts(c map[string]int) string {
	m := map[string]int{}
	for _, a := range []string{answerDown, answer429, answer503, answerLost, answerPassed} {
		if c[a] > 0 {
			m[a] = c[a]
		}
	}
	m["lost answers of invoice sends"] = c[answerLost+" "+sendInvoices]
	return sortedCounts(m)
}

// offlineCertEnv makes a development Offline certificate of the -dev
// seller and points the worker at it, so that an offline PDF carries KOD II
// as well as KOD I.
func offlineCertEnv(t *testing.T) []string {
	c, cert, err := ksef.NewOfflineCertificate(store.DefaultSeller.NIP)
	require.NoError(t, err)
	key, err := x509.MarshalPKCS8PrivateKey(c.Key)
	require.NoError(t, err)
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "offline.crt"), filepath.Join(dir, "offline.key")
	require.NoError(t, os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw}), 0o600))
	require.NoError(t, os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: key}), 0o600))
	return []string{"KSEF_OFFLINE_CERT=" + certFile, "KSEF_OFFLINE_KEY=" + keyFile}
}
