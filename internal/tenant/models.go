// Package tenant talks to Microsoft's Partner Center REST API (Client) and
// provides a stateful fake of the same shape (Fake) for tests and dev mode.
package tenant

// Subscription states understood by Partner Center and the fake.
const (
	StatusActive    = "active"
	StatusSuspended = "suspended"
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
