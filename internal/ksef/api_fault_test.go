package ksef_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/officeflow/officeflow/internal/ksef"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestClientFaultsAreTypedErrors(t *testing.T) {
	ctx := context.Background()

	t.Run("429 carries Retry-After", func(t *testing.T) {
		fake, c := apiSetup(t, nil)
		fake.Throttle(1, 30*time.Second)
		_, err := c.OpenSession(ctx)
		var u *ksef.Unavailable
		require.ErrorAs(t, err, &u)
		require.Equal(t, http.StatusTooManyRequests, u.Status)
		require.Equal(t, 30*time.Second, u.RetryAfter)
		require.Equal(t, 30*time.Second, ksef.RetryAfter(err))
		require.True(t, ksef.Retryable(err))
		_, err = c.OpenSession(ctx)
		require.NoError(t, err, "the next call goes through")
	})

	t.Run("503 is retryable", func(t *testing.T) {
		fake, c := apiSetup(t, nil)
		s, err := c.OpenSession(ctx)
		require.NoError(t, err)
		fake.Unavailable(2)
		for range 2 {
			_, err = c.Send(ctx, s, apiInvoice("FV/1"))
			var u *ksef.Unavailable
			require.ErrorAs(t, err, &u)
			require.Equal(t, http.StatusServiceUnavailable, u.Status)
			require.True(t, ksef.Retryable(err))
			require.Zero(t, ksef.RetryAfter(err))
		}
		sent, err := c.Send(ctx, s, apiInvoice("FV/1"))
		require.NoError(t, err)
		_, err = c.AwaitInvoice(ctx, s.ReferenceNumber, sent.ReferenceNumber)
		require.NoError(t, err)
		require.Len(t, fake.Accepted(), 1, "the 503s took no invoice")
	})

	t.Run("a rejection is final and has its code", func(t *testing.T) {
		fake, c := apiSetup(t, nil)
		fake.Reject(1, 450, "Błąd weryfikacji semantyki dokumentu faktury")
		s, err := c.OpenSession(ctx)
		require.NoError(t, err)
		sent, err := c.Send(ctx, s, apiInvoice("FV/2"))
		require.NoError(t, err, "KSeF takes the invoice, then rejects it")
		st, err := c.AwaitInvoice(ctx, s.ReferenceNumber, sent.ReferenceNumber)
		var rej *ksef.Rejected
		require.ErrorAs(t, err, &rej)
		require.Equal(t, 450, rej.Status.Code)
		require.Equal(t, "Błąd weryfikacji semantyki dokumentu faktury", st.Description)
		require.Empty(t, st.KsefNumber)
		require.False(t, ksef.Retryable(err))
		_, err = c.UPO(ctx, s.ReferenceNumber, sent.ReferenceNumber)
		var refused *ksef.Refused
		require.ErrorAs(t, err, &refused, "a rejected invoice has no UPO")
		require.Empty(t, fake.Accepted())
	})

	t.Run("a status stuck at processing is retryable", func(t *testing.T) {
		fake, c := apiSetup(t, nil)
		c.MaxPolls = 3
		fake.StuckProcessing(1)
		s, err := c.OpenSession(ctx)
		require.NoError(t, err)
		sent, err := c.Send(ctx, s, apiInvoice("FV/3"))
		require.NoError(t, err)
		st, err := c.AwaitInvoice(ctx, s.ReferenceNumber, sent.ReferenceNumber)
		require.ErrorIs(t, err, ksef.ErrProcessing)
		require.True(t, ksef.Retryable(err))
		require.Equal(t, 150, st.Code)
		require.True(t, st.Processing())
		require.Equal(t, 3, fake.Calls("GET /sessions/{referenceNumber}/invoices/{invoiceReferenceNumber}"), "MaxPolls polls")
	})

	t.Run("a slow answer times out retryably", func(t *testing.T) {
		fake, c := apiSetup(t, nil)
		fake.Slow(time.Second)
		c.HTTP = &http.Client{Timeout: 20 * time.Millisecond}
		_, err := c.OpenSession(ctx)
		var u *ksef.Unavailable
		require.ErrorAs(t, err, &u)
		require.Zero(t, u.Status, "no answer")
		require.True(t, ksef.Retryable(err))
		fake.Slow(0)
		_, err = c.OpenSession(ctx)
		require.NoError(t, err)
	})
}

func TestClientFollowsAKeyRotation(t *testing.T) {
	ctx := context.Background()
	fake, c := apiSetup(t, nil)
	_, err := c.OpenSession(ctx)
	require.NoError(t, err)
	fake.RotateKey() // the client still holds the old certificate

	_, err = c.OpenSession(ctx)
	require.ErrorIs(t, err, ksef.ErrUnknownKey, "21470")
	require.True(t, ksef.Retryable(err))
	var refused *ksef.Refused
	require.False(t, errors.As(err, &refused), "not final: the next call fetches the certificates anew")

	s, err := c.OpenSession(ctx)
	require.NoError(t, err)
	require.Equal(t, 2, fake.Calls("GET /security/public-key-certificates"))
	sent, err := c.Send(ctx, s, apiInvoice("FV/R/1"))
	require.NoError(t, err)
	_, err = c.AwaitInvoice(ctx, s.ReferenceNumber, sent.ReferenceNumber)
	require.NoError(t, err, "the session key was wrapped with the new key")
}

func TestClientLearnsTheKsefNumberOfAnInvoiceWhoseAnswerWasLost(t *testing.T) {
	ctx := context.Background()
	fake, c := apiSetup(t, nil)
	s, err := c.OpenSession(ctx)
	require.NoError(t, err)
	doc := apiInvoice("FV/L/1")

	fake.LoseAnswers(1)
	_, err = c.Send(ctx, s, doc)
	require.True(t, ksef.Retryable(err), "the answer was lost: %v", err)
	require.Len(t, fake.Accepted(), 1, "yet KSeF took the invoice")

	sent, err := c.Send(ctx, s, doc) // the activity's retry
	require.NoError(t, err)
	_, err = c.AwaitInvoice(ctx, s.ReferenceNumber, sent.ReferenceNumber)
	var rej *ksef.Rejected
	require.ErrorAs(t, err, &rej)
	n, ok := rej.Duplicate()
	require.True(t, ok, "%+v", rej.Status)
	require.Equal(t, fake.Accepted()[0].KsefNumber, n)
	require.Len(t, fake.Accepted(), 1, "accepted once")
}

// Many invoices at once through one Client, with 503s, 429s and lost
// answers at random among the calls, each retried as an activity would:
// every invoice ends accepted exactly once, a resend after a lost answer
// learning its KSeF number from the duplicate.
func TestClientAndFakeUnderConcurrentFaults(t *testing.T) {
	ctx := context.Background()
	fake, c := apiSetup(t, nil)
	s, err := c.OpenSession(ctx)
	require.NoError(t, err)
	fake.Unavailable(15)
	fake.Throttle(15, 0)
	fake.LoseAnswers(10)

	const n = 40
	numbers := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			doc := apiInvoice(fmt.Sprintf("FV/C/%03d", i))
			for attempt := 0; ; attempt++ {
				if !assert.Less(t, attempt, 200, "invoice %d never got through", i) {
					return
				}
				sent, err := c.Send(ctx, s, doc)
				if err != nil {
					if !assert.True(t, ksef.Retryable(err), "%v", err) {
						return
					}
					continue
				}
				var st ksef.InvoiceStatus
				for {
					st, err = c.AwaitInvoice(ctx, s.ReferenceNumber, sent.ReferenceNumber)
					if !ksef.Retryable(err) {
						break
					}
				}
				var rej *ksef.Rejected
				if errors.As(err, &rej) {
					num, ok := rej.Duplicate()
					assert.True(t, ok, "%v", err)
					numbers[i] = num
					return
				}
				assert.NoError(t, err)
				numbers[i] = st.KsefNumber
				return
			}
		}()
	}
	wg.Wait()

	acc := fake.Accepted()
	require.Len(t, acc, n, "accepted once each")
	byNumber := map[string]string{}
	for _, a := range acc {
		byNumber[a.KsefNumber] = a.InvoiceNumber
	}
	for i, num := range numbers {
		require.True(t, ksef.ValidKsefNumber(num), num)
		require.Equal(t, fmt.Sprintf("FV/C/%03d", i), byNumber[num], "invoice %d knows its own KSeF number", i)
	}
}
