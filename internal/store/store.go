// Package store is officeflow's PostgreSQL: the schema as numbered migrations
// embedded in the binary, and small typed query functions. Each function that
// writes does so in one transaction and is safe to call again with the same
// arguments: a retried activity gets what the first call made.
package store

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/officeflow/officeflow/internal/document"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Store wraps the connection pool.
type Store struct {
	Pool *pgxpool.Pool
	// Seller is printed on every document; empty prints DefaultSeller.
	Seller document.Party
	// KSeF: each VAT invoice and correction issued is to be sent to KSeF
	// (KSEF_MODE online), and gets its ksef_documents row when issued.
	KSeF bool
}

// ErrNotFound is returned when a row that must exist does not.
var ErrNotFound = errors.New("not found")

// Open connects to url, creating the database if it is missing, and applies
// the migrations that have not run yet.
func Open(ctx context.Context, url string) (*Store, error) {
	return OpenWith(ctx, url, nil)
}

// Close closes the pool.
func (s *Store) Close() { s.Pool.Close() }

// Ping tells whether the database answers.
func (s *Store) Ping(ctx context.Context) error { return s.Pool.Ping(ctx) }

func createDatabase(ctx context.Context, cc *pgx.ConnConfig) error {
	name := cc.Database
	if name == "" || name == "postgres" {
		return nil
	}
	admin := cc.Copy()
	admin.Database = "postgres"
	conn, err := pgx.ConnectConfig(ctx, admin)
	if err != nil {
		// Without rights on "postgres" the database may still exist: let the
		// pool's own connection say what is wrong.
		return nil
	}
	defer conn.Close(ctx)
	var exists bool
	if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, name).Scan(&exists); err != nil {
		return fmt.Errorf("database check: %w", err)
	}
	if exists {
		return nil
	}
	_, err = conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize())
	var pgErr *pgconn.PgError
	// Created meanwhile by another process starting at the same time: 42P04
	// if it saw the row, 23505 if both raced on the catalog's unique index.
	if errors.As(err, &pgErr) && (pgErr.Code == "42P04" || pgErr.Code == "23505") {
		return nil
	}
	if err != nil {
		return fmt.Errorf("create database %s: %w", name, err)
	}
	return nil
}

// migrate applies each embedded file whose number has not been applied yet,
// in order, each in its own transaction, under an advisory lock so that two workers
// starting together do not race.
func (s *Store) migrate(ctx context.Context) error {
	files, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return err
	}
	sort.Strings(files)
	conn, err := s.Pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("database: %w", err)
	}
	defer conn.Release()
	const lockID = 7_233_2026
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, lockID); err != nil {
		return err
	}
	defer conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, lockID) //nolint:errcheck
	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version int PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
		return err
	}
	// Every file not applied yet, not only those above the highest applied:
	// numbers taken in parallel may land out of order (0005 after 0006).
	rows, err := conn.Query(ctx, `SELECT version FROM schema_migrations`)
	if err != nil {
		return err
	}
	versions, err := pgx.CollectRows(rows, pgx.RowTo[int])
	if err != nil {
		return err
	}
	applied := make(map[int]bool, len(versions))
	for _, v := range versions {
		applied[v] = true
	}
	for _, f := range files {
		base := strings.TrimPrefix(f, "migrations/")
		num, _, _ := strings.Cut(base, "_")
		v, err := strconv.Atoi(num)
		if err != nil {
			return fmt.Errorf("migration %s: name must start with a number", base)
		}
		if applied[v] {
			continue
		}
		sql, err := migrations.ReadFile(f)
		if err != nil {
			return err
		}
		err = pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, string(sql)); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version, name) VALUES ($1, $2)`, v, base)
			return err
		})
		if err != nil {
			return fmt.Errorf("migration %s: %w", base, err)
		}
	}
	return nil
}
