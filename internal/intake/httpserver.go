package intake

import (
	"net/http"
	"time"
)

// Limits of a connection to the API. A request must arrive whole within
// ReadTimeout (a client that trickles its body, slowloris-style, is cut
// off), and its body is at most maxBody; a handler answers within
// WriteTimeout, which covers a start or a signal that waits on Temporal.
const (
	ReadHeaderTimeout = 10 * time.Second
	ReadTimeout       = 30 * time.Second
	WriteTimeout      = 60 * time.Second
	IdleTimeout       = 2 * time.Minute
	MaxHeaderBytes    = 64 << 10
)

// NewHTTPServer serves h with the API's limits.
func NewHTTPServer(h http.Handler) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: ReadHeaderTimeout,
		ReadTimeout:       ReadTimeout,
		WriteTimeout:      WriteTimeout,
		IdleTimeout:       IdleTimeout,
		MaxHeaderBytes:    MaxHeaderBytes,
	}
}
