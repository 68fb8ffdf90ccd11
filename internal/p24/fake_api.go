//go:build !production

package p24

import (
	"encoding/json"
	"net/http"
	"time"
	"unicode/utf8"
)

// The Fake refuses what the real gateway documents as invalid (lengths,
// required fields, sign), so that a request the Fake takes has a fair chance
// with Przelewy24. Texts of refusals follow the real ones where known
// ("Incorrect CRC value", "Incorrect authentication").

// bad reports whether s is empty (when required) or over max characters.
func bad(s string, max int, required bool) bool {
	n := utf8.RuneCountInString(s)
	return (required && n == 0) || n > max
}

func (f *Fake) register(w http.ResponseWriter, r *http.Request) {
	var in registerRequest
	if !decode(w, r, &in) {
		return
	}
	switch {
	case in.MerchantID != f.merchantID || in.PosID != f.posID:
		fail(w, http.StatusBadRequest, "Invalid merchantId or posId")
		return
	case bad(in.SessionID, 100, true) || in.Amount <= 0 || len(in.Currency) != 3 ||
		bad(in.Description, 1024, true) || bad(in.Email, 50, true) || len(in.Country) != 2 ||
		len(in.Language) != 2 || bad(in.URLReturn, 250, true) || bad(in.URLStatus, 250, false):
		fail(w, http.StatusBadRequest, "Invalid input data")
		return
	case !validSign(in.Sign, registerSign(in.SessionID, in.MerchantID, in.Amount, in.Currency, f.crc)):
		fail(w, http.StatusBadRequest, "Incorrect CRC value")
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if old := f.bySession[in.SessionID]; old != nil {
		// A register repeated because its answer was lost gets the same
		// token. Whether the real gateway allows a session id twice is not
		// documented; the Fake refuses one already paid or with another
		// amount, which would be a bug of ours either way.
		if old.State != NoPayment || old.Amount != in.Amount || old.Currency != in.Currency {
			fail(w, http.StatusBadRequest, "Invalid input data: sessionId already used")
			return
		}
		old.Description, old.Email, old.Language = in.Description, in.Email, in.Language
		old.URLReturn, old.URLStatus = in.URLReturn, in.URLStatus
		writeJSON(w, http.StatusOK, map[string]any{"data": map[string]string{"token": old.Token}, "responseCode": 0})
		return
	}
	rec := &Record{
		Token: newToken(), SessionID: in.SessionID, Amount: in.Amount, Currency: in.Currency,
		Description: in.Description, Email: in.Email, Language: in.Language,
		URLReturn: in.URLReturn, URLStatus: in.URLStatus,
	}
	f.all = append(f.all, rec)
	f.byToken[rec.Token] = rec
	f.bySession[rec.SessionID] = rec
	writeJSON(w, http.StatusOK, map[string]any{"data": map[string]string{"token": rec.Token}, "responseCode": 0})
}

func (f *Fake) verify(w http.ResponseWriter, r *http.Request) {
	var in verifyRequest
	if !decode(w, r, &in) {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if take(&f.failVerify) {
		fail(w, http.StatusInternalServerError, "Internal error")
		return
	}
	rec := f.bySession[in.SessionID]
	switch {
	case in.MerchantID != f.merchantID || in.PosID != f.posID:
		fail(w, http.StatusBadRequest, "Invalid merchantId or posId")
	case !validSign(in.Sign, verifySign(in.SessionID, in.OrderID, in.Amount, in.Currency, f.crc)):
		fail(w, http.StatusBadRequest, "Incorrect CRC value")
	case rec == nil || rec.State == NoPayment || rec.OrderID != in.OrderID:
		fail(w, http.StatusBadRequest, "Transaction not found")
	case rec.Amount != in.Amount || rec.Currency != in.Currency:
		fail(w, http.StatusBadRequest, "Invalid amount or currency")
	default:
		if rec.State == Advance {
			rec.State = Completed
		}
		writeJSON(w, http.StatusOK, map[string]any{"data": map[string]string{"status": "success"}, "responseCode": 0})
	}
}

func (f *Fake) transaction(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	rec := f.bySession[r.PathValue("sessionId")]
	if rec == nil {
		fail(w, http.StatusNotFound, "Transaction not found")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": map[string]any{
		"statement": rec.Statement, "orderId": rec.OrderID, "sessionId": rec.SessionID,
		"status": rec.State, "amount": rec.Amount, "currency": rec.Currency,
		"clientEmail": rec.Email, "paymentMethod": rec.MethodID, "description": rec.Description,
	}, "responseCode": 0})
}

func (f *Fake) refund(w http.ResponseWriter, r *http.Request) {
	var in RefundRequest
	if !decode(w, r, &in) {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if answer, ok := f.refunded[in.RequestID]; ok {
		// The same request again: answered as the first, nothing refunded.
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		_, _ = w.Write(answer)
		return
	}
	if take(&f.refuse) {
		fail(w, http.StatusBadRequest, "Refund refused")
		return
	}
	if bad(in.RequestID, 45, true) || bad(in.RefundsUUID, 35, true) || len(in.Refunds) == 0 || bad(in.URLStatus, 250, false) {
		fail(w, http.StatusBadRequest, "Invalid input data")
		return
	}
	results := make([]refundResult, len(in.Refunds))
	asked := map[*Record]int64{} // per transaction, over the request's lines
	refused := false
	for i, it := range in.Refunds {
		rec := f.bySession[it.SessionID]
		res := refundResult{OrderID: it.OrderID, SessionID: it.SessionID, Amount: it.Amount, Description: it.Description, Status: true, Message: "success"}
		switch {
		case rec == nil || rec.State == NoPayment || rec.OrderID != it.OrderID:
			res.Message = "Transaction not found"
		case rec.State == Advance:
			// Unverified money was never the merchant's to give back.
			res.Message = "Transaction not verified"
		case it.Amount <= 0:
			res.Message = "Invalid amount"
		case asked[rec]+it.Amount > rec.Amount-rec.Refunded:
			res.Message = "The amount of refund exceeds available amount for the transaction"
		}
		if res.Message != "success" {
			res.Status, refused = false, true
		} else {
			asked[rec] += it.Amount
		}
		results[i] = res
	}
	if refused {
		// All or nothing: the Fake refunds no line of a request with a bad one.
		writeJSON(w, http.StatusConflict, map[string]any{"error": results, "code": http.StatusConflict})
		return
	}
	var notes []RefundNotification
	for _, it := range in.Refunds {
		rec := f.bySession[it.SessionID]
		rec.Refunded += it.Amount
		if rec.Refunded == rec.Amount {
			rec.State = Returned
		}
		n := RefundNotification{
			OrderID: rec.OrderID, SessionID: rec.SessionID, MerchantID: f.merchantID,
			RequestID: in.RequestID, RefundsUUID: in.RefundsUUID, Amount: it.Amount,
			Currency: rec.Currency, Timestamp: time.Now().Unix(), Status: RefundCompleted,
		}.Signed(f.crc)
		notes = append(notes, n)
	}
	f.refunds = append(f.refunds, notes...)
	answer, _ := json.Marshal(map[string]any{"data": results, "responseCode": 0})
	answer = append(answer, '\n')
	f.refunded[in.RequestID] = answer
	if take(&f.loseRefundAnswer) {
		fail(w, http.StatusInternalServerError, "Internal error")
	} else {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		_, _ = w.Write(answer)
	}
	if in.URLStatus == "" || f.ctx.Err() != nil {
		return // Przelewy24 would use the panel's default address; the Fake has none
	}
	// Przelewy24 notifies refunds later; the Fake right after answering.
	f.wg.Add(1)
	go func() {
		defer f.wg.Done()
		for _, n := range notes {
			_ = f.deliver(f.ctx, in.URLStatus, n)
		}
	}()
}
