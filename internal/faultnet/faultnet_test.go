package faultnet

import (
	"bufio"
	"io"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// echo is an upstream that sends every line back.
func echo(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				_, _ = io.Copy(c, c)
			}()
		}
	}()
	return ln.Addr().String()
}

func roundTrip(c net.Conn, line string) (string, error) {
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c, line+"\n"); err != nil {
		return "", err
	}
	got, err := bufio.NewReader(c).ReadString('\n')
	return got, err
}

func dial(t *testing.T, p *Proxy) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", p.Addr())
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	return c
}

// unusable tells whether a new connection through p fails, at dial (the
// reset may beat connect's return) or at its first round trip.
func unusable(p *Proxy) bool {
	c, err := net.Dial("tcp", p.Addr())
	if err != nil {
		return true
	}
	defer c.Close()
	_, err = roundTrip(c, "refused?")
	return err != nil
}

func TestForwardsCutsRefusesAndAcceptsAgain(t *testing.T) {
	p, err := Listen("127.0.0.1:0", echo(t))
	require.NoError(t, err)
	defer p.Close()

	a := dial(t, p)
	got, err := roundTrip(a, "hello")
	require.NoError(t, err)
	require.Equal(t, "hello\n", got)
	require.Eventually(t, func() bool { return p.Stats().Live == 1 }, 10*time.Second, time.Millisecond)

	// Cut: the live connection breaks, new ones still work.
	require.Equal(t, 1, p.Cut())
	_, err = roundTrip(a, "again")
	require.Error(t, err, "a cut connection carries nothing")
	b := dial(t, p)
	got, err = roundTrip(b, "second")
	require.NoError(t, err)
	require.Equal(t, "second\n", got)

	// Refuse: new connections are reset before anything is forwarded.
	p.Refuse()
	require.True(t, p.Refusing())
	require.True(t, unusable(p), "a refused connection carries nothing")
	require.Eventually(t, func() bool { return p.Stats().Refused >= 1 }, 10*time.Second, time.Millisecond)
	// A connection made before the refusal is left alone.
	got, err = roundTrip(b, "still")
	require.NoError(t, err)
	require.Equal(t, "still\n", got)

	p.Accept()
	d := dial(t, p)
	got, err = roundTrip(d, "back")
	require.NoError(t, err)
	require.Equal(t, "back\n", got)

	s := p.Stats()
	require.EqualValues(t, 1, s.Cut)
	require.EqualValues(t, 3, s.Served)
}

func TestOutageEndsByItself(t *testing.T) {
	p, err := Listen("127.0.0.1:0", echo(t))
	require.NoError(t, err)
	defer p.Close()
	a := dial(t, p)
	_, err = roundTrip(a, "x")
	require.NoError(t, err)

	require.Equal(t, 1, p.Outage(200*time.Millisecond))
	_, err = roundTrip(a, "y")
	require.Error(t, err)
	require.True(t, p.Refusing())
	// Await the end of the outage instead of sleeping through it.
	require.Eventually(t, func() bool {
		c, err := net.Dial("tcp", p.Addr())
		if err != nil {
			return false
		}
		defer c.Close()
		got, err := roundTrip(c, "z")
		return err == nil && got == "z\n"
	}, 30*time.Second, 20*time.Millisecond)
	require.False(t, p.Refusing())
}

func TestUpstreamDownIsAReset(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	p, err := Listen("127.0.0.1:0", addr)
	require.NoError(t, err)
	defer p.Close()
	require.True(t, unusable(p))
	require.Eventually(t, func() bool { return p.Stats().Refused == 1 }, 10*time.Second, time.Millisecond)
}

func TestCloseEndsEverything(t *testing.T) {
	p, err := Listen("127.0.0.1:0", echo(t))
	require.NoError(t, err)
	a := dial(t, p)
	_, err = roundTrip(a, "x")
	require.NoError(t, err)
	require.NoError(t, p.Close())
	_, err = roundTrip(a, "y")
	require.Error(t, err)
	_, err = net.DialTimeout("tcp", p.Addr(), time.Second)
	require.Error(t, err)
	require.NoError(t, p.Close(), "a second Close is a no-op")
}
