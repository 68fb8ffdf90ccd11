package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// dbtx is what the pool and a transaction both answer: the store's
// functions run on either (db). It is execQuerier with the rest they use.
type dbtx interface {
	execQuerier
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	Begin(ctx context.Context) (pgx.Tx, error)
}

// txKey carries InTx's transaction in the context of its step.
type txKey struct{}

// db is the transaction ctx carries (inside InTx), or the pool: a read
// made in a step joins the step's transaction instead of taking a second
// connection, and a function that begins a transaction of its own takes a
// savepoint in it.
func (s *Store) db(ctx context.Context) dbtx {
	if tx, ok := ctx.Value(txKey{}).(pgx.Tx); ok {
		return tx
	}
	return s.Pool
}

// ErrNotCommitted is InTx's error when step succeeded and the transaction
// did not commit: what step did outside stands, and its record is to be
// written again.
var ErrNotCommitted = errors.New("transaction not committed")

// InTx runs step in one transaction, which every store function called
// with step's context joins (db): one transaction for an activity's reads
// and writes, however many functions make them.
//
// It is also how an email goes out once: step reads what the message
// needs, claims its key (RecordEmail or RecordUserEmail, which report
// whether this call took it), sends, and returns nil; the claim then
// commits. A concurrent claim of the same key waits for this transaction to
// end and then finds the key taken, so two attempts of one email never both
// send it. A send that fails rolls the claim back, and a retry sends
// afresh. The transaction is held open while the message goes out
// (milliseconds to the mail server; the activity's timeout bounds it).
func (s *Store) InTx(ctx context.Context, step func(ctx context.Context) error) error {
	tx, err := s.Pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }() // a no-op once committed
	if err := step(context.WithValue(ctx, txKey{}, tx)); err != nil {
		return err
	}
	// Not cancelled with the activity: what step did outside is done.
	if err := tx.Commit(context.WithoutCancel(ctx)); err != nil {
		return fmt.Errorf("%w: %w", ErrNotCommitted, err)
	}
	return nil
}
