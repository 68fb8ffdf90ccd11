package panel

import (
	"errors"
	"fmt"

	"github.com/officeflow/officeflow/internal/order"
	"github.com/officeflow/officeflow/internal/store"
)

// languages the panel speaks; an order's language is one of them.
var languages = []string{"pl", "en"}

// text is a message in lang; a key missing from the catalogue shows as
// itself (TestCatalogueHasEveryKeyInBothLanguages keeps that from happening).
func text(lang, key string) string {
	if s, ok := catalogue[lang][key]; ok {
		return s
	}
	return key
}

// reason says, in lang, why a request was refused; ok is false when err
// is no refusal (the database or Temporal did not answer).
func reason(lang string, err error) (msg string, ok bool) {
	var fe *order.FieldError
	var se *store.SeatsError
	switch {
	case errors.As(err, &fe):
		if s, ok := catalogue[lang]["refused."+fe.Field+"."+fe.Code]; ok {
			return s, true
		}
		return text(lang, "refused.other"), true
	case errors.As(err, &se):
		if se.InUse >= se.Seats {
			return fmt.Sprintf(text(lang, "refused.seats.none"), se.InUse, se.Seats), true
		}
		return fmt.Sprintf(text(lang, "refused.seats.change"), se.InUse, se.Seats, max(se.InUse, 1), order.MaxSeats), true
	case errors.Is(err, store.ErrNotActive):
		return text(lang, "refused.not_active"), true
	case errors.Is(err, store.ErrConflict):
		return text(lang, "refused.conflict"), true
	}
	return "", false
}

// catalogue holds every message of the panel, Polish (formal, as the
// emails are) and English.
var catalogue = map[string]map[string]string{
	"pl": {
		"skip": "Przejdź do treści", "brand.tagline": "panel rozliczeń", "logout": "Wyloguj",
		"footer": "officeflow · Microsoft 365 dla firm. Strona nie używa skryptów; jedyny plik cookie to sesja logowania.",

		"link.title":          "Panel rozliczeń",
		"link.form.title":     "Wyślij mi nowy link",
		"link.form.body":      "Prosimy podać adres e-mail z zamówienia. Wyślemy na niego link do panelu, w którym można opłacić zamówienie, pobrać faktury i zarządzać licencjami.",
		"link.email":          "Adres e-mail",
		"link.send":           "Wyślij link",
		"link.sent.title":     "Prosimy sprawdzić skrzynkę",
		"link.sent.body":      "Jeśli ten adres ma zamówienie, link do logowania jest już w drodze.",
		"link.sent.note":      "Link działa przez ograniczony czas i otwiera jedno zamówienie. Jeśli nie dotrze w ciągu kilku minut, warto zajrzeć do folderu spam.",
		"link.ask":            "Wyślij mi nowy link do logowania",
		"login.refused.title": "Ten link nie działa",
		"login.refused.body":  "Link jest błędny, wygasł albo dostęp do zamówienia został cofnięty. Poniżej można poprosić o nowy.",

		"msg.notfound.title":    "Nie ma takiej strony",
		"msg.notfound.body":     "Tej strony nie ma albo nie należy do zamówienia, do którego się Państwo zalogowali.",
		"msg.forbidden.title":   "Formularz wygasł",
		"msg.forbidden.body":    "Nic nie zostało zmienione. Prosimy wrócić do panelu, odświeżyć stronę i wysłać formularz ponownie.",
		"msg.ended.title":       "Sesja wygasła",
		"msg.ended.body":        "Aby zobaczyć zamówienie, prosimy otworzyć link z wiadomości e-mail albo poprosić o nowy.",
		"msg.slowdown.title":    "Zbyt wiele prób",
		"msg.slowdown.body":     "Prosimy odczekać chwilę i spróbować ponownie.",
		"msg.unavailable.title": "Chwilowa przerwa",
		"msg.unavailable.body":  "Nie udało się teraz tego zrobić. Nic nie zostało utracone; prosimy spróbować za chwilę.",

		"order.title": "Zamówienie", "order.status": "Stan zamówienia", "order.details": "Szczegóły", "order.company": "Firma",
		"order.plan": "Plan", "order.seats": "Licencje", "order.cycle": "Rozliczenie", "order.placed": "Złożone",
		"cycle.monthly": "miesięczne", "cycle.annual": "roczne",

		"status.placed":               "Przyjęte",
		"status.billing_access":       "Faktura pro forma wystawiona",
		"status.awaiting_payment":     "Czeka na płatność",
		"status.provisioning_tenant":  "Zakładamy Microsoft 365",
		"status.emailing_credentials": "Wysyłamy dane logowania",
		"status.installer_ready":      "Aktywne",
		"status.compensating":         "Anulowanie w toku",
		"status.cancelled":            "Anulowane",
		"status.refunded":             "Zwrot płatności",
		"status.needs_attention":      "Sprawdza je nasz zespół",
		"next.placed":                 "Przygotowujemy fakturę pro forma; za chwilę pojawi się tutaj.",
		"next.billing_access":         "Faktura pro forma jest gotowa. Po jej opłaceniu założymy Microsoft 365.",
		"next.awaiting_payment":       "Prosimy opłacić fakturę pro forma w terminie podanym poniżej. Gdy wpłata dotrze, założymy Microsoft 365 i wyślemy dane logowania administratora; zamówienie nieopłacone w terminie zostanie anulowane.",
		"next.provisioning_tenant":    "Płatność dotarła, dziękujemy. Zakładamy środowisko Microsoft 365; zwykle trwa to kilka minut.",
		"next.emailing_credentials":   "Microsoft 365 jest gotowe. Dane logowania administratora są w drodze na Państwa adres e-mail.",
		"next.installer_ready":        "Microsoft 365 działa. Poniżej można dokupić licencje, dodać użytkowników i własne domeny.",
		"next.compensating":           "Zamówienie jest anulowane: cofamy to, co zostało przygotowane, i potwierdzimy to e-mailem.",
		"next.cancelled":              "Zamówienie zostało anulowane. Nic nie jest należne.",
		"next.refunded":               "Zamówienie zostało anulowane, a wpłata zostanie zwrócona; faktura korygująca jest na liście dokumentów.",
		"next.needs_attention":        "Coś wymaga uwagi naszego zespołu. Już się tym zajmujemy i skontaktujemy się z Państwem.",

		"due.title": "Do zapłaty", "due.net": "Netto", "due.vat": "VAT", "due.gross": "Brutto", "due.by": "Termin", "due.zone": "(czasu polskiego)",
		"due.order": "Zamówienie", "due.licences": "Dodatkowe licencje", "due.renewal": "Kolejny okres",
		"pay.button":   "Zapłać teraz",
		"pay.note":     "Przekierujemy Państwa na stronę operatora płatności.",
		"pay.transfer": "Można zapłacić przelewem na rachunek podany na fakturze pro forma, w tytule podając jej numer.",

		"docs.title": "Dokumenty", "docs.none": "Nie ma jeszcze dokumentów.", "docs.pdf": "PDF", "docs.pdf.label": "Pobierz %s (PDF)",
		"doc.kind.proforma": "Faktura pro forma", "doc.kind.invoice": "Faktura VAT", "doc.kind.correction": "Faktura korygująca",
		"doc.status.unpaid": "nieopłacona", "doc.status.paid": "opłacona", "doc.status.void": "anulowana",

		"tenant.title": "Microsoft 365", "tenant.admin": "Administrator", "tenant.domain": "Domena",
		"tenant.admin_center": "Otwórz centrum administracyjne Microsoft 365",

		"tenant.start.desktop": "Zainstaluj aplikacje Office na komputerze", "tenant.start.web": "Otwórz aplikacje Office w przeglądarce",
		"tenant.start.none": "Otwórz Outlooka w przeglądarce",

		"sub.title": "Subskrypcja", "sub.state": "Stan", "sub.period": "Opłacony okres", "sub.seats": "Licencje",
		"sub.term": "Okres zobowiązania", "term.P1M": "1 miesiąc", "term.P1Y": "1 rok",
		"sub.includes": "W planie (na użytkownika)", "plan.apps.desktop": "aplikacje Office na komputer, w przeglądarce i na telefon", "plan.apps.web": "aplikacje Office w przeglądarce i na telefon (bez aplikacji klasycznych)",
		"plan.apps.none": "bez aplikacji Office", "plan.mailbox": "skrzynka pocztowa %d GB", "plan.nomailbox": "bez skrzynki pocztowej",
		"sub.inuse": "Przypisane", "sub.free": "wolne:", "sub.ending": "Koniec", "sub.ends": "subskrypcja kończy się %s",
		"sub.cancel.button": "Zakończ z końcem okresu", "sub.cancel.hint": "Subskrypcja działa do %s; nie zostanie przedłużona, a za opłacony okres nie ma zwrotu.",
		"sub.status.active": "aktywna", "sub.status.renewal_due": "czeka na odnowienie", "sub.status.suspended": "wstrzymana",
		"sub.status.terminated": "zakończona",
		"licences.label":        "Zmień liczbę licencji o",
		"licences.hint":         "Liczba dodatnia dokupuje licencje (faktura pro forma za resztę okresu), ujemna od razu zmniejsza ich liczbę, bez opłat.",
		"licences.window.all":   "Licencje można zwrócić do %s (168 godzin od zakupu lub odnowienia).",
		"licences.window.some":  "Do %[2]s można zwrócić %[1]d dokupionych licencji (168 godzin od zakupu).",
		"licences.window.none":  "Czas na zwrot licencji (168 godzin od zakupu lub odnowienia) minął; liczbę licencji można zmniejszyć w ciągu 7 dni od najbliższego odnowienia.",
		"licences.button":       "Zmień licencje",

		"users.title": "Użytkownicy", "users.none": "Nie dodano jeszcze użytkowników w panelu.", "users.licensed": "z licencją",
		"users.status.creating": "zakładany", "users.status.created": "gotowy", "users.status.failed": "nieudany",
		"users.status.removing": "usuwany", "users.status.removed": "usunięty", "users.remove": "Usuń", "users.admin": "administrator", "users.remove.label": "Usuń użytkownika %s",
		"refused.user_name.busy": "Ten użytkownik jest jeszcze zakładany; można go usunąć, gdy będzie gotowy.",
		"users.name":             "Nazwa użytkownika",
		"users.name.hint":        "Np. jan.kowalski: konto powstanie w domenie %s. Można też podać pełny adres w zweryfikowanej własnej domenie.",
		"users.display":          "Imię i nazwisko", "users.licence": "Przypisz licencję", "users.button": "Dodaj użytkownika",

		"domains.title": "Własne domeny", "domains.none": "Nie dodano jeszcze własnej domeny.", "domains.default": "domyślna",
		"domains.txt":      "Aby potwierdzić domenę, prosimy dodać w DNS rekord:",
		"domains.txt.type": "typ", "domains.txt.name": "nazwa", "domains.txt.value": "wartość",
		"domains.until":                  "Sprawdzamy DNS automatycznie do %s.",
		"domains.preparing":              "Przygotowujemy rekord do opublikowania w DNS; za chwilę pojawi się tutaj.",
		"domains.status.pending":         "czeka na DNS",
		"domains.status.verified":        "zweryfikowana",
		"domains.status.failed":          "niezweryfikowana",
		"domains.status.ready":           "gotowa do obsługi poczty",
		"domains.status.records_missing": "brak rekordów poczty",
		"domains.records":                "Aby działała poczta, prosimy dodać w DNS rekordy:",
		"domains.records.ready":          "Poczta działa; rekordy prosimy zostawić w DNS:",
		"domains.records.priority":       "priorytet",
		"domains.records.missing":        "Sprawdzanie zakończone; brakuje: %s. Poczta w tej domenie nie działa, dopóki rekordy nie zostaną dodane.",
		"domains.records.preparing":      "Domena zweryfikowana; przygotowujemy rekordy poczty do opublikowania w DNS.",
		"domains.record.published":       "opublikowany",
		"domains.record.missing":         "jeszcze niewidoczny",
		"domains.label":                  "Domena",
		"domains.make_default":           "Ustaw jako domyślną",
		"domains.button":                 "Dodaj domenę",
		"refused.title":                  "Nie udało się",
		"refused.add_seats.invalid":      "Prosimy podać liczbę licencji od -300 do 300, różną od zera.",
		"refused.add_seats.cancel_window": "Microsoft pozwala zwrócić licencje tylko w ciągu 168 godzin (7 dni) od ich zakupu lub odnowienia, a ten czas minął. " +
			"Licencje pozostają w subskrypcji do końca jej okresu; liczbę licencji można zmniejszyć w ciągu 7 dni od najbliższego odnowienia.",
		"refused.request_id.invalid":   "Formularz jest nieaktualny; prosimy odświeżyć stronę.",
		"refused.user_name.invalid":    "Nazwa użytkownika może zawierać litery, cyfry, kropki, podkreślenia i myślniki albo być pełnym adresem w zweryfikowanej własnej domenie.",
		"refused.display_name.invalid": "Prosimy podać imię i nazwisko (do 256 znaków).",
		"refused.order_id.not_active":  "Microsoft 365 nie jest jeszcze gotowe dla tego zamówienia.",
		"refused.domain.invalid":       "Prosimy podać zarejestrowaną domenę, np. acme.pl (nie .onmicrosoft.com).",
		"refused.domain.domain_taken":  "Ta domena jest właśnie dodawana do innego konta Microsoft 365.",
		"refused.not_active":           "Subskrypcja nie jest aktywna, więc nie można jej teraz zmieniać.",
		"refused.conflict":             "Ten formularz został już wysłany z inną treścią. Prosimy odświeżyć stronę i spróbować ponownie.",
		"refused.seats.none":           "Brak wolnej licencji (przypisane: %[1]d z %[2]d). Prosimy najpierw dokupić licencje albo dodać użytkownika bez licencji.",
		"refused.seats.change":         "Nie można tak zmienić liczby licencji (przypisane: %[1]d z %[2]d); subskrypcja może mieć od %[3]d do %[4]d licencji.",
		"refused.other":                "Tego żądania nie można wykonać.",
	},
	"en": {
		"skip": "Skip to content", "brand.tagline": "billing panel", "logout": "Sign out",
		"footer": "officeflow · Microsoft 365 for business. This page runs no scripts; its only cookie is your sign-in.",

		"link.title":          "Billing panel",
		"link.form.title":     "Send me a new link",
		"link.form.body":      "Enter the email address of your order. We will send it a link to the panel, where you can pay, download your invoices and manage your licences.",
		"link.email":          "Email address",
		"link.send":           "Send the link",
		"link.sent.title":     "Check your inbox",
		"link.sent.body":      "If this address has an order, a sign-in link is on its way.",
		"link.sent.note":      "The link works for a limited time and opens one order. If it has not arrived within a few minutes, look in your spam folder.",
		"link.ask":            "Send me a new sign-in link",
		"login.refused.title": "This link does not work",
		"login.refused.body":  "The link is wrong, has expired or access to the order was revoked. You can ask for a new one below.",

		"msg.notfound.title":    "Page not found",
		"msg.notfound.body":     "This page does not exist, or it does not belong to the order you are signed in to.",
		"msg.forbidden.title":   "This form has expired",
		"msg.forbidden.body":    "Nothing was changed. Go back to the panel, reload the page and send the form again.",
		"msg.ended.title":       "You are not signed in",
		"msg.ended.body":        "To see your order, open the link from your email or ask for a new one.",
		"msg.slowdown.title":    "Too many attempts",
		"msg.slowdown.body":     "Please wait a minute and try again.",
		"msg.unavailable.title": "Temporarily unavailable",
		"msg.unavailable.body":  "We could not do this right now. Nothing was lost; please try again in a moment.",

		"order.title": "Order", "order.status": "Order status", "order.details": "Details", "order.company": "Company",
		"order.plan": "Plan", "order.seats": "Licences", "order.cycle": "Billing", "order.placed": "Placed",
		"cycle.monthly": "monthly", "cycle.annual": "annual",

		"status.placed":               "Received",
		"status.billing_access":       "Pro-forma issued",
		"status.awaiting_payment":     "Awaiting payment",
		"status.provisioning_tenant":  "Setting up Microsoft 365",
		"status.emailing_credentials": "Sending sign-in details",
		"status.installer_ready":      "Active",
		"status.compensating":         "Being cancelled",
		"status.cancelled":            "Cancelled",
		"status.refunded":             "Refunded",
		"status.needs_attention":      "With our team",
		"next.placed":                 "We are preparing your pro-forma invoice; it will appear here shortly.",
		"next.billing_access":         "Your pro-forma invoice is ready. Once it is paid we set up Microsoft 365.",
		"next.awaiting_payment":       "Please pay the pro-forma invoice by the deadline below. Once your payment arrives we set up Microsoft 365 and email the administrator's sign-in details; an order not paid by the deadline is cancelled.",
		"next.provisioning_tenant":    "Payment received, thank you. We are creating your Microsoft 365 tenant; this usually takes a few minutes.",
		"next.emailing_credentials":   "Microsoft 365 is ready. The administrator's sign-in details are on their way to your email.",
		"next.installer_ready":        "Microsoft 365 is running. Below you can buy licences and add users and your own domains.",
		"next.compensating":           "The order is being cancelled: we are undoing what was set up and will confirm by email.",
		"next.cancelled":              "The order was cancelled. Nothing is due.",
		"next.refunded":               "The order was cancelled and your payment will be refunded; the credit note is among the documents.",
		"next.needs_attention":        "Something needs our team's attention. We are on it and will contact you.",

		"due.title": "Payment due", "due.net": "Net", "due.vat": "VAT", "due.gross": "Gross", "due.by": "Due by", "due.zone": "(Polish time)",
		"due.order": "The order", "due.licences": "More licences", "due.renewal": "The next period",
		"pay.button":   "Pay now",
		"pay.note":     "You will be taken to the payment provider's page.",
		"pay.transfer": "You can pay by bank transfer to the account on the pro-forma invoice, with its number as the reference.",

		"docs.title": "Documents", "docs.none": "No documents yet.", "docs.pdf": "PDF", "docs.pdf.label": "Download %s (PDF)",
		"doc.kind.proforma": "Pro-forma invoice", "doc.kind.invoice": "VAT invoice", "doc.kind.correction": "Credit note",
		"doc.status.unpaid": "unpaid", "doc.status.paid": "paid", "doc.status.void": "void",

		"tenant.title": "Microsoft 365", "tenant.admin": "Administrator", "tenant.domain": "Domain",
		"tenant.admin_center": "Open the Microsoft 365 admin centre",

		"tenant.start.desktop": "Install the Office desktop apps", "tenant.start.web": "Open the Office web apps",
		"tenant.start.none": "Open Outlook on the web",

		"sub.title": "Subscription", "sub.state": "State", "sub.period": "Paid period", "sub.seats": "Licences",
		"sub.term": "Term", "term.P1M": "1 month", "term.P1Y": "1 year",
		"sub.includes": "In the plan, per user", "plan.apps.desktop": "Office desktop, web and mobile apps", "plan.apps.web": "Office web and mobile apps (no desktop apps)",
		"plan.apps.none": "no Office apps", "plan.mailbox": "a %d GB mailbox", "plan.nomailbox": "no mailbox",
		"sub.inuse": "Assigned", "sub.free": "free:", "sub.ending": "Ends", "sub.ends": "the subscription ends on %s",
		"sub.cancel.button": "End at the end of the period", "sub.cancel.hint": "The subscription runs until %s and is not renewed; the period paid is not refunded.",
		"sub.status.active": "active", "sub.status.renewal_due": "renewal due", "sub.status.suspended": "suspended",
		"sub.status.terminated": "ended",
		"licences.label":        "Change the number of licences by",
		"licences.hint":         "A positive number buys licences (a pro-forma for the rest of the period); a negative one lowers the number at once, free of charge.",
		"licences.window.all":   "Licences can be given back until %s (168 hours from their purchase or renewal).",
		"licences.window.some":  "Until %[2]s, %[1]d licences bought can be given back (168 hours from their purchase).",
		"licences.window.none":  "The time to give licences back (168 hours from their purchase or renewal) has passed; you can lower their number within 7 days of the next renewal.",
		"licences.button":       "Change licences",

		"users.title": "Users", "users.none": "No users added in the panel yet.", "users.licensed": "licensed",
		"users.status.creating": "being created", "users.status.created": "ready", "users.status.failed": "failed",
		"users.status.removing": "being removed", "users.status.removed": "removed", "users.remove": "Remove", "users.admin": "administrator", "users.remove.label": "Remove user %s",
		"refused.user_name.busy": "This user is still being created; it can be removed once it is ready.",
		"users.name":             "User name",
		"users.name.hint":        "E.g. jan.kowalski: the account is made in %s. Or a full address in one of your verified domains.",
		"users.display":          "Display name", "users.licence": "Assign a licence", "users.button": "Add user",

		"domains.title": "Your own domains", "domains.none": "No own domain added yet.", "domains.default": "default",
		"domains.txt":      "To verify the domain, publish this DNS record:",
		"domains.txt.type": "type", "domains.txt.name": "name", "domains.txt.value": "value",
		"domains.until":                  "We check DNS automatically until %s.",
		"domains.preparing":              "We are preparing the record to publish in DNS; it will appear here shortly.",
		"domains.status.pending":         "waiting for DNS",
		"domains.status.verified":        "verified",
		"domains.status.failed":          "not verified",
		"domains.status.ready":           "ready for mail",
		"domains.status.records_missing": "mail records missing",
		"domains.records":                "For email to work, publish these DNS records:",
		"domains.records.ready":          "Email works; keep these records in DNS:",
		"domains.records.priority":       "priority",
		"domains.records.missing":        "Checks ended; missing: %s. Email in this domain does not work until the records are published.",
		"domains.records.preparing":      "Verified; we are preparing the mail records to publish in DNS.",
		"domains.record.published":       "published",
		"domains.record.missing":         "not visible yet",
		"domains.label":                  "Domain",
		"domains.make_default":           "Make it the default",
		"domains.button":                 "Add domain",
		"refused.title":                  "Not done",
		"refused.add_seats.invalid":      "Enter a number of licences from -300 to 300, other than zero.",
		"refused.add_seats.cancel_window": "Microsoft lets licences be given back only within 168 hours (7 days) of their purchase or renewal, and that time has passed. " +
			"The licences stay in the subscription until the end of its term; you can lower their number within 7 days of the next renewal.",
		"refused.request_id.invalid":   "The form is out of date; reload the page.",
		"refused.user_name.invalid":    "A user name may hold letters, digits, dots, underscores and hyphens, or be a full address in one of your verified domains.",
		"refused.display_name.invalid": "Enter a display name (at most 256 characters).",
		"refused.order_id.not_active":  "Microsoft 365 is not ready for this order yet.",
		"refused.domain.invalid":       "Enter a registered domain such as acme.pl (not .onmicrosoft.com).",
		"refused.domain.domain_taken":  "This domain is being added to another Microsoft 365 account.",
		"refused.not_active":           "The subscription is not active, so it cannot be changed now.",
		"refused.conflict":             "This form was sent before with other content. Reload the page and try again.",
		"refused.seats.none":           "No free licence (assigned: %[1]d of %[2]d). Buy more licences first, or add the user without one.",
		"refused.seats.change":         "The licences cannot change that much (assigned: %[1]d of %[2]d); a subscription holds from %[3]d to %[4]d licences.",
		"refused.other":                "This request cannot be done.",
	},
}
