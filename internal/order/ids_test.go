package order

import "testing"

// The ids are in recorded histories, in the charges table and in what
// operators search for: their spelling must never change.
func TestWorkflowIDsKeepTheirSpelling(t *testing.T) {
	for got, want := range map[string]string{
		WorkflowID("o1"):               "order-o1",
		SubscriptionWorkflowID("o1"):   "subscription-o1",
		LicencesWorkflowID("o1", "r1"): "licences-o1-r1",
		UserWorkflowID("o1", "ann"):    "user-o1-ann",
		DomainWorkflowID("acme.pl", 2): "domain-acme.pl-2",
	} {
		if got != want {
			t.Errorf("id %q, want %q", got, want)
		}
	}
}
