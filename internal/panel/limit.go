package panel

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// limiter counts sign-in attempts per key (a client address, an email
// address) with a token bucket each. It lives in the process: a restart or
// a second intake gives each key a fresh bucket, which slows a guesser no
// less than a shared count would slow a 256-bit token's guessing anyway;
// what it stops is one client flooding an inbox or the database.
type limiter struct {
	mu      sync.Mutex
	limit   Limit
	buckets map[string]*rate.Limiter
}

// maxKeys is when the buckets are swept of the ones that are full again:
// their keys have been quiet long enough to start afresh.
const maxKeys = 10_000

func newLimiter(l Limit) *limiter {
	return &limiter{limit: l, buckets: map[string]*rate.Limiter{}}
}

// allow takes one attempt from key's bucket, saying whether there was one.
func (l *limiter) allow(key string) bool {
	now := time.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.buckets[key]
	if b == nil {
		if len(l.buckets) >= maxKeys {
			for k, old := range l.buckets {
				if old.TokensAt(now) >= float64(l.limit.Burst) {
					delete(l.buckets, k)
				}
			}
			if len(l.buckets) >= maxKeys {
				// So many keys busy at once are beyond what a count per
				// key stops; memory, at least, stays bounded.
				clear(l.buckets)
			}
		}
		b = rate.NewLimiter(rate.Every(l.limit.Every), l.limit.Burst)
		l.buckets[key] = b
	}
	return b.AllowN(now, 1)
}
