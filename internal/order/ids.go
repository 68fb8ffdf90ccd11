package order

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"
)

// Temporal workflow ids, one run per order, purchase, user, domain and
// subscription, so that a repeated request never starts a second one. The
// intake starts and signals the runs, the workflows start their children and
// activities record the ids beside the rows they write: all of them build the
// id here.

// WorkflowID is the id of an order's saga.
func WorkflowID(orderID string) string { return "order-" + orderID }

// SubscriptionWorkflowID is the id of a provisioned order's subscription
// (renewals, cancel at the period's end).
func SubscriptionWorkflowID(orderID string) string { return "subscription-" + orderID }

// LicencesWorkflowID is the id of one purchase of more (or fewer) licences.
func LicencesWorkflowID(orderID, requestID string) string {
	return "licences-" + orderID + "-" + requestID
}

// UserWorkflowID is the id of the run that makes one user of the tenant.
func UserWorkflowID(orderID, userName string) string { return "user-" + orderID + "-" + userName }

// UserRemovalWorkflowID is the id of the run that removes one attempt's
// user from the tenant: a name made again is removed by a run of its own.
func UserRemovalWorkflowID(orderID, userName string, attempt int) string {
	return "user-remove-" + orderID + "-" + userName + "-" + strconv.Itoa(attempt)
}

// DomainWorkflowID is the id of one attempt to add the customer's own domain.
func DomainWorkflowID(domain string, attempt int) string {
	return "domain-" + domain + "-" + strconv.Itoa(attempt)
}

// PanelLinkWorkflowID is the id of the run that mails billing panel sign-in
// links asked for by one request: derived from the address and the first
// link's token hash, so the address is not in the id and each request has
// its own run.
func PanelLinkWorkflowID(email string, tokenHash []byte) string {
	h := sha256.Sum256(append([]byte(strings.ToLower(email)+"\x00"), tokenHash...))
	return "panel-link-" + hex.EncodeToString(h[:16])
}

// KSeFWorkflowID is the id of the run that issues document id (a VAT
// invoice or a correction, invoices.id) through KSeF.
func KSeFWorkflowID(id int64) string { return "ksef-" + strconv.FormatInt(id, 10) }
