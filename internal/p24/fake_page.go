//go:build !production

package p24

import (
	"errors"
	"fmt"
	"html/template"
	"net/http"
)

// The payer page stands in for Przelewy24's: it shows what is paid for and
// lets whoever opens it choose the outcome. Both forms post back to the page
// itself by a relative URL, so the Fake works mounted under any prefix.
var payPage = template.Must(template.New("pay").Parse(`<!doctype html>
<html lang="{{.Lang}}">
<head><meta charset="utf-8"><title>Przelewy24 (fake)</title></head>
<body>
<h1>Przelewy24 <small>(fake)</small></h1>
<p data-state="{{.State}}">{{.Description}}</p>
<p>{{.T.Amount}}: <strong data-amount="{{.Grosze}}">{{.Amount}} {{.Currency}}</strong></p>
{{if .Paid}}<p>{{.T.Done}}</p>{{end}}
<form method="post" action="{{.Token}}"><input type="hidden" name="outcome" value="paid"><button type="submit">{{.T.Pay}}</button></form>
<form method="post" action="{{.Token}}"><input type="hidden" name="outcome" value="failed"><button type="submit">{{.T.Fail}}</button></form>
</body>
</html>
`))

type pageText struct{ Amount, Pay, Fail, Done string }

var pageTexts = map[string]pageText{
	"pl": {"Kwota", "Zapłać", "Płatność nieudana", "Ta transakcja jest już opłacona."},
	"en": {"Amount", "Pay", "Payment fails", "This transaction is paid already."},
}

func (f *Fake) page(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	rec := f.byToken[r.PathValue("token")]
	var data map[string]any
	if rec != nil {
		lang := rec.Language
		t, ok := pageTexts[lang]
		if !ok {
			lang, t = "pl", pageTexts["pl"]
		}
		data = map[string]any{
			"Lang": lang, "T": t, "Token": rec.Token, "State": rec.State.String(),
			"Description": rec.Description, "Grosze": rec.Amount, "Currency": rec.Currency,
			"Amount": decimal(rec.Amount, lang), "Paid": rec.State != NoPayment,
		}
	}
	f.mu.Unlock()
	if rec == nil {
		http.Error(w, "unknown transaction token", http.StatusNotFound)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_ = payPage.Execute(w, data)
}

// submit takes a form's outcome and sends the payer back to the merchant,
// whether or not the merchant took the notification, as Przelewy24 does.
func (f *Fake) submit(w http.ResponseWriter, r *http.Request) {
	back, err := f.pay(f.ctx, r.PathValue("token"), Outcome(r.PostFormValue("outcome")))
	switch {
	case errors.Is(err, errUnknownToken):
		http.Error(w, "unknown transaction token", http.StatusNotFound)
	case back == "":
		http.Error(w, "outcome must be paid or failed", http.StatusBadRequest)
	default:
		http.Redirect(w, r, back, http.StatusSeeOther)
	}
}

// decimal writes grosze as złoty: 12345 -> "123,45" (pl) or "123.45".
func decimal(grosze int64, lang string) string {
	sep := "."
	if lang == "pl" {
		sep = ","
	}
	sign := ""
	if grosze < 0 {
		sign, grosze = "-", -grosze
	}
	return fmt.Sprintf("%s%d%s%02d", sign, grosze/100, sep, grosze%100)
}
