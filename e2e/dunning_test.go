package e2e

import (
	"testing"
	"time"

	"github.com/officeflow/officeflow/internal/intake"
	"github.com/officeflow/officeflow/internal/order"
	"github.com/stretchr/testify/require"
)

// TestRemindersThenUnderpaymentThenPayment: a reminder falls due while the
// order waits and goes out once (reminders closer than an hour are merged,
// so a short test has one); an underpayment is refused with 422 and the
// order keeps waiting; the full payment then completes it.
func TestRemindersThenUnderpaymentThenPayment(t *testing.T) {
	oldDeadline, oldReminders := st.Intake.Deadline, st.Intake.Reminders
	st.Intake.Deadline, st.Intake.Reminders = 30*time.Second, []time.Duration{time.Second}
	t.Cleanup(func() { st.Intake.Deadline, st.Intake.Reminders = oldDeadline, oldReminders })

	o := newOrder(t)
	id, email := o["order_id"].(string), emailOf(o)
	require.Equal(t, 202, place(t, o).Status)
	waitMail(t, email, "billing_access")
	waitMail(t, email, "payment_reminder#1")

	under := notify(t, intake.Notification{OrderID: id, PaymentID: "under-" + id, Status: "completed", Amount: "100.00", Currency: "PLN"})
	require.Equal(t, 422, under.Status, string(under.Raw))
	waitStatus(t, id, "awaiting_payment")

	paid := notify(t, intake.Notification{OrderID: id, PaymentID: "pay-" + id, Status: "completed", Amount: "332.10", Currency: "PLN"})
	require.Equal(t, 200, paid.Status, string(paid.Raw))
	require.Equal(t, order.InstallerReady, waitDone(t, id).Status)
	require.Equal(t, 1, mailsOfKind(email, "payment_reminder"), "the reminder once")
	require.Equal(t, 1, dbCount(t, `SELECT count(*) FROM payments WHERE order_id = $1 AND NOT mismatch`, id), "the underpayment changed nothing")
	require.Equal(t, 1, dbCount(t, `SELECT count(*) FROM refunds WHERE payment_id = $1`, "under-"+id), "the underpayment is owed back")
	record(t, id, "reminders_underpaid_then_paid")
}
