package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// The customer billing panel's sign-in: links and sessions, kept as hashes
// only. Whether a grant is still good (its age, the account's state) is the
// panel's rule; the store reads and writes the rows.

// PanelLink is a sign-in link mailed on the customer's request.
type PanelLink struct {
	Hash    []byte // of the token in the link
	OrderID string
	// Nonce is what the mailing activity derives the token from; it opens
	// nothing without CREDENTIALS_KEY.
	Nonce     string
	ExpiresAt time.Time
}

// PanelGrant is a row that a presented token's hash found: the billing
// account's own token (Billing, valid for a while from CreatedAt) or a
// mailed link (until ExpiresAt). Active is the order's billing account.
type PanelGrant struct {
	OrderID   string
	Hash      []byte
	Billing   bool
	CreatedAt time.Time
	ExpiresAt time.Time // zero for the billing account's token
	Active    bool
}

// sweepBatch bounds the expired rows one write deletes: the table stays
// small without a job of its own, and no request waits on a big delete.
// Rows are kept a day past their expiry, so a link that expires while its
// email is on the way is still known (and skipped) rather than unknown.
const sweepBatch = 100

// AddPanelLink records a mailed link, and drops a few expired ones.
func (s *Store) AddPanelLink(ctx context.Context, l PanelLink) error {
	return pgx.BeginFunc(ctx, s.db(ctx), func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO panel_links (token_hash, order_id, nonce, expires_at) VALUES ($1, $2, $3, $4)`,
			l.Hash, l.OrderID, l.Nonce, l.ExpiresAt); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `DELETE FROM panel_links WHERE token_hash IN
			(SELECT token_hash FROM panel_links WHERE expires_at < now() - interval '1 day' LIMIT $1)`, sweepBatch)
		return err
	})
}

// PanelLinkOf reads a mailed link by its hash.
func (s *Store) PanelLinkOf(ctx context.Context, hash []byte) (PanelLink, error) {
	l := PanelLink{Hash: hash}
	err := s.db(ctx).QueryRow(ctx, `SELECT order_id, nonce, expires_at FROM panel_links WHERE token_hash = $1`, hash).
		Scan(&l.OrderID, &l.Nonce, &l.ExpiresAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return l, fmt.Errorf("panel link: %w", ErrNotFound)
	}
	return l, err
}

// PanelGrants finds what a token's hash opens: both tables are looked up by
// their index on the hash, in one round trip. None found is an empty list.
func (s *Store) PanelGrants(ctx context.Context, hash []byte) ([]PanelGrant, error) {
	rows, err := s.db(ctx).Query(ctx, `
		SELECT b.order_id, b.token_hash, true, b.created_at, NULL::timestamptz, b.active
		FROM billing_accounts b WHERE b.token_hash = $1
		UNION ALL
		SELECT l.order_id, l.token_hash, false, l.created_at, l.expires_at, coalesce(b.active, false)
		FROM panel_links l LEFT JOIN billing_accounts b ON b.order_id = l.order_id WHERE l.token_hash = $1`, hash)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (PanelGrant, error) {
		var g PanelGrant
		var expires *time.Time
		err := r.Scan(&g.OrderID, &g.Hash, &g.Billing, &g.CreatedAt, &expires, &g.Active)
		if expires != nil {
			g.ExpiresAt = *expires
		}
		return g, err
	})
}

// PanelOrders lists the orders mailed to email whose billing account is
// active, most recent first, at most limit.
func (s *Store) PanelOrders(ctx context.Context, email string, limit int) ([]string, error) {
	rows, err := s.db(ctx).Query(ctx, `SELECT o.order_id FROM customers c
		JOIN orders o ON o.customer_id = c.id JOIN billing_accounts b ON b.order_id = o.order_id
		WHERE lower(c.email) = lower($1) AND b.active
		ORDER BY o.placed_at DESC, o.order_id LIMIT $2`, email, limit)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

// OpenPanelSession records a signed-in session by the hash of its id, and
// drops a few expired ones.
func (s *Store) OpenPanelSession(ctx context.Context, idHash []byte, orderID string, expires time.Time) error {
	return pgx.BeginFunc(ctx, s.db(ctx), func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO panel_sessions (id_hash, order_id, expires_at) VALUES ($1, $2, $3)`,
			idHash, orderID, expires); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `DELETE FROM panel_sessions WHERE id_hash IN
			(SELECT id_hash FROM panel_sessions WHERE expires_at < now() - interval '1 day' LIMIT $1)`, sweepBatch)
		return err
	})
}

// PanelSession is the order of a session that has not expired at now and
// whose order's billing account is still active: revoking billing access
// ends the sessions too. Anything else is ErrNotFound.
func (s *Store) PanelSession(ctx context.Context, idHash []byte, now time.Time) (string, error) {
	var orderID string
	err := s.db(ctx).QueryRow(ctx, `SELECT s.order_id FROM panel_sessions s JOIN billing_accounts b ON b.order_id = s.order_id
		WHERE s.id_hash = $1 AND s.expires_at > $2 AND b.active`, idHash, now).Scan(&orderID)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", fmt.Errorf("panel session: %w", ErrNotFound)
	}
	return orderID, err
}

// ClosePanelSession ends a session (signing out).
func (s *Store) ClosePanelSession(ctx context.Context, idHash []byte) error {
	_, err := s.db(ctx).Exec(ctx, `DELETE FROM panel_sessions WHERE id_hash = $1`, idHash)
	return err
}
