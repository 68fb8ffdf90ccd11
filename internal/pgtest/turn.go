package pgtest

import (
	"context"
	"fmt"
	"net/url"
	"os"

	"github.com/jackc/pgx/v5"
)

// Turn waits until no other test process holds the turn called name, then
// holds it until release. The two end-to-end packages take turns: each runs
// a Temporal server and a thousand orders, and on a small machine running
// them side by side only makes both slower, past their deadlines. The turn
// is a PostgreSQL session lock, so a process that dies gives it up.
func Turn(ctx context.Context, name string) (release func(), err error) {
	base := os.Getenv("DATABASE_URL")
	if base == "" {
		base = DefaultURL
	}
	u, err := url.Parse(base)
	if err != nil {
		return nil, fmt.Errorf("DATABASE_URL: %w", err)
	}
	u.Path = "/postgres"
	conn, err := pgx.Connect(ctx, u.String())
	if err != nil {
		return nil, err
	}
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock(hashtext($1))`, "officeflow-test-turn:"+name); err != nil {
		conn.Close(context.Background())
		return nil, err
	}
	return func() { conn.Close(context.Background()) }, nil
}
