package intake

import (
	"errors"
	"testing"

	"github.com/officeflow/officeflow/internal/fail"
	"go.temporal.io/sdk/temporal"
)

// A cancel the workflow's validator refuses reaches the intake as the
// failure Temporal carried back; the intake answers 409 by its type alone.
func TestRefusedCancelIsKnownByItsType(t *testing.T) {
	carried := func(err error) error { // the error as a client receives it
		fc := temporal.GetDefaultFailureConverter()
		return fc.FailureToError(fc.ErrorToFailure(err))
	}
	for name, c := range map[string]struct {
		err  error
		want bool
	}{
		"refused by the validator":  {carried(temporal.NewApplicationError("order is provisioning_tenant and can no longer be cancelled", fail.NotCancellable)), true},
		"same text, no type":        {carried(errors.New("order is paid and can no longer be cancelled")), false},
		"another application error": {carried(temporal.NewApplicationError("boom", fail.InvalidOrder)), false},
		"Temporal unreachable":      {errors.New("context deadline exceeded"), false},
	} {
		if got := notCancellable(c.err); got != c.want {
			t.Errorf("%s: notCancellable = %v, want %v", name, got, c.want)
		}
	}
}
