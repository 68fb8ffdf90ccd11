package tenant

import (
	"strings"
	"time"
)

// The Microsoft Customer Agreement as Partner Center names it: a customer's
// acceptance must be confirmed (POST .../agreements) before its first
// new-commerce purchase.
const (
	AgreementTypeMCA = "MicrosoftCustomerAgreement"
	// MCATemplateID is the Agreement's template; Partner Center lists it
	// at GET /v1/agreements?agreementType=MicrosoftCustomerAgreement.
	MCATemplateID = "117a77b0-9360-443b-8795-c6dedc750cf9"
	MCALink       = "https://aka.ms/customeragreement"
)

// Error codes of the new-commerce calls.
const (
	// CodeAgreementExists: Partner Center's answer (409, its code 600061)
	// to a confirmation it already holds for the same contact.
	CodeAgreementExists = "PartnerConfirmedAgreementAlreadyExists"
	// CodeAgreementMissing: the fake refuses a checkout for a customer
	// without a confirmed Customer Agreement, as Partner Center does (its
	// own code for it is not written down here).
	CodeAgreementMissing = "MicrosoftCustomerAgreementNotAccepted"
)

// Billing cycles and terms of a cart line item.
const (
	BillingMonthly = "monthly"
	BillingAnnual  = "annual"
	TermMonth      = "P1M"
	TermYear       = "P1Y"
)

// Contact is a person of the customer's organisation.
type Contact struct {
	FirstName   string `json:"firstName"`
	LastName    string `json:"lastName"`
	Email       string `json:"email"`
	PhoneNumber string `json:"phoneNumber,omitempty"`
}

// Agreement is a customer's acceptance of an agreement, confirmed by the
// partner: who accepted it and when.
type Agreement struct {
	PrimaryContact Contact   `json:"primaryContact"`
	DateAgreed     time.Time `json:"dateAgreed"`
	TemplateID     string    `json:"templateId"`
	Type           string    `json:"type"`
	AgreementLink  string    `json:"agreementLink,omitempty"`
	UserID         string    `json:"userId,omitempty"`
}

// CartLineItem is one catalogue item in a cart: CatalogItemID is
// "<productId>:<skuId>:<availabilityId>".
type CartLineItem struct {
	ID            int    `json:"id"`
	CatalogItemID string `json:"catalogItemId"`
	Quantity      int    `json:"quantity"`
	TermDuration  string `json:"termDuration"`
	BillingCycle  string `json:"billingCycle"`
	FriendlyName  string `json:"friendlyName,omitempty"`
}

// Cart is a new-commerce purchase before checkout; Status is "Active",
// then "Ordered".
type Cart struct {
	ID        string         `json:"id,omitempty"`
	LineItems []CartLineItem `json:"lineItems"`
	Status    string         `json:"status,omitempty"`
}

// CheckoutResult is the answer to a checkout: the orders made, and the
// line items that could not be ordered.
type CheckoutResult struct {
	Orders      []Order      `json:"orders"`
	OrderErrors []OrderError `json:"orderErrors,omitempty"`
}

// OrderError is why part of a cart was not ordered.
type OrderError struct {
	OrderGroupID string `json:"orderGroupId"`
	Code         string `json:"code"`
	Description  string `json:"description"`
}

// availability is the catalogue's availability id of each offer
// ("<productId>:<skuId>") sold: the one table from a plan's offer to its
// new-commerce catalogue item. (Partner Center lists them at GET
// /v1/products/{productId}/skus/{skuId}/availabilities?country=PL; they
// change rarely, and a purchase with a stale one is refused, not
// misplaced.)
var availability = map[string]string{
	"CFQ7TTC0LH18:0001": "CFQ7TTC0K5DM", // Microsoft 365 Business Basic
	"CFQ7TTC0LDPB:0001": "CFQ7TTC0K5BK", // Microsoft 365 Business Standard
	"CFQ7TTC0LCHC:0002": "CFQ7TTC0K5BF", // Microsoft 365 Business Premium
	"CFQ7TTC0LH1G:0001": "CFQ7TTC0K5BC", // Microsoft 365 Apps for business
	"CFQ7TTC0LH16:0001": "CFQ7TTC0K5GT", // Exchange Online (Plan 1)
}

// CatalogItemID is the catalogue item that sells offer, false for an
// offer not in the table.
func CatalogItemID(offer string) (string, bool) {
	a, ok := availability[offer]
	if !ok {
		return "", false
	}
	return offer + ":" + a, true
}

// OfferOf is the offer ("<productId>:<skuId>") of a catalogue item; an
// offer id is its own offer. Subscriptions, and the licences users hold,
// name the offer.
func OfferOf(catalogItemID string) string {
	parts := strings.Split(catalogItemID, ":")
	if len(parts) == 3 {
		return parts[0] + ":" + parts[1]
	}
	return catalogItemID
}
