package activities

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/officeflow/officeflow/internal/billing"
	"github.com/officeflow/officeflow/internal/fail"
	"github.com/officeflow/officeflow/internal/ksef"
	"github.com/officeflow/officeflow/internal/store"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"
)

// KSeF is what the KSeF activities need: the API client, where the QR
// codes' links point, and the Offline certificate that signs KOD II. nil
// on Activities when KSEF_MODE is off.
type KSeF struct {
	Client *ksef.Client
	QRBase string
	// Offline signs KOD II of a document issued in offline mode; without
	// one such a document carries KOD I alone.
	Offline *ksef.OfflineCertificate
}

// KSeFResult is where a document stands in KSeF after a step.
type KSeFResult struct {
	Status     string // store.KSeFAccepted, KSeFOffline, KSeFPending, KSeFRejected
	KSeFNumber string `json:",omitempty"`
	Reason     string `json:",omitempty"`
	// Deadline is an offline document's legal deadline to be sent.
	Deadline time.Time
}

// ksefDoc is the document's KSeF state, refusing for good a document that
// has none.
func (a *Activities) ksefDoc(ctx context.Context, id int64) (store.KSeFDoc, error) {
	return a.readKSeF(ctx, id, a.Store.KSeFDocument)
}

// ksefDocToSend is ksefDoc with its kept XML.
func (a *Activities) ksefDocToSend(ctx context.Context, id int64) (store.KSeFDoc, error) {
	return a.readKSeF(ctx, id, a.Store.KSeFDocumentToSend)
}

func (a *Activities) readKSeF(ctx context.Context, id int64, read func(context.Context, int64) (store.KSeFDoc, error)) (store.KSeFDoc, error) {
	if err := a.ksefOn(); err != nil {
		return store.KSeFDoc{}, err
	}
	k, err := read(ctx, id)
	return k, dbError(err)
}

// ksefOn refuses for good, before any read, while KSeF is off.
func (a *Activities) ksefOn() error {
	if a.KSeF == nil {
		return temporal.NewNonRetryableApplicationError("KSeF is off (KSEF_MODE=off)", fail.InvalidOrder, nil)
	}
	return nil
}

// sourceOf reads document id's Source when xml needs it.
func (a *Activities) sourceOf(ctx context.Context, id int64) func() (store.Source, error) {
	return func() (store.Source, error) { return a.Store.Source(ctx, id) }
}

// xml is the document's FA(3) XML: built from the same Source as its PDF
// and kept, or the one already kept (and maybe sent), byte for byte. A
// rejected document's is built again, so that an operator's fix reaches
// it. A correction waits (a retried error) until the invoice it corrects
// has its KSeF number, which it must name. source gives the Source, called
// only to build it.
func (a *Activities) xml(ctx context.Context, k store.KSeFDoc, source func() (store.Source, error)) ([]byte, error) {
	if k.HasXML && k.Status != store.KSeFRejected {
		if k.XML != nil { // read with k (KSeFDocumentToSend)
			return k.XML, nil
		}
		_, x, err := a.Store.KSeFXML(ctx, k.ID)
		return x, dbError(err)
	}
	if k.RefersTo != 0 && k.RefersStatus != "" && k.RefersKSeFNumb == "" {
		return nil, temporal.NewApplicationError(fmt.Sprintf("correction %s waits for the KSeF number of the invoice it corrects", k.Number), fail.KSeFWaits)
	}
	src, err := source()
	if err != nil {
		return nil, dbError(err)
	}
	x, err := ksef.FA3(src.Doc, src.VAT, ksef.Options{Corrected: ksef.Corrected{Issued: src.RefersIssued, KSeFNumber: src.RefersKSeF}})
	if err != nil {
		return nil, temporal.NewNonRetryableApplicationError(err.Error(), fail.KSeFRejected, nil)
	}
	hash := ksef.InvoiceHash(x)
	verify := ksef.VerifyURL(a.KSeF.QRBase, src.Doc.Seller.NIP, src.Doc.Issued.In(a.loc()), hash)
	x, err = a.Store.SetKSeFXML(ctx, k.ID, x, hash, verify)
	return x, dbError(err)
}

// SendKSeF sends a VAT invoice or a correction to KSeF and waits for its
// verdict: accepted (number and UPO kept, PDF rendered with them),
// rejected (kept with the reason; a non-retryable KSeFRejected error for
// the workflow to show an operator), or a retried KSeFUnavailable while
// KSeF is down, throttles (after its Retry-After) or is still processing.
// offline sends it as issued in offline mode.
//
// It never sends a document twice: the session is recorded before the
// invoice goes, its reference before the status is asked; a retry asks
// that invoice's status, or finds it in the recorded session by its hash
// when the answer to sending it was lost, and sends only what KSeF never
// got.
func (a *Activities) SendKSeF(ctx context.Context, id int64, offline bool) (KSeFResult, error) {
	k, err := a.ksefDocToSend(ctx, id)
	if err != nil || k.Status == store.KSeFAccepted {
		return KSeFResult{Status: k.Status, KSeFNumber: k.KSeFNumber}, err
	}
	x, err := a.xml(ctx, k, a.sourceOf(ctx, id))
	if err != nil {
		return KSeFResult{}, err
	}
	if k.Status == store.KSeFRejected {
		// Built again above after the operator's fix: sent afresh.
		k.SessionRef, k.InvoiceRef = "", ""
	}
	c := a.KSeF.Client
	if k.SessionRef != "" && k.InvoiceRef == "" {
		list, err := c.SessionInvoices(ctx, k.SessionRef)
		if err != nil && ksef.Retryable(err) {
			return KSeFResult{}, a.ksefError(ctx, id, err)
		}
		for _, inv := range list {
			if inv.InvoiceHash == ksef.HashOf(x) {
				k.InvoiceRef = inv.ReferenceNumber
				if err := a.Store.KSeFSending(ctx, id, k.SessionRef, k.InvoiceRef); err != nil {
					return KSeFResult{}, err
				}
			}
		}
	}
	if k.InvoiceRef == "" {
		s, err := c.OpenSession(ctx)
		if err != nil {
			return KSeFResult{}, a.ksefError(ctx, id, err)
		}
		// Recorded before sending: a lost answer is looked for in it.
		if err := a.Store.KSeFSending(ctx, id, s.ReferenceNumber, ""); err != nil {
			return KSeFResult{}, err
		}
		k.SessionRef = s.ReferenceNumber
		send := c.Send
		if offline || k.Offline {
			send = c.SendOffline
		}
		sent, err := send(ctx, s, x)
		if err != nil {
			return KSeFResult{}, a.ksefError(ctx, id, err)
		}
		k.InvoiceRef = sent.ReferenceNumber
		if err := a.Store.KSeFSending(ctx, id, k.SessionRef, k.InvoiceRef); err != nil {
			return KSeFResult{}, err
		}
		// One invoice per session: closing it lets KSeF finish the session;
		// its failure changes nothing for the invoice.
		defer func() {
			if err := c.Close(context.WithoutCancel(ctx), s.ReferenceNumber); err != nil {
				activity.GetLogger(ctx).Warn("closing the KSeF session failed", "Document", id, "Error", err)
			}
		}()
	}
	st, err := c.AwaitInvoice(ctx, k.SessionRef, k.InvoiceRef)
	if err != nil {
		return KSeFResult{}, a.ksefError(ctx, id, err)
	}
	upo, err := c.UPO(ctx, k.SessionRef, k.InvoiceRef)
	if err != nil {
		var r *ksef.Refused
		if errors.As(err, &r) {
			// Accepted, but its UPO not yet made: asked again.
			return KSeFResult{}, temporal.NewApplicationError(err.Error(), fail.KSeFUnavailable)
		}
		return KSeFResult{}, a.ksefError(ctx, id, err)
	}
	if err := a.Store.KSeFAccept(ctx, id, st.KsefNumber, upo, time.Now()); err != nil {
		return KSeFResult{}, err
	}
	activity.GetLogger(ctx).Info("accepted by KSeF", "Document", id, "KSeFNumber", st.KsefNumber)
	return KSeFResult{Status: store.KSeFAccepted, KSeFNumber: st.KsefNumber}, nil
}

// ksefError is the activity error of a failed KSeF call: retried after the
// API's Retry-After when KSeF may answer later; for good, with the document
// kept as rejected and why, when it will not.
func (a *Activities) ksefError(ctx context.Context, id int64, err error) error {
	if ksef.Retryable(err) {
		opts := temporal.ApplicationErrorOptions{}
		if d := ksef.RetryAfter(err); d > 0 {
			opts.NextRetryDelay = d
		}
		return temporal.NewApplicationErrorWithOptions(err.Error(), fail.KSeFUnavailable, opts)
	}
	var rej *ksef.Rejected
	if errors.As(err, &rej) && rej.Status.Code == 550 {
		// Cancelled by KSeF itself: sent again in a new session.
		if ferr := a.Store.KSeFForgetSending(ctx, id); ferr != nil {
			return ferr
		}
		return temporal.NewApplicationError(err.Error(), fail.KSeFUnavailable)
	}
	reason := err.Error()
	if errors.As(err, &rej) {
		if n, ok := rej.Duplicate(); ok {
			reason = "KSeF holds this invoice already, as " + n + ": " + reason
		}
	}
	if rerr := a.Store.KSeFReject(ctx, id, reason); rerr != nil {
		return rerr
	}
	return temporal.NewNonRetryableApplicationError(reason, fail.KSeFRejected, nil)
}

// GoOffline issues a document in offline mode (offline24 of the Ministry's
// guide) when KSeF cannot be reached: its XML is fixed now, its PDF gets
// KOD I (labelled OFFLINE) and KOD II, and it must be sent by the end of
// the next working day. Once: a document already offline keeps its
// deadline.
func (a *Activities) GoOffline(ctx context.Context, id int64) (KSeFResult, error) {
	k, err := a.ksefDoc(ctx, id)
	if err != nil || k.Status == store.KSeFAccepted {
		return KSeFResult{Status: k.Status, KSeFNumber: k.KSeFNumber}, err
	}
	if k.Offline && k.Deadline != nil {
		return KSeFResult{Status: k.Status, Deadline: *k.Deadline}, nil
	}
	if k.InvoiceRef != "" && k.Status == store.KSeFPending {
		// KSeF already took it (online) and has not answered its status:
		// it is not issued again offline, only asked about.
		return KSeFResult{Status: store.KSeFPending}, nil
	}
	x, err := a.xml(ctx, k, a.sourceOf(ctx, id))
	if err != nil {
		return KSeFResult{}, err
	}
	src, err := a.Store.Source(ctx, id)
	if err != nil {
		return KSeFResult{}, dbError(err)
	}
	var kod2 string
	if a.KSeF.Offline != nil {
		nip := src.Doc.Seller.NIP
		if kod2, err = ksef.CertificateURL(a.KSeF.QRBase, nip, nip, *a.KSeF.Offline, ksef.InvoiceHash(x)); err != nil {
			return KSeFResult{}, temporal.NewNonRetryableApplicationError(err.Error(), fail.InvalidOrder, nil)
		}
	}
	deadline := billing.OfflineDeadline(src.Doc.Issued, a.loc())
	if err := a.Store.KSeFGoOffline(ctx, id, deadline, kod2); err != nil {
		return KSeFResult{}, err
	}
	activity.GetLogger(ctx).Warn("KSeF unreachable: document issued offline", "Document", id, "Deadline", deadline)
	return KSeFResult{Status: store.KSeFOffline, Deadline: deadline}, nil
}

// NoteKSeF records why a document waits, for the API and the operator.
func (a *Activities) NoteKSeF(ctx context.Context, id int64, reason string) error {
	return a.Store.KSeFNote(ctx, id, reason)
}

// PrepareKSeF builds and keeps the document's FA(3) XML (see xml): a
// correction's only once the invoice it corrects has its KSeF number. The
// document is read with its Source, one round trip for both, and kept in
// the same transaction.
func (a *Activities) PrepareKSeF(ctx context.Context, id int64) error {
	if err := a.ksefOn(); err != nil {
		return err
	}
	return a.Store.InTx(ctx, func(ctx context.Context) error {
		k, src, srcErr, err := a.Store.KSeFDocumentWithSource(ctx, id)
		if err != nil || k.Status == store.KSeFAccepted {
			return dbError(err)
		}
		_, err = a.xml(ctx, k, func() (store.Source, error) { return src, srcErr })
		return err
	})
}

// toKSeF starts the KSeF workflow of a document just issued (or found
// issued by a retry), if it is one KSeF takes: a VAT invoice or a
// correction issued with KSeF on. Its id makes a second start a no-op.
func (a *Activities) toKSeF(ctx context.Context, inv store.Invoice) error {
	if a.KSeF == nil || a.StartKSeF == nil || inv.ID == 0 || (inv.Kind != billing.KindInvoice && inv.Kind != billing.KindCorrection) {
		return nil
	}
	if orderID, ok := inv.NewInKSeF(); ok {
		return a.StartKSeF(ctx, inv.ID, orderID)
	}
	k, err := a.Store.KSeFDocument(ctx, inv.ID)
	if errors.Is(err, store.ErrNotFound) {
		return nil // issued before KSeF was on
	}
	if err != nil || k.Status == store.KSeFAccepted {
		return err
	}
	return a.StartKSeF(ctx, inv.ID, k.OrderID)
}
