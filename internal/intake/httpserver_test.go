package intake

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestHTTPServerHasLimits(t *testing.T) {
	s := NewHTTPServer(http.NotFoundHandler())
	require.Equal(t, ReadHeaderTimeout, s.ReadHeaderTimeout)
	require.Equal(t, ReadTimeout, s.ReadTimeout)
	require.Equal(t, WriteTimeout, s.WriteTimeout)
	require.Equal(t, IdleTimeout, s.IdleTimeout)
	require.Equal(t, MaxHeaderBytes, s.MaxHeaderBytes)
}

// A client that sends its headers and then trickles the body is cut off
// at the read timeout (shortened here), and the handler sees an error
// rather than waiting for ever.
func TestSlowBodyIsCutOff(t *testing.T) {
	read := make(chan error, 1)
	s := NewHTTPServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, err := io.ReadAll(r.Body)
		read <- err
	}))
	s.ReadTimeout = 300 * time.Millisecond
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	go func() { _ = s.Serve(l) }()
	t.Cleanup(func() { s.Close() })

	c, err := net.Dial("tcp", l.Addr().String())
	require.NoError(t, err)
	defer c.Close()
	_, err = io.WriteString(c, "POST /v1/orders HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n{\"order_id\":")
	require.NoError(t, err)

	select {
	case err := <-read:
		require.Error(t, err, "the handler's read of the trickled body failed")
		require.True(t, strings.Contains(err.Error(), "timeout"), err.Error())
	case <-time.After(10 * time.Second):
		t.Fatal("the slow body was not cut off")
	}
	// The connection is closed: whatever was answered, reading reaches EOF.
	require.NoError(t, c.SetReadDeadline(time.Now().Add(10*time.Second)))
	_, err = io.Copy(io.Discard, bufio.NewReader(c))
	require.NoError(t, err, "the server closed the connection")
}
