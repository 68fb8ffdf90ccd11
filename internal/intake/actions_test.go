package intake

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/officeflow/officeflow/internal/order"
	"github.com/officeflow/officeflow/internal/store"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap"
)

// The checks the JSON API and the billing panel share refuse before
// anything is recorded (the server here has no store: a write would panic),
// naming the field with a typed refusal.
func TestActionsRefuseBadRequestsNamingTheField(t *testing.T) {
	s := &Server{}
	ctx := context.Background()
	o := store.Order{ID: "o1", Domain: "acme.onmicrosoft.com"}
	for _, c := range []struct {
		name, field, code string
		err               func() error
	}{
		{"request id", "request_id", CodeInvalid, func() error { _, err := s.AddSeats(ctx, o, "-r", 1); return err }},
		{"no seats", "add_seats", CodeInvalid, func() error { _, err := s.AddSeats(ctx, o, "r1", 0); return err }},
		{"too many", "add_seats", CodeInvalid, func() error { _, err := s.AddSeats(ctx, o, "r1", order.MaxSeats+1); return err }},
		{"user name", "user_name", CodeInvalid, func() error { _, err := s.AddUser(ctx, o, "a..b", "A B", false); return err }},
		{"display name", "display_name", CodeInvalid, func() error { _, err := s.AddUser(ctx, o, "jan", "  ", false); return err }},
		{"no tenant", "order_id", CodeNotActive, func() error { _, err := s.AddUser(ctx, store.Order{ID: "o2"}, "jan", "Jan", false); return err }},
		{"domain", "domain", CodeInvalid, func() error { _, err := s.AddDomain(ctx, o, "acme.onmicrosoft.com", false); return err }},
	} {
		var fe *order.FieldError
		require.ErrorAs(t, c.err(), &fe, c.name)
		require.Equal(t, c.field, fe.Field, c.name)
		require.Equal(t, c.code, fe.Code, c.name)
	}
}

// The JSON API answers each refusal with its status and code, as before
// the actions were shared.
func TestRefusedAnswersEachRefusal(t *testing.T) {
	s := &Server{Log: zap.NewNop()}
	for _, c := range []struct {
		err    error
		status int
		code   string
	}{
		{refusal("user_name", CodeInvalid, "bad"), http.StatusBadRequest, CodeInvalid},
		{refusal("order_id", CodeNotActive, "no tenant"), http.StatusConflict, CodeNotActive},
		{refusal("domain", CodeDomainTaken, "taken"), http.StatusConflict, CodeDomainTaken},
		{store.ErrConflict, http.StatusConflict, "request_conflict"},
		{store.ErrNotActive, http.StatusConflict, CodeNotActive},
		{&store.SeatsError{Seats: 5, InUse: 5, Message: "no free seat"}, http.StatusConflict, "seats"},
		{errors.New("connection refused"), http.StatusServiceUnavailable, "unavailable"},
	} {
		w := httptest.NewRecorder()
		require.True(t, s.refused(w, c.err, "f"))
		require.Equal(t, c.status, w.Code, "%v", c.err)
		require.Contains(t, w.Body.String(), `"code":"`+c.code+`"`)
	}
	require.False(t, s.refused(httptest.NewRecorder(), nil, "f"))
}
