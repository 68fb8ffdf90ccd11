package panel

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/officeflow/officeflow/internal/money"
)

//go:embed templates/*.html
var templateFS embed.FS

// pageNames are the templates beside the layout; each defines "content".
var pageNames = []string{"link", "message", "order"}

// common is what the layout shows on every page.
type common struct {
	Lang     string
	Title    string
	Base     string // the panel's public path, for links and forms
	CSRF     string
	SignedIn bool
}

// parsePages parses the layout with each page, once per language, with
// that language's messages and formats bound as template functions.
func parsePages() (map[string]map[string]*template.Template, error) {
	out := map[string]map[string]*template.Template{}
	for _, lang := range languages {
		base, err := template.New("layout").Option("missingkey=error").Funcs(funcs(lang)).ParseFS(templateFS, "templates/layout.html")
		if err != nil {
			return nil, fmt.Errorf("panel: layout: %w", err)
		}
		out[lang] = map[string]*template.Template{}
		for _, name := range pageNames {
			t, err := template.Must(base.Clone()).ParseFS(templateFS, "templates/"+name+".html")
			if err != nil {
				return nil, fmt.Errorf("panel: page %s: %w", name, err)
			}
			out[lang][name] = t
		}
	}
	return out, nil
}

// warsaw is where the customer's dates and deadlines are shown.
var warsaw = sync.OnceValue(func() *time.Location {
	if loc, err := time.LoadLocation("Europe/Warsaw"); err == nil {
		return loc
	}
	return time.UTC
})

func funcs(lang string) template.FuncMap {
	return template.FuncMap{
		"t":     func(key string) string { return text(lang, key) },
		"tf":    func(key string, args ...any) string { return fmt.Sprintf(text(lang, key), args...) },
		"money": func(g money.Grosze) string { return g.Local(lang) + "\u00a0PLN" },
		"date":  func(t time.Time) string { return t.In(warsaw()).Format("2006-01-02") },
		// A deadline is a moment: the hour matters, in the customer's zone.
		"datetime": func(t time.Time) string { return t.In(warsaw()).Format("2006-01-02 15:04") },
		// A period's end is the first day not paid for; people read the last one.
		"lastday": func(end time.Time) string { return end.AddDate(0, 0, -1).Format("2006-01-02") },
		// A stored date (an invoice's due date) is a day, not a moment.
		"day": func(t *time.Time) string {
			if t == nil {
				return ""
			}
			return t.Format("2006-01-02")
		},
	}
}

// render writes a page in full or, when it cannot be made, a plain 500:
// never half a page.
func (p *Panel) render(w http.ResponseWriter, status int, lang, page string, data any) {
	var buf bytes.Buffer
	if err := p.pages[lang][page].ExecuteTemplate(&buf, "layout", data); err != nil {
		p.o.Log.Error("panel: page " + page + " not rendered: " + err.Error())
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// browserLang is the language of a page that shows no order: the first of
// Polish or English the browser asks for, Polish when neither.
func browserLang(r *http.Request) string {
	for tag := range strings.SplitSeq(r.Header.Get("Accept-Language"), ",") {
		tag, _, _ = strings.Cut(strings.TrimSpace(tag), ";")
		primary, _, _ := strings.Cut(strings.ToLower(tag), "-")
		if primary == "pl" || primary == "en" {
			return primary
		}
	}
	return "pl"
}

// orderLang is the order's language, Polish for anything unknown.
func orderLang(lang string) string {
	if lang == "en" {
		return "en"
	}
	return "pl"
}

type messageView struct {
	common
	Kind string // the message's keys are msg.<Kind>.title and .body
}

// message answers with a short page that says what happened and offers a
// new sign-in link; it names no order.
func (p *Panel) message(w http.ResponseWriter, r *http.Request, status int, kind string) {
	lang := browserLang(r)
	if status == http.StatusTooManyRequests {
		w.Header().Set("Retry-After", "60")
	}
	p.render(w, status, lang, "message", messageView{
		common: common{Lang: lang, Title: text(lang, "msg."+kind+".title"), Base: p.path}, Kind: kind})
}

type linkView struct {
	common
	Sent    bool // the request was taken: "if this address has an order, a link is on its way"
	Refused bool // a sign-in link did not work
}

// linkPage is the "send me a new link" page.
func (p *Panel) linkPage(w http.ResponseWriter, r *http.Request) {
	p.linkForm(w, r, http.StatusOK, linkView{})
}

func (p *Panel) linkForm(w http.ResponseWriter, r *http.Request, status int, v linkView) {
	lang := browserLang(r)
	title := "link.title"
	switch {
	case v.Sent:
		title = "link.sent.title"
	case v.Refused:
		title = "login.refused.title"
	}
	v.common = common{Lang: lang, Title: text(lang, title), Base: p.path, CSRF: p.csrf(p.formID(w, r))}
	p.render(w, status, lang, "link", v)
}
