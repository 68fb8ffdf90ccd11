// Package fail names the types of the Temporal application errors that
// cross a package boundary: activities raise them, workflows tell them apart
// (non-retryable, compensate, park for an operator) and the intake maps them
// to HTTP answers. A type is part of recorded histories and of what a client
// of an older worker sees, so a value here never changes.
//
// It is a leaf package, importing nothing, so that activities, workflows,
// the intake and the store can all use it without an import cycle.
package fail

// Error types that retrying cannot fix.
const (
	// DomainTaken: the tenant's domain (or a customer's own domain) belongs
	// to someone else.
	DomainTaken = "DomainTaken"
	// InvalidOrder: the order, or what the step needs of it, is not there or
	// not valid; no retry makes it so.
	InvalidOrder = "InvalidOrder"
	// TenantRejected: the tenant API refused the request for good (4xx).
	TenantRejected = "TenantRejected"
	// EmailRejected: the mail server refused the message for good (e.g. no
	// such mailbox).
	EmailRejected = "EmailRejected"
	// SeatsRefused: a change of seats cannot be applied (e.g. licences in use).
	SeatsRefused = "SeatsRefused"
	// ResolvedByOperator: an operator resolved a parked step by hand; the step
	// gives this to its caller instead of a result.
	ResolvedByOperator = "ResolvedByOperator"
	// NotCancellable: the order's cancel update is refused because the order
	// is paid or past the point where it can be cancelled (HTTP 409).
	NotCancellable = "NotCancellable"
	// GatewayRefused: Przelewy24 refused a request for good (a refund it
	// will not make, a payment that is not the transaction registered).
	GatewayRefused = "GatewayRefused"
	// OrderConflict: an order id placed again with another request or from
	// another shop (HTTP 409 order_id_conflict).
	OrderConflict = "OrderConflict"
	// CancelWindow: seats or a subscription can no longer be given back,
	// the 168 hours after their purchase or renewal have passed (HTTP 409
	// cancel_window).
	CancelWindow = "CancelWindow"
	// KSeFRejected: KSeF refused a document for good (its verdict, or a
	// request it refuses); an operator fixes the cause and resends.
	KSeFRejected = "KSeFRejected"
)

// Error types that are retried.
const (
	// TenantUnavailable: the tenant API throttles or is down; retried after
	// its Retry-After when given.
	TenantUnavailable = "TenantUnavailable"
	// KSeFUnavailable: KSeF throttles, is down or has not decided yet;
	// retried after its Retry-After when given.
	KSeFUnavailable = "KSeFUnavailable"
	// KSeFWaits: a correction waits for the KSeF number of the invoice it
	// corrects.
	KSeFWaits = "KSeFWaits"
)
