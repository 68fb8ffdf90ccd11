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

// A panel link run's id names neither the address nor the token, is the
// same for the address in any case, and differs from one request to the next.
func TestPanelLinkWorkflowID(t *testing.T) {
	a := PanelLinkWorkflowID("Jan@Acme.pl", []byte{1, 2, 3})
	if a != PanelLinkWorkflowID("jan@acme.pl", []byte{1, 2, 3}) {
		t.Errorf("the address's case changes the id")
	}
	if a == PanelLinkWorkflowID("jan@acme.pl", []byte{1, 2, 4}) {
		t.Errorf("two requests share an id")
	}
	if len(a) != len("panel-link-")+32 || a[:11] != "panel-link-" {
		t.Errorf("id %q is not panel-link-<32 hex digits>", a)
	}
}
