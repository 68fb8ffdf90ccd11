// Command healthcheck is the container health probe: it GETs the URL given as
// its argument and exits 0 on a 2xx answer, 1 otherwise. The runtime image is
// distroless (no shell, no curl, no wget), so Docker's HEALTHCHECK needs a
// binary of its own; this one is static and uses the standard library only.
//
//	healthcheck http://127.0.0.1:9090/healthz
package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: healthcheck URL")
		os.Exit(2)
	}
	if err := check(os.Args[1], 5*time.Second); err != nil {
		// Docker keeps the probe's output in `docker inspect`: one line says why.
		fmt.Fprintln(os.Stderr, "unhealthy:", err)
		os.Exit(1)
	}
}

func check(url string, timeout time.Duration) error {
	// Below Docker's own timeout, so that a hung endpoint reports a reason
	// instead of being killed silently.
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 256))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("%s: %s %s", url, resp.Status, strings.Join(strings.Fields(string(body)), " "))
	}
	return nil
}
