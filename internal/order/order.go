// Package order holds what every part agrees on about an order: its statuses,
// the plans on sale and the intake request with its validation. It does no I/O,
// so the deterministic workflow code may use it.
package order

// Status is where an order is in its lifecycle; the same word is used in the
// API, the database and the OrderStatus search attribute.
type Status string

const (
	Placed              Status = "placed"
	BillingAccess       Status = "billing_access"
	AwaitingPayment     Status = "awaiting_payment"
	ProvisioningTenant  Status = "provisioning_tenant"
	EmailingCredentials Status = "emailing_credentials"
	InstallerReady      Status = "installer_ready"
	Compensating        Status = "compensating"
	Cancelled           Status = "cancelled"
	Refunded            Status = "refunded"
	NeedsAttention      Status = "needs_attention"
)

// Terminal tells whether nothing more happens to an order in this status.
func (s Status) Terminal() bool {
	return s == InstallerReady || s == Cancelled || s == Refunded
}

// Cancellable tells whether the customer may still walk away: nothing has been
// provisioned yet.
func (s Status) Cancellable() bool {
	return s == Placed || s == BillingAccess || s == AwaitingPayment
}

// Late tells whether a payment arriving now comes too late: the order no
// longer waits for one and the money must go back.
func (s Status) Late() bool {
	return s == Compensating || s == Cancelled || s == Refunded || s == NeedsAttention
}

// Plan is a product on sale. Prices live in the database; what a plan
// contains is fixed by Microsoft and lives here.
type Plan struct {
	Code        string
	DesktopApps bool
}

// Plans on sale, in the order the shop lists them.
var Plans = []Plan{
	{Code: "business-basic"},
	{Code: "business-standard", DesktopApps: true},
	{Code: "business-premium", DesktopApps: true},
	{Code: "apps-for-business", DesktopApps: true},
	{Code: "exchange-online-plan-1"},
}

// PlanByCode finds a plan.
func PlanByCode(code string) (Plan, bool) {
	for _, p := range Plans {
		if p.Code == code {
			return p, true
		}
	}
	return Plan{}, false
}

// Where the customer starts once the tenant is ready.
const (
	AdminURL         = "https://admin.microsoft.com"
	DesktopInstaller = "https://portal.office.com/account/?ref=MeControl#installs"
	WebApps          = "https://www.office.com"
)

// InstallerURL is the desktop installer for plans with desktop apps, the web
// apps otherwise.
func (p Plan) InstallerURL() string {
	if p.DesktopApps {
		return DesktopInstaller
	}
	return WebApps
}

// MinSeats and MaxSeats bound an order's seats.
const (
	MinSeats = 1
	MaxSeats = 300
)
