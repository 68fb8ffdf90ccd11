// Package tenant talks to Microsoft's Partner Center REST API (Client) and
// provides a stateful fake of the same shape (Fake) for tests and dev mode.
package tenant

// Subscription states understood by Partner Center and the fake.
const (
	StatusActive    = "active"
	StatusSuspended = "suspended"
	StatusDeleted   = "deleted" // terminal: a deleted subscription cannot be changed again
)

// Seat limits per subscription; the fake enforces them like Partner Center.
const (
	MinQuantity = 1
	MaxQuantity = 300
)

// Address is a billing address of a customer.
type Address struct {
	Country      string `json:"country"`
	City         string `json:"city"`
	PostalCode   string `json:"postalCode"`
	AddressLine1 string `json:"addressLine1"`
	FirstName    string `json:"firstName"`
	LastName     string `json:"lastName"`
	PhoneNumber  string `json:"phoneNumber"`
}

// CompanyProfile identifies the customer's Microsoft Entra tenant.
type CompanyProfile struct {
	TenantID    string `json:"tenantId"`
	Domain      string `json:"domain"`
	CompanyName string `json:"companyName"`
}

// BillingProfile is the customer's billing contact.
type BillingProfile struct {
	Email          string  `json:"email"`
	Culture        string  `json:"culture"`
	Language       string  `json:"language"`
	CompanyName    string  `json:"companyName"`
	DefaultAddress Address `json:"defaultAddress"`
}

// UserCredentials are the initial admin credentials. Partner Center returns
// them only once, in the answer to the customer creation.
type UserCredentials struct {
	UserName string `json:"userName"`
	Password string `json:"password"`
}

// Customer is a Partner Center customer (one Microsoft 365 tenant).
type Customer struct {
	ID              string           `json:"id"`
	CompanyProfile  CompanyProfile   `json:"companyProfile"`
	BillingProfile  BillingProfile   `json:"billingProfile"`
	UserCredentials *UserCredentials `json:"userCredentials,omitempty"`
}

// LineItem is one offer in an order; SubscriptionID is filled in by the answer.
type LineItem struct {
	LineItemNumber int    `json:"lineItemNumber"`
	OfferID        string `json:"offerId"`
	Quantity       int    `json:"quantity"`
	SubscriptionID string `json:"subscriptionId,omitempty"`
	// TermDuration and BillingCycle: a new-commerce (cart) line item's.
	TermDuration string `json:"termDuration,omitempty"`
	BillingCycle string `json:"billingCycle,omitempty"`
}

// Order buys one or more offers for a customer.
type Order struct {
	ID                  string     `json:"id"`
	ReferenceCustomerID string     `json:"referenceCustomerId"`
	LineItems           []LineItem `json:"lineItems"`
	Status              string     `json:"status"`
}

// Subscription is what an order line item turns into.
type Subscription struct {
	ID       string `json:"id"`
	OfferID  string `json:"offerId"`
	Quantity int    `json:"quantity"`
	Status   string `json:"status"`
	// TermDuration and BillingCycle: a new-commerce subscription's.
	TermDuration string `json:"termDuration,omitempty"`
	BillingCycle string `json:"billingCycle,omitempty"`
}

// User is a user of a customer's tenant. UserPrincipalName is
// local@<a domain of the customer>.
type User struct {
	ID                string `json:"id"`
	UserPrincipalName string `json:"userPrincipalName"`
	DisplayName       string `json:"displayName"`
	FirstName         string `json:"firstName,omitempty"`
	LastName          string `json:"lastName,omitempty"`
	UsageLocation     string `json:"usageLocation"`
	// PasswordProfile is sent at creation only: the partner chooses the
	// initial password and answers never carry it.
	PasswordProfile *PasswordProfile `json:"passwordProfile,omitempty"`
	// AssignedSkus are the offer ids of the licences the user holds.
	AssignedSkus []string `json:"assignedSkus,omitempty"`
}

// PasswordProfile is a user's initial password.
type PasswordProfile struct {
	Password            string `json:"password"`
	ForceChangePassword bool   `json:"forceChangePassword"`
}

// LicenseUpdate assigns and removes licences of one user; the answer carries
// Status "success".
type LicenseUpdate struct {
	LicensesToAssign []LicenseAssignment `json:"licensesToAssign"`
	LicensesToRemove []string            `json:"licensesToRemove,omitempty"`
	Status           string              `json:"status,omitempty"`
}

// LicenseAssignment names a licence by SkuID, the offer id of a subscription.
type LicenseAssignment struct {
	SkuID string `json:"skuId"`
}

// Domain is a custom domain added to a customer's tenant. ID is the domain
// name in lower case.
type Domain struct {
	ID                     string      `json:"id"`
	IsVerified             bool        `json:"isVerified"`
	IsDefault              bool        `json:"isDefault"`
	VerificationDNSRecords []DNSRecord `json:"verificationDnsRecords,omitempty"`
}

// DNSRecord is a record the domain's owner publishes to prove ownership.
type DNSRecord struct {
	RecordType string `json:"recordType"` // "Txt"
	Label      string `json:"label"`      // the domain
	Text       string `json:"text"`       // e.g. "MS=ms12345678"
	TTL        int    `json:"ttl"`
}

// collection is Partner Center's envelope for lists, e.g.
// {"totalCount":2,"items":[...],"attributes":{"objectType":"Collection"}}.
type collection[T any] struct {
	TotalCount int                  `json:"totalCount"`
	Items      []T                  `json:"items"`
	Attributes collectionAttributes `json:"attributes"`
}

type collectionAttributes struct {
	ObjectType string `json:"objectType"`
}
