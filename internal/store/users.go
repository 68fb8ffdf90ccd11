package store

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// States of a tenant user (tenant_users.status).
const (
	UserCreating = "creating"
	UserCreated  = "created"
	UserFailed   = "failed"
	UserRemoving = "removing"
	UserRemoved  = "removed"
)

// States of a customer's own domain (tenant_domains.status).
const (
	DomainPending  = "pending"
	DomainVerified = "verified"
	DomainFailed   = "failed"
)

// User is a user made in an order's tenant.
type User struct {
	OrderID        string
	UserName       string // user principal name, lower case
	DisplayName    string
	Licensed       bool   // holds one of the service's seats
	Status         string // UserCreating, UserCreated, UserFailed, UserRemoving or UserRemoved
	Attempt        int
	TenantUserID   string
	PasswordSealed []byte
	Created        bool // this call recorded it
}

// UserRequest asks for a user in the tenant.
type UserRequest struct {
	OrderID, UserName, DisplayName string
	Licensed                       bool
	Hash                           []byte
}

// licensed counts the service's seats held by users.
func licensed(ctx context.Context, tx pgx.Tx, orderID string) (int, error) {
	var n int
	err := tx.QueryRow(ctx, `SELECT count(*) FROM tenant_users WHERE order_id = $1 AND licensed AND status NOT IN ('failed', 'removed')`, orderID).Scan(&n)
	return n, err
}

// AddUser records a user request. A licensed user takes a free seat at
// once, under the order's lock, so two requests never take the last seat
// twice; with none free it is a *SeatsError naming the free count. The same
// request again returns the same user; another under the same name is
// ErrConflict.
func (s *Store) AddUser(ctx context.Context, r UserRequest) (User, error) {
	var u User
	err := pgx.BeginFunc(ctx, s.db(ctx), func(tx pgx.Tx) error {
		if err := lockOrder(ctx, tx, r.OrderID); err != nil {
			return err
		}
		var hash []byte
		var status string
		err := tx.QueryRow(ctx, `SELECT request_hash, status FROM tenant_users WHERE order_id = $1 AND user_name = $2`, r.OrderID, r.UserName).Scan(&hash, &status)
		again := err == nil && (status == UserFailed || status == UserRemoved) // nothing of it exists: ask anew
		if err == nil && !again {
			if !bytes.Equal(hash, r.Hash) {
				return ErrConflict
			}
			u, err = userOf(ctx, tx, r.OrderID, r.UserName)
			return err
		}
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		sv, err := serviceOf(ctx, tx, r.OrderID)
		if errors.Is(err, ErrNotFound) || err == nil && sv.Status != ServiceActive && sv.Status != ServiceRenewalDue {
			return ErrNotActive
		}
		if err != nil {
			return err
		}
		if r.Licensed {
			inUse, err := licensed(ctx, tx, r.OrderID)
			if err != nil {
				return err
			}
			if free := sv.Seats - inUse; free <= 0 {
				return &SeatsError{Free: 0, InUse: inUse, Seats: sv.Seats,
					Message: fmt.Sprintf("no free seat: %d of %d hold a licence (free: 0); buy more licences first", inUse, sv.Seats)}
			}
		}
		if _, err := tx.Exec(ctx, `INSERT INTO tenant_users (order_id, user_name, request_hash, display_name, licensed, status)
			VALUES ($1, $2, $3, $4, $5, 'creating')
			ON CONFLICT (order_id, user_name) DO UPDATE SET request_hash = EXCLUDED.request_hash, display_name = EXCLUDED.display_name,
				licensed = EXCLUDED.licensed, status = 'creating', attempt = tenant_users.attempt + 1, tenant_user_id = '', password_sealed = NULL`,
			r.OrderID, r.UserName, r.Hash, r.DisplayName, r.Licensed); err != nil {
			return err
		}
		if u, err = userOf(ctx, tx, r.OrderID, r.UserName); err != nil {
			return err
		}
		if err := insertEvent(ctx, tx, r.OrderID, fmt.Sprintf("user:%s#%d", r.UserName, u.Attempt), "installer_ready", "user "+r.UserName+" requested", "intake"); err != nil {
			return err
		}
		u.Created = true
		return nil
	})
	return u, err
}

// GetUser reads one user of an order.
func (s *Store) GetUser(ctx context.Context, orderID, userName string) (User, error) {
	return userOf(ctx, s.db(ctx), orderID, userName)
}

func userOf(ctx context.Context, q querier, orderID, userName string) (User, error) {
	u := User{OrderID: orderID, UserName: userName}
	err := q.QueryRow(ctx, `SELECT display_name, licensed, status, attempt, tenant_user_id, password_sealed FROM tenant_users
		WHERE order_id = $1 AND user_name = $2`, orderID, userName).Scan(&u.DisplayName, &u.Licensed, &u.Status, &u.Attempt, &u.TenantUserID, &u.PasswordSealed)
	if errors.Is(err, pgx.ErrNoRows) {
		return u, fmt.Errorf("user %s of order %s: %w", userName, orderID, ErrNotFound)
	}
	return u, err
}

// Users lists an order's users by name.
func (s *Store) Users(ctx context.Context, orderID string) ([]User, error) {
	rows, err := s.db(ctx).Query(ctx, `SELECT user_name, display_name, licensed, status, tenant_user_id FROM tenant_users
		WHERE order_id = $1 ORDER BY user_name`, orderID)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (User, error) {
		u := User{OrderID: orderID}
		err := r.Scan(&u.UserName, &u.DisplayName, &u.Licensed, &u.Status, &u.TenantUserID)
		return u, err
	})
}

// SealUserPassword keeps the user's temporary password, sealed, before it is
// sent to the tenant API; a retry gets the first one back, so the tenant and
// the email agree.
func (s *Store) SealUserPassword(ctx context.Context, orderID, userName string, sealed []byte) ([]byte, error) {
	var kept []byte
	err := s.db(ctx).QueryRow(ctx, `UPDATE tenant_users SET password_sealed = coalesce(password_sealed, $3)
		WHERE order_id = $1 AND user_name = $2 RETURNING password_sealed`, orderID, userName, sealed).Scan(&kept)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("user %s of order %s: %w", userName, orderID, ErrNotFound)
	}
	return kept, err
}

// UserMade records the tenant's id of a user.
func (s *Store) UserMade(ctx context.Context, orderID, userName, tenantUserID string) error {
	return s.userStep(ctx, orderID, "user_created:"+userName, "user "+userName+" created", func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `UPDATE tenant_users SET status = 'created', tenant_user_id = $3 WHERE order_id = $1 AND user_name = $2`,
			orderID, userName, tenantUserID)
		return err
	})
}

// UserFailed gives the user's seat back: the user could not be made, or was
// removed again.
func (s *Store) UserFailed(ctx context.Context, orderID, userName, reason string) error {
	return s.userStep(ctx, orderID, "user_failed:"+userName, "user "+userName+" not made: "+reason, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `UPDATE tenant_users SET status = 'failed', password_sealed = NULL WHERE order_id = $1 AND user_name = $2`,
			orderID, userName)
		return err
	})
}

// ErrUserBusy refuses to remove a user that is still being made.
var ErrUserBusy = errors.New("the user is still being created")

// ErrAdminUser refuses to remove the tenant's first admin: the account the
// credentials email gave the customer, made with the tenant.
var ErrAdminUser = errors.New("the tenant's administrator cannot be removed here")

// AdminLicensed records that the tenant's first admin holds one of the
// plan's licences: a made, licensed user, so that it takes a seat and the
// panel lists it. It is written after the tenant assigned the licence and
// safe to call again (the admin's row is kept as it is then).
func (s *Store) AdminLicensed(ctx context.Context, orderID, userName, displayName, tenantUserID string) error {
	return pgx.BeginFunc(ctx, s.db(ctx), func(tx pgx.Tx) error {
		if err := lockOrder(ctx, tx, orderID); err != nil {
			return err
		}
		// No event: the order's log keeps one line per stage.
		_, err := tx.Exec(ctx, `INSERT INTO tenant_users (order_id, user_name, request_hash, display_name, licensed, status, tenant_user_id)
			VALUES ($1, $2, $3, $4, true, 'created', $5)
			ON CONFLICT (order_id, user_name) DO NOTHING`, orderID, userName, adminHash, displayName, tenantUserID)
		return err
	})
}

// adminHash is the admin row's request hash: no request of the customer
// made it, so a request for a user of that name is a conflict.
var adminHash = []byte("admin")

// isAdmin tells whether userName is the order's tenant's first admin.
func isAdmin(ctx context.Context, tx pgx.Tx, orderID, userName string) (bool, error) {
	var admin bool
	err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM tenants WHERE order_id = $1 AND lower(admin_user) = lower($2))`, orderID, userName).Scan(&admin)
	return admin, err
}

// RemoveUser records the wish to remove a made user; it keeps its seat
// until UserRemoved. Asked again while removing or once removed, it
// returns the user as it stands (Created false). A user still being made
// is ErrUserBusy, one never made (or that failed) ErrNotFound.
func (s *Store) RemoveUser(ctx context.Context, orderID, userName string) (User, error) {
	var u User
	err := pgx.BeginFunc(ctx, s.db(ctx), func(tx pgx.Tx) error {
		if err := lockOrder(ctx, tx, orderID); err != nil {
			return err
		}
		var err error
		if u, err = userOf(ctx, tx, orderID, userName); err != nil {
			return err
		}
		if admin, err := isAdmin(ctx, tx, orderID, userName); err != nil || admin {
			return cmp.Or(err, ErrAdminUser)
		}
		switch u.Status {
		case UserRemoving, UserRemoved:
			return nil
		case UserCreating:
			return ErrUserBusy
		case UserFailed:
			return fmt.Errorf("user %s of order %s: %w", userName, orderID, ErrNotFound)
		}
		if _, err := tx.Exec(ctx, `UPDATE tenant_users SET status = 'removing' WHERE order_id = $1 AND user_name = $2`, orderID, userName); err != nil {
			return err
		}
		u.Status, u.Created = UserRemoving, true
		return insertEvent(ctx, tx, orderID, fmt.Sprintf("user_remove:%s#%d", userName, u.Attempt), "installer_ready", "removal of user "+userName+" requested", "intake")
	})
	return u, err
}

// UserRemoved records that the tenant API deleted the user: its seat is
// free.
func (s *Store) UserRemoved(ctx context.Context, orderID, userName string, attempt int) error {
	return s.userStep(ctx, orderID, fmt.Sprintf("user_removed:%s#%d", userName, attempt), "user "+userName+" removed", func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `UPDATE tenant_users SET status = 'removed', password_sealed = NULL
			WHERE order_id = $1 AND user_name = $2 AND status = 'removing' AND attempt = $3`, orderID, userName, attempt)
		return err
	})
}

func (s *Store) userStep(ctx context.Context, orderID, key, reason string, write func(pgx.Tx) error) error {
	return pgx.BeginFunc(ctx, s.db(ctx), func(tx pgx.Tx) error {
		if err := lockOrder(ctx, tx, orderID); err != nil {
			return err
		}
		if err := write(tx); err != nil {
			return err
		}
		return insertEvent(ctx, tx, orderID, key, "installer_ready", reason, "system")
	})
}

// Domain is one of the customer's own domains.
type Domain struct {
	Domain      string
	OrderID     string
	MakeDefault bool
	Status      string // DomainPending, DomainVerified, DomainFailed, DomainReady or DomainRecordsMissing
	Attempt     int
	TXTName     string
	TXTText     string
	CheckUntil  time.Time
	VerifiedAt  *time.Time
	Created     bool // this call started an attempt
	// RecordsNote names the mail records missing when the checks ended.
	RecordsNote string
	// Records are the mail records to publish (filled by Domains only).
	Records []ServiceRecord
}

// ErrDomainTaken is returned when another order holds the domain.
var ErrDomainTaken = errors.New("the domain is held by another order")

// AddDomain records the wish to add a domain to the order's tenant. The
// same domain again while pending or verified returns it; after a failed
// attempt it starts the next one.
func (s *Store) AddDomain(ctx context.Context, orderID, domain string, makeDefault bool, checkUntil time.Time) (Domain, error) {
	var d Domain
	err := pgx.BeginFunc(ctx, s.db(ctx), func(tx pgx.Tx) error {
		if err := lockOrder(ctx, tx, orderID); err != nil {
			return err
		}
		sv, err := serviceOf(ctx, tx, orderID)
		if errors.Is(err, ErrNotFound) || err == nil && sv.Status != ServiceActive && sv.Status != ServiceRenewalDue {
			return ErrNotActive
		}
		if err != nil {
			return err
		}
		cur, err := domainOf(ctx, tx, domain)
		switch {
		case errors.Is(err, ErrNotFound):
			_, err = tx.Exec(ctx, `INSERT INTO tenant_domains (domain, order_id, make_default, status, check_until) VALUES ($1, $2, $3, 'pending', $4)`,
				domain, orderID, makeDefault, checkUntil)
		case err != nil:
			return err
		case cur.Status != DomainFailed && cur.OrderID != orderID:
			return ErrDomainTaken
		case cur.Status != DomainFailed:
			d = cur
			return nil
		default:
			_, err = tx.Exec(ctx, `UPDATE tenant_domains SET order_id = $2, make_default = $3, status = 'pending', attempt = attempt + 1,
				txt_name = '', txt_text = '', check_until = $4, verified_at = NULL, created_at = now() WHERE domain = $1`,
				domain, orderID, makeDefault, checkUntil)
		}
		if err != nil {
			return err
		}
		if d, err = domainOf(ctx, tx, domain); err != nil {
			return err
		}
		d.Created = true
		return insertEvent(ctx, tx, orderID, fmt.Sprintf("domain:%s#%d", domain, d.Attempt), "installer_ready", "domain "+domain+" requested", "intake")
	})
	return d, err
}

// GetDomain reads a domain.
func (s *Store) GetDomain(ctx context.Context, domain string) (Domain, error) {
	return domainOf(ctx, s.db(ctx), domain)
}

func domainOf(ctx context.Context, q querier, domain string) (Domain, error) {
	d := Domain{Domain: domain}
	err := q.QueryRow(ctx, `SELECT order_id, make_default, status, attempt, txt_name, txt_text, check_until, verified_at, records_note
		FROM tenant_domains WHERE domain = $1`, domain).Scan(&d.OrderID, &d.MakeDefault, &d.Status, &d.Attempt, &d.TXTName, &d.TXTText, &d.CheckUntil, &d.VerifiedAt, &d.RecordsNote)
	if errors.Is(err, pgx.ErrNoRows) {
		return d, fmt.Errorf("domain %s: %w", domain, ErrNotFound)
	}
	return d, err
}

// Domains lists an order's domains.
func (s *Store) Domains(ctx context.Context, orderID string) ([]Domain, error) {
	rows, err := s.db(ctx).Query(ctx, `SELECT domain FROM tenant_domains WHERE order_id = $1 ORDER BY domain`, orderID)
	if err != nil {
		return nil, err
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, err
	}
	out := make([]Domain, 0, len(names))
	for _, n := range names {
		d, err := domainOf(ctx, s.db(ctx), n)
		if err != nil {
			return nil, err
		}
		if d.Records, err = domainRecords(ctx, s, n); err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, nil
}

// DomainRecord keeps the TXT record the tenant asks the customer to publish.
func (s *Store) DomainRecord(ctx context.Context, domain, name, text string) error {
	_, err := s.db(ctx).Exec(ctx, `UPDATE tenant_domains SET txt_name = $2, txt_text = $3 WHERE domain = $1`, domain, name, text)
	return err
}

// DomainDone ends an attempt: verified, or failed.
func (s *Store) DomainDone(ctx context.Context, domain string, verified bool, reason string) error {
	return pgx.BeginFunc(ctx, s.db(ctx), func(tx pgx.Tx) error {
		d, err := domainOf(ctx, tx, domain)
		if err != nil {
			return err
		}
		if err := lockOrder(ctx, tx, d.OrderID); err != nil {
			return err
		}
		status := DomainFailed
		if verified {
			status = DomainVerified
		}
		if _, err := tx.Exec(ctx, `UPDATE tenant_domains SET status = $2, verified_at = CASE WHEN $2 = 'verified' THEN now() END WHERE domain = $1`,
			domain, status); err != nil {
			return err
		}
		return insertEvent(ctx, tx, d.OrderID, fmt.Sprintf("domain_%s:%s#%d", status, domain, d.Attempt), "installer_ready", "domain "+domain+" "+status+": "+reason, "system")
	})
}

// RecordUserEmail is RecordEmail for a first-login email: it drops the
// user's temporary password with the record, as RecordEmail does the
// admin's.
func (s *Store) RecordUserEmail(ctx context.Context, orderID, key, recipient, messageID, userName string) (bool, error) {
	var recorded bool
	err := s.db(ctx).QueryRow(ctx, `WITH sent AS (
			INSERT INTO sent_emails (order_id, key, recipient, message_id) VALUES ($1, $2, $3, $4)
			ON CONFLICT (order_id, key) DO NOTHING RETURNING 1),
		forget AS (UPDATE tenant_users SET password_sealed = NULL WHERE order_id = $1 AND user_name = $5)
		SELECT EXISTS (SELECT 1 FROM sent)`, orderID, key, recipient, messageID, userName).Scan(&recorded)
	return recorded, err
}
