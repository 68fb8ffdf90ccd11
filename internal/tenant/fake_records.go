//go:build !production

package tenant

import (
	"net/http"
	"strings"
)

// serviceRecordTTL is the TTL Graph suggests for the mail records.
const serviceRecordTTL = 3600

// MailRecords are the records the fake hands out for a verified domain:
// what Microsoft 365 asks for mail (MX to Exchange Online Protection, the
// autodiscover CNAME, SPF), derived from the name as Microsoft does so that
// tests can publish them without asking.
func MailRecords(domain string) []ServiceRecord {
	pref := 0
	return []ServiceRecord{
		{ODataType: "#microsoft.graph.domainDnsMxRecord", Label: domain, RecordType: RecordMx, SupportedService: "Email",
			TTL: serviceRecordTTL, MailExchange: strings.ReplaceAll(domain, ".", "-") + ".mail.protection.outlook.com", Preference: &pref},
		{ODataType: "#microsoft.graph.domainDnsCnameRecord", Label: "autodiscover." + domain, RecordType: RecordCName, SupportedService: "Email",
			TTL: serviceRecordTTL, CanonicalName: "autodiscover.outlook.com"},
		{ODataType: "#microsoft.graph.domainDnsTxtRecord", Label: domain, RecordType: RecordTxt, SupportedService: "Email",
			TTL: serviceRecordTTL, Text: "v=spf1 include:spf.protection.outlook.com -all"},
	}
}

// serviceRecords answers Graph's serviceConfigurationRecords: the mail
// records of a verified domain; for an unverified one Graph does not fail
// but answers a single "Unavailable" record saying why.
func (f *Fake) serviceRecords(w http.ResponseWriter, r *http.Request) {
	_, d, ok := f.ownDomain(w, r)
	if !ok {
		return
	}
	recs := MailRecords(d.ID)
	if !d.IsVerified {
		recs = []ServiceRecord{{ODataType: "#microsoft.graph.domainDnsUnavailableRecord", Label: d.ID, RecordType: RecordUnavailable,
			SupportedService: "Email", TTL: serviceRecordTTL, Description: "the domain " + d.ID + " must be verified first"}}
	}
	writeJSON(w, http.StatusOK, graphCollection[ServiceRecord]{Value: recs})
}
