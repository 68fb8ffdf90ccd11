package order

// Apps are the Office apps (Word, Excel, PowerPoint, Outlook) a plan gives
// each user. The words are the ones the emails and the panel test for.
type Apps string

const (
	// AppsDesktop: the desktop apps to install, and their web and mobile
	// versions.
	AppsDesktop Apps = "desktop"
	// AppsWeb: the web and mobile apps only, nothing to install on a
	// computer.
	AppsWeb Apps = "web"
	// AppsNone: no Office apps at all, not even in the browser.
	AppsNone Apps = "none"
)

// Valid tells whether a is one of the three.
func (a Apps) Valid() bool { return a == AppsDesktop || a == AppsWeb || a == AppsNone }
