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
// contains is fixed by Microsoft and lives here, in Plans: the one place the
// emails, the billing panel and the installer step read it from.
type Plan struct {
	Code string
	// Apps are the Office apps each user gets.
	Apps Apps
	// MailboxGB is the size of each user's Exchange Online mailbox; 0 when
	// the plan has no mailbox.
	MailboxGB int
	// Teams tells whether the plan includes Microsoft Teams.
	Teams bool
}

// Plans on sale, in the order the shop lists them, with what Microsoft puts
// in each (per user): Business Basic web and mobile apps, Business Standard
// and Premium (Premium adds Intune, Defender for Business and Entra ID P1)
// also the desktop apps, all three a 50 GB mailbox and Teams; Apps for
// business the desktop apps with no mailbox and no Teams; Exchange Online
// (Plan 1) a 50 GB mailbox only, no Office apps, not even in the browser.
var Plans = []Plan{
	{Code: "business-basic", Apps: AppsWeb, MailboxGB: 50, Teams: true},
	{Code: "business-standard", Apps: AppsDesktop, MailboxGB: 50, Teams: true},
	{Code: "business-premium", Apps: AppsDesktop, MailboxGB: 50, Teams: true},
	{Code: "apps-for-business", Apps: AppsDesktop},
	{Code: "exchange-online-plan-1", Apps: AppsNone, MailboxGB: 50},
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

// DesktopApps tells whether the plan's Office apps install on a computer.
func (p Plan) DesktopApps() bool { return p.Apps == AppsDesktop }

// Mailbox tells whether each user gets an Exchange Online mailbox.
func (p Plan) Mailbox() bool { return p.MailboxGB > 0 }

// OneDrive tells whether each user gets OneDrive storage for files. Every
// plan on sale with Office apps (desktop or web) has it; Exchange Online
// (Plan 1), a mailbox only, has none.
func (p Plan) OneDrive() bool { return p.Apps == AppsDesktop || p.Apps == AppsWeb }

// Where the customer starts once the tenant is ready.
const (
	AdminURL = "https://admin.microsoft.com"
	// SignInURL is where a user who is not an admin signs in, whatever the
	// plan: the admin centre would refuse them.
	SignInURL        = "https://www.microsoft365.com"
	DesktopInstaller = "https://portal.office.com/account/?ref=MeControl#installs"
	WebApps          = "https://www.office.com"
	OutlookWeb       = "https://outlook.office.com"
)

// InstallerURL is where the installer step sends the customer: the desktop
// installer for plans with desktop apps, the web apps for web-only plans,
// and Outlook on the web for a plan without Office apps (Exchange Online),
// whose users have nothing to use at the web apps' address but their mail.
func (p Plan) InstallerURL() string {
	switch p.Apps {
	case AppsDesktop:
		return DesktopInstaller
	case AppsWeb:
		return WebApps
	}
	return OutlookWeb
}

// MinSeats and MaxSeats bound an order's seats.
const (
	MinSeats = 1
	MaxSeats = 300
)
