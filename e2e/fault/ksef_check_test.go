package fault

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/officeflow/officeflow/activities"
	"github.com/officeflow/officeflow/internal/ksef"
	"github.com/officeflow/officeflow/internal/mail"
	"github.com/officeflow/officeflow/internal/order"
	"github.com/officeflow/officeflow/internal/store"
)

// ksefSettle bounds the wait, once every order ended, for the run's VAT
// documents to be settled in KSeF: an offline document is sent again with
// a backoff of up to a minute, so a few of those.
const ksefSettle = 3 * time.Minute

// setSchema makes the fake validate every invoice against the Ministry's
// FA(3) schema (shared/ksef beside the checkout, as e2e's sharedKSeF finds
// it), as KSeF does; without that material it checks the rest only.
func setSchema(f *ksef.Fake) {
	wd, err := os.Getwd()
	if err != nil {
		return
	}
	for dir := wd; filepath.Dir(dir) != dir; dir = filepath.Dir(dir) {
		shared := filepath.Join(dir, "shared", "ksef")
		if _, err := os.Stat(filepath.Join(shared, "catalog.xml")); err == nil {
			f.Schema = filepath.Join(shared, "faktury", "schemy", "FA", "schemat_FA(3)_v1-0E.xsd")
			f.Catalog = filepath.Join(shared, "catalog.xml")
			return
		}
	}
}

// isEInvoice tells whether an email kind (sent_emails' key, the kind in a
// Message-ID) is a document's e-invoice email, "e_invoice#<document id>".
func isEInvoice(kind string) bool {
	return strings.HasPrefix(kind, string(mail.KindEInvoice)+"#")
}

// ksefDoc is one of the run's VAT invoices or corrections with its KSeF
// state in PostgreSQL.
type ksefDoc struct {
	id                   int64
	order, kind, number  string
	status, reason, hash string
	offline, deadline    bool
	issued               time.Time // its KSeF state's creation
}

// ksefDocs are the run's documents that have a KSeF state.
func (r *run) ksefDocs(ctx context.Context) ([]ksefDoc, error) {
	rows, err := st.Store.Pool.Query(ctx, `SELECT k.invoice_id, i.order_id, i.kind, i.number, k.status, k.reason, coalesce(k.xml_hash, ''),
			k.offline, k.deadline IS NOT NULL, k.created_at
		FROM ksef_documents k JOIN invoices i ON i.id = k.invoice_id WHERE i.order_id LIKE $1 ORDER BY k.invoice_id`, r.prefix+"%")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var docs []ksefDoc
	for rows.Next() {
		var d ksefDoc
		if err := rows.Scan(&d.id, &d.order, &d.kind, &d.number, &d.status, &d.reason, &d.hash, &d.offline, &d.deadline, &d.issued); err != nil {
			return nil, err
		}
		docs = append(docs, d)
	}
	return docs, rows.Err()
}

// awaitKSeF waits until each of the run's documents is settled in KSeF
// (accepted and its customer emailed, or rejected for an operator): an
// order ends without waiting for its documents' KSeF workflows. A run that
// timed out does not wait; one that never settles shows in the table.
func (r *run) awaitKSeF() {
	if r.ctx.Err() != nil {
		return
	}
	ctx, cancel := context.WithTimeout(r.ctx, ksefSettle)
	defer cancel()
	began := time.Now()
	open := -1
	for {
		err := st.Store.Pool.QueryRow(ctx, `SELECT count(*) FROM ksef_documents k JOIN invoices i ON i.id = k.invoice_id
			WHERE i.order_id LIKE $1 AND k.status <> 'rejected' AND NOT (k.status = 'accepted' AND EXISTS
				(SELECT 1 FROM sent_emails e WHERE e.order_id = i.order_id AND e.key = 'e_invoice#' || k.invoice_id))`,
			r.prefix+"%").Scan(&open)
		if err == nil && open == 0 {
			r.t.Logf("KSeF documents settled %.1fs after the orders ended", time.Since(began).Seconds())
			return
		}
		select {
		case <-ctx.Done():
			r.t.Logf("KSeF documents still not settled after %s: %d", ksefSettle, open)
			return
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// fake is the KSeF fake the run's worker issues through.
func (r *run) fake() *ksef.Fake {
	if r.sc.ksef != nil {
		return r.sc.ksef
	}
	return st.KSeFFake
}

// ksefRows are the table's KSeF rows, for every scenario: each paid
// order's VAT invoice (and a refunded one's correction) issued with its
// KSeF state, accepted, accepted by the fake once (a second acceptance is
// duplicated; a second sending the fake refuses as a duplicate, 440, shows
// as rejected), and emailed to the customer once.
func (r *run) ksefRows(orders []*ord) []row {
	rq := r.require()
	docs, err := r.ksefDocs(context.Background())
	rq.NoError(err)
	byOrder := map[string][]ksefDoc{}
	for _, d := range docs {
		byOrder[d.order] = append(byOrder[d.order], d)
	}
	// The fake's acceptances by invoice number (P_2): documents are
	// numbered in the one database, so the run's numbers are its own even
	// on the fake the tests share.
	accepted := map[string]int{}
	offlineAccepted := map[string]bool{}
	sessions := map[string]string{} // invoice number -> the session KSeF accepted it in
	for _, a := range r.fake().Accepted() {
		accepted[a.InvoiceNumber]++
		sessions[a.InvoiceNumber] = a.SessionReferenceNumber
		if a.Offline {
			offlineAccepted[a.InvoiceNumber] = true
		}
	}
	is := func(b bool) int {
		if b {
			return 1
		}
		return 0
	}
	want := func(o *ord) int { return o.provisioned() + is(o.wantStatus() == string(order.Refunded)) }
	count := func(o *ord, f func(d ksefDoc) int) int {
		n := 0
		for _, d := range byOrder[o.id] {
			n += f(d)
		}
		return n
	}
	var rows []row
	add := func(name string, want, got func(o *ord) int) { rows = append(rows, tally(name, orders, want, got)) }
	add("KSeF: VAT documents issued (db)", want, func(o *ord) int { return len(byOrder[o.id]) })
	add("  accepted (db)", want, func(o *ord) int { return count(o, func(d ksefDoc) int { return is(d.status == store.KSeFAccepted) }) })
	add("  accepted by KSeF (fake)", want, func(o *ord) int { return count(o, func(d ksefDoc) int { return accepted[d.number] }) })
	add("  rejected (db)", func(*ord) int { return 0 }, func(o *ord) int {
		return count(o, func(d ksefDoc) int { return is(d.status == store.KSeFRejected) })
	})
	rows[len(rows)-1].dup = rows[len(rows)-1].got // a refused send is one sent again (or a bad document)
	add("sent_emails e_invoice (db)", want, func(o *ord) int {
		n := 0
		for k := range o.recorded {
			n += is(isEInvoice(k))
		}
		return n
	})
	add("sink e_invoice Message-IDs", want, func(o *ord) int {
		n := 0
		for k, ids := range o.mailIDs {
			if isEInvoice(k) {
				n += len(ids)
			}
		}
		return n
	})
	add("  = recorded one, per document", want, func(o *ord) int {
		return count(o, func(d ksefDoc) int {
			k := activities.EInvoiceEmail(d.id)
			id := o.recorded[k]
			return is(id != "" && o.mailIDs[k][id] && len(o.mailIDs[k]) == 1)
		})
	})

	var rejected, online []string
	byStatus := map[string]int{}
	offline, offlineIn := 0, 0
	for _, d := range docs {
		byStatus[d.status]++
		offline += is(d.offline)
		offlineIn += is(d.offline && offlineAccepted[d.number])
		if d.status == store.KSeFRejected {
			rejected = append(rejected, d.order+" "+d.number+": "+d.reason)
		}
		if d.offline && accepted[d.number] > 0 && !offlineAccepted[d.number] {
			// KSeF got it online (its session opened before the document
			// went offline), yet the customer has its offline PDF.
			online = append(online, fmt.Sprintf("%s %s (issued %s, KSeF session %s)", d.order, d.number,
				d.issued.Format("15:04:05.000"), sessions[d.number]))
		}
	}
	r.stat("KSeF documents by status: %s; issued offline %d, of them accepted as offline by KSeF %d", sortedCounts(byStatus), offline, offlineIn)
	if len(rejected) > 0 {
		r.stat("KSeF rejected: %s", strings.Join(rejected[:min(5, len(rejected))], "; "))
	}
	if len(online) > 0 {
		r.stat("REPORT issued offline, but KSeF holds them as sent online: %s", strings.Join(online[:min(5, len(online))], "; "))
	}
	return rows
}
