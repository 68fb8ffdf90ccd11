// Package pgtest gives tests a PostgreSQL database of their own on the
// server of DATABASE_URL (or the default one), so that a test run never
// touches a developer's data and runs never see each other's rows.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"time"

	"github.com/jackc/pgx/v5"
)

// DefaultURL is the interface's default DATABASE_URL.
const DefaultURL = "postgres://postgres@127.0.0.1:5432/officeflow?sslmode=disable"

// NewDatabase names a fresh database "<prefix>_<random>" (store.Open creates
// it) and returns its URL and a func that drops it with everything in it.
func NewDatabase(prefix string) (string, func(), error) {
	base := os.Getenv("DATABASE_URL")
	if base == "" {
		base = DefaultURL
	}
	db, err := url.Parse(base)
	if err != nil {
		return "", nil, fmt.Errorf("DATABASE_URL: %w", err)
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := prefix + "_" + hex.EncodeToString(b)
	db.Path = "/" + name
	admin := *db
	admin.Path = "/postgres"
	drop := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, admin.String())
		if err != nil {
			fmt.Fprintln(os.Stderr, "pgtest: drop:", err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
			fmt.Fprintln(os.Stderr, "pgtest: drop:", err)
		}
	}
	return db.String(), drop, nil
}
