package store

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
)

// StalePlaced lists orders still placed since before: their placement was
// recorded but whether their workflow started is not known (the intake's
// start had no answer and the shop never repeated it).
func (s *Store) StalePlaced(ctx context.Context, before time.Time) ([]string, error) {
	rows, err := s.Pool.Query(ctx, `SELECT order_id FROM orders WHERE status = 'placed' AND placed_at < $1 ORDER BY placed_at LIMIT 100`, before)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}
