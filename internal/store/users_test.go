package store_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/officeflow/officeflow/internal/store"
	"github.com/stretchr/testify/require"
)

func userRequest(id, name string, licensed bool) store.UserRequest {
	return store.UserRequest{OrderID: id, UserName: name, DisplayName: "User " + name, Licensed: licensed,
		Hash: fmt.Appendf(nil, "%s/%t", name, licensed)}
}

func addUser(t *testing.T, id, name string, licensed bool) store.User {
	t.Helper()
	u, err := st.AddUser(context.Background(), userRequest(id, name, licensed))
	require.NoError(t, err)
	require.True(t, u.Created)
	return u
}

func TestAddUserTakesASeat(t *testing.T) {
	ctx := context.Background()
	year := newYear()
	id := provision(t, "users", year, "monthly", 2)
	a := addUser(t, id, "a@acme.pl", true)
	require.Equal(t, store.User{OrderID: id, UserName: "a@acme.pl", DisplayName: "User a@acme.pl", Licensed: true, Status: "creating", Attempt: 1, Created: true}, a)
	addUser(t, id, "b@acme.pl", true)
	addUser(t, id, "unlicensed@acme.pl", false)

	_, err := st.AddUser(ctx, userRequest(id, "c@acme.pl", true))
	var se *store.SeatsError
	require.ErrorAs(t, err, &se)
	require.Equal(t, store.SeatsError{Free: 0, InUse: 2, Seats: 2, Message: se.Message}, *se)
	require.Contains(t, se.Message, "free: 0")
	_, err = st.GetUser(ctx, id, "c@acme.pl")
	require.ErrorIs(t, err, store.ErrNotFound, "a refused request leaves nothing")

	again, err := st.AddUser(ctx, userRequest(id, "a@acme.pl", true))
	require.NoError(t, err)
	require.False(t, again.Created)
	require.Equal(t, "a@acme.pl", again.UserName)
	other := userRequest(id, "a@acme.pl", true)
	other.DisplayName, other.Hash = "Someone else", []byte("other")
	_, err = st.AddUser(ctx, other)
	require.ErrorIs(t, err, store.ErrConflict)

	require.NoError(t, st.UserMade(ctx, id, "a@acme.pl", "tenant-user-a"))
	require.NoError(t, st.UserFailed(ctx, id, "b@acme.pl", "UPN refused"))
	require.NoError(t, st.UserFailed(ctx, id, "b@acme.pl", "UPN refused"))
	addUser(t, id, "c@acme.pl", true)

	users, err := st.Users(ctx, id)
	require.NoError(t, err)
	got := map[string]string{}
	for _, u := range users {
		got[u.UserName] = u.Status + "/" + u.TenantUserID
	}
	require.Equal(t, map[string]string{"a@acme.pl": "created/tenant-user-a", "b@acme.pl": "failed/", "c@acme.pl": "creating/",
		"unlicensed@acme.pl": "creating/"}, got)
	require.Equal(t, "a@acme.pl", users[0].UserName, "sorted by name")
	require.Equal(t, 1, count(t, `SELECT count(*) FROM order_events WHERE order_id = $1 AND key = 'user_failed:b@acme.pl'`, id))

	early, _ := placeBilled(t, "users-early", year)
	_, err = st.AddUser(ctx, userRequest(early, "a@acme.pl", false))
	require.ErrorIs(t, err, store.ErrNotActive)
}

func TestConcurrentUsersTakeTheLastSeatOnce(t *testing.T) {
	ctx := context.Background()
	id := provision(t, "users-race", newYear(), "monthly", 3)
	addUser(t, id, "a@acme.pl", true)
	addUser(t, id, "b@acme.pl", true)
	const n = 10
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			_, errs[i] = st.AddUser(ctx, userRequest(id, fmt.Sprintf("u%d@acme.pl", i), true))
		})
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		if err == nil {
			ok++
			continue
		}
		var se *store.SeatsError
		require.ErrorAs(t, err, &se)
		require.Equal(t, 0, se.Free)
	}
	require.Equal(t, 1, ok)
	require.Equal(t, 3, count(t, `SELECT count(*) FROM tenant_users WHERE order_id = $1 AND licensed`, id))
}

func TestUserPassword(t *testing.T) {
	ctx := context.Background()
	id := provision(t, "users-password", newYear(), "monthly", 1)
	addUser(t, id, "a@acme.pl", true)
	kept, err := st.SealUserPassword(ctx, id, "a@acme.pl", []byte("first"))
	require.NoError(t, err)
	require.Equal(t, []byte("first"), kept)
	kept, err = st.SealUserPassword(ctx, id, "a@acme.pl", []byte("second"))
	require.NoError(t, err)
	require.Equal(t, []byte("first"), kept, "a retry gets the password the tenant was given")
	_, err = st.SealUserPassword(ctx, id, "nobody@acme.pl", []byte("x"))
	require.ErrorIs(t, err, store.ErrNotFound)

	for i := range 2 {
		recorded, err := st.RecordUserEmail(ctx, id, "user_created:a@acme.pl", "admin@acme.pl", "m-1", "a@acme.pl")
		require.NoError(t, err)
		require.Equal(t, i == 0, recorded, "only the first call records")
	}
	u, err := st.GetUser(ctx, id, "a@acme.pl")
	require.NoError(t, err)
	require.Nil(t, u.PasswordSealed)
	require.Equal(t, 1, count(t, `SELECT count(*) FROM sent_emails WHERE order_id = $1 AND key = 'user_created:a@acme.pl'`, id))
}

func TestAddDomain(t *testing.T) {
	ctx := context.Background()
	year := newYear()
	a := provision(t, "domains-a", year, "monthly", 1)
	b := provision(t, "domains-b", year, "monthly", 1)
	name := newID("acme") + ".pl"
	until := time.Date(2030, 2, 1, 12, 0, 0, 0, time.UTC)

	d, err := st.AddDomain(ctx, a, name, true, until)
	require.NoError(t, err)
	require.True(t, d.Created)
	require.Equal(t, store.Domain{Domain: name, OrderID: a, MakeDefault: true, Status: "pending", Attempt: 1, CheckUntil: d.CheckUntil, Created: true}, d)
	require.True(t, d.CheckUntil.Equal(until))

	again, err := st.AddDomain(ctx, a, name, false, until.AddDate(0, 0, 1))
	require.NoError(t, err)
	require.False(t, again.Created)
	require.Equal(t, 1, again.Attempt)
	require.True(t, again.MakeDefault, "a repeat changes nothing")
	_, err = st.AddDomain(ctx, b, name, false, until)
	require.ErrorIs(t, err, store.ErrDomainTaken)

	require.NoError(t, st.DomainRecord(ctx, name, name, "MS=ms12345678"))
	d, err = st.GetDomain(ctx, name)
	require.NoError(t, err)
	require.Equal(t, name, d.TXTName)
	require.Equal(t, "MS=ms12345678", d.TXTText)

	require.NoError(t, st.DomainDone(ctx, name, false, "record never appeared"))
	d, err = st.GetDomain(ctx, name)
	require.NoError(t, err)
	require.Equal(t, "failed", d.Status)
	require.Nil(t, d.VerifiedAt)

	// After a failed attempt another order may try it.
	d, err = st.AddDomain(ctx, b, name, false, until)
	require.NoError(t, err)
	require.True(t, d.Created)
	require.Equal(t, 2, d.Attempt)
	require.Equal(t, b, d.OrderID)
	require.Equal(t, "pending", d.Status)
	require.Empty(t, d.TXTText, "a new attempt gets its own record")
	require.NoError(t, st.DomainDone(ctx, name, true, "TXT found"))
	d, err = st.GetDomain(ctx, name)
	require.NoError(t, err)
	require.Equal(t, "verified", d.Status)
	require.NotNil(t, d.VerifiedAt)
	_, err = st.AddDomain(ctx, a, name, false, until)
	require.ErrorIs(t, err, store.ErrDomainTaken)
	again, err = st.AddDomain(ctx, b, name, false, until)
	require.NoError(t, err)
	require.False(t, again.Created)
	require.Equal(t, "verified", again.Status)

	// And the same order may try again.
	own := newID("own") + ".pl"
	_, err = st.AddDomain(ctx, a, own, false, until)
	require.NoError(t, err)
	require.NoError(t, st.DomainDone(ctx, own, false, "record never appeared"))
	d, err = st.AddDomain(ctx, a, own, false, until)
	require.NoError(t, err)
	require.True(t, d.Created)
	require.Equal(t, 2, d.Attempt)
	require.Contains(t, eventKeys(t, a), "domain:"+own+"#2")

	domains, err := st.Domains(ctx, b)
	require.NoError(t, err)
	require.Len(t, domains, 1)
	require.Equal(t, name, domains[0].Domain)

	early, _ := placeBilled(t, "domains-early", year)
	_, err = st.AddDomain(ctx, early, newID("early")+".pl", false, until)
	require.ErrorIs(t, err, store.ErrNotActive)
	require.ErrorIs(t, st.DomainDone(ctx, "no-such-domain.pl", true, ""), store.ErrNotFound)
}

func TestFailedUserMayBeAskedForAgain(t *testing.T) {
	ctx := context.Background()
	id := provision(t, "userretry", newYear(), "monthly", 1)
	addUser(t, id, "a@acme.pl", true)
	_, err := st.SealUserPassword(ctx, id, "a@acme.pl", []byte("sealed-1"))
	require.NoError(t, err)
	require.NoError(t, st.UserFailed(ctx, id, "a@acme.pl", "licence refused"))

	// Asked for again, even differently: a fresh attempt that takes the seat again.
	other := userRequest(id, "a@acme.pl", true)
	other.DisplayName, other.Hash = "Anna Nowak", []byte("second")
	u, err := st.AddUser(ctx, other)
	require.NoError(t, err)
	require.True(t, u.Created)
	require.Equal(t, 2, u.Attempt)
	require.Equal(t, "creating", u.Status)
	require.Equal(t, "Anna Nowak", u.DisplayName)
	require.Nil(t, u.PasswordSealed, "the first attempt's password is not reused")
	_, err = st.AddUser(ctx, userRequest(id, "b@acme.pl", true))
	var se *store.SeatsError
	require.ErrorAs(t, err, &se, "the new attempt holds the only seat")

	same, err := st.AddUser(ctx, other)
	require.NoError(t, err)
	require.False(t, same.Created, "a repeat of the new attempt is the same attempt")
	require.Equal(t, 2, same.Attempt)
}

// A removed user keeps its seat while removing and frees it once removed;
// asking again changes nothing; a user still being made cannot be removed;
// the name may then be asked for anew, as a new attempt.
func TestRemovedUserGivesItsSeatBack(t *testing.T) {
	ctx := context.Background()
	id := provision(t, "remove", newYear(), "monthly", 1)
	addUser(t, id, "a@acme.pl", true)
	_, err := st.RemoveUser(ctx, id, "a@acme.pl")
	require.ErrorIs(t, err, store.ErrUserBusy, "still being made")
	_, err = st.RemoveUser(ctx, id, "nobody@acme.pl")
	require.ErrorIs(t, err, store.ErrNotFound)
	require.NoError(t, st.UserMade(ctx, id, "a@acme.pl", "tenant-user-a"))

	u, err := st.RemoveUser(ctx, id, "a@acme.pl")
	require.NoError(t, err)
	require.True(t, u.Created)
	require.Equal(t, store.UserRemoving, u.Status)
	again, err := st.RemoveUser(ctx, id, "a@acme.pl")
	require.NoError(t, err)
	require.False(t, again.Created)
	_, err = st.AddUser(ctx, userRequest(id, "b@acme.pl", true))
	var se *store.SeatsError
	require.ErrorAs(t, err, &se, "the seat is held until the user is gone")

	require.NoError(t, st.UserRemoved(ctx, id, "a@acme.pl", u.Attempt))
	require.NoError(t, st.UserRemoved(ctx, id, "a@acme.pl", u.Attempt))
	got, err := st.GetUser(ctx, id, "a@acme.pl")
	require.NoError(t, err)
	require.Equal(t, store.UserRemoved, got.Status)
	addUser(t, id, "b@acme.pl", true)
	back := addUser(t, id, "a@acme.pl", false)
	require.Equal(t, 2, back.Attempt, "a removed name is asked for anew")
}

// The tenant's first admin, recorded as licensed at provisioning, takes one
// of the seats like any licensed user, is listed with the users, cannot be
// removed or asked for again under its name, and is recorded once.
func TestAdminLicensedTakesASeat(t *testing.T) {
	ctx := context.Background()
	id := provision(t, "admin-seat", newYear(), "monthly", 2)
	admin := "admin@" + id + ".onmicrosoft.com"
	// Partner Center may answer the admin's name in any case; the user is
	// recorded in lower case, and the order reads it either way.
	_, err := st.SaveTenant(ctx, store.Tenant{OrderID: id, PartnerCustomer: "pc-" + id, TenantID: "t-" + id, Domain: id + ".onmicrosoft.com",
		AdminUser: "Admin@" + id + ".onmicrosoft.com", PasswordSealed: []byte("sealed")})
	require.NoError(t, err)
	o, err := st.GetOrder(ctx, id)
	require.NoError(t, err)
	require.False(t, o.AdminLicensed, "not before it is recorded")
	require.NoError(t, st.AdminLicensed(ctx, id, admin, "Jan Kowalski", "tenant-admin"))
	o, err = st.GetOrder(ctx, id)
	require.NoError(t, err)
	require.True(t, o.AdminLicensed, "read with the order")
	require.NoError(t, st.AdminLicensed(ctx, id, admin, "Jan Kowalski", "tenant-admin"), "again: no change")

	users, err := st.Users(ctx, id)
	require.NoError(t, err)
	require.Equal(t, []store.User{{OrderID: id, UserName: admin, DisplayName: "Jan Kowalski", Licensed: true, Status: store.UserCreated,
		TenantUserID: "tenant-admin"}}, users)

	addUser(t, id, "a@acme.pl", true)
	_, err = st.AddUser(ctx, userRequest(id, "b@acme.pl", true))
	var se *store.SeatsError
	require.ErrorAs(t, err, &se, "the admin holds one of the two seats")
	require.Equal(t, 2, se.InUse)

	_, err = st.AddUser(ctx, userRequest(id, admin, true))
	require.ErrorIs(t, err, store.ErrConflict, "the admin's name is taken")
	_, err = st.RemoveUser(ctx, id, admin)
	require.ErrorIs(t, err, store.ErrAdminUser)
	_, err = st.RemoveUser(ctx, id, "ADMIN@"+id+".onmicrosoft.com")
	require.ErrorIs(t, err, store.ErrNotFound, "names are lower case")
}

// An order says whether its admin is to get a licence: by default yes; an
// explicit "admin_licence": true is the same order as one without it.
func TestOrderSaysWhetherTheAdminGetsALicence(t *testing.T) {
	ctx := context.Background()
	r := request(newID("admin-default"))
	place(t, r)
	o, err := st.GetOrder(ctx, r.OrderID)
	require.NoError(t, err)
	require.True(t, o.AdminLicence)

	yes := true
	again := r
	again.AdminLicence = &yes
	again.Normalize()
	p, err := st.PlaceOrder(ctx, again, deadline)
	require.NoError(t, err, "the same order")
	require.False(t, p.Created)

	no := false
	r = request(newID("admin-none"))
	r.AdminLicence = &no
	r.Normalize()
	place(t, r)
	o, err = st.GetOrder(ctx, r.OrderID)
	require.NoError(t, err)
	require.False(t, o.AdminLicence)
	without := request(r.OrderID)
	_, err = st.PlaceOrder(ctx, without, deadline)
	require.ErrorIs(t, err, store.ErrConflict, "without the field it is another order")
}
