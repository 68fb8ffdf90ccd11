package tenant

import "strings"

// Record types of a ServiceRecord, as Graph spells them.
const (
	RecordMx          = "Mx"
	RecordCName       = "CName"
	RecordTxt         = "Txt"
	RecordUnavailable = "Unavailable"
)

// ServiceRecord is one of the DNS records a verified domain needs for the
// tenant's services (Graph's domainDnsRecord subtypes in one struct: the
// fields of a type other than RecordType's are empty). An unverified
// domain's answer is one RecordUnavailable record whose Description says why.
type ServiceRecord struct {
	ODataType        string `json:"@odata.type,omitempty"`
	ID               string `json:"id,omitempty"`
	IsOptional       bool   `json:"isOptional"`
	Label            string `json:"label"`
	RecordType       string `json:"recordType"`
	SupportedService string `json:"supportedService"`
	TTL              int    `json:"ttl"`
	MailExchange     string `json:"mailExchange,omitempty"`  // Mx
	Preference       *int   `json:"preference,omitempty"`    // Mx; a pointer as 0 is the usual value
	CanonicalName    string `json:"canonicalName,omitempty"` // CName
	Text             string `json:"text,omitempty"`          // Txt
	Description      string `json:"description,omitempty"`   // Unavailable
}

// Value is what the record points at or says: the mail host, the alias
// target or the text.
func (r ServiceRecord) Value() string {
	switch {
	case strings.EqualFold(r.RecordType, RecordMx):
		return r.MailExchange
	case strings.EqualFold(r.RecordType, RecordCName):
		return r.CanonicalName
	}
	return r.Text
}

// graphCollection is Graph's envelope for lists: {"value":[...]}.
type graphCollection[T any] struct {
	Value []T `json:"value"`
}
