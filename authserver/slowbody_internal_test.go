package authserver

import (
	"bufio"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestSlowBodyBounded (attack-4): on an http.Server without ReadTimeout
// (the quickstart, and any server that also carries the Guard's GET event
// streams), a request whose declared body never arrives must not hold its
// connection and goroutine forever. Before the fix, a POST to /token or
// /register with "Content-Length: 100" and no body was still open after
// 90 s on `quickstart serve`. Each case sends the headers only and expects
// the server to answer or close within the body deadline (shortened here);
// the control sends a complete body slowly but within the deadline.
func TestSlowBodyBounded(t *testing.T) {
	e := newEnv(t, nil)
	// The control's pause (100 ms) must stay well inside the deadline on a
	// loaded machine; the refusals must come well before the 20 s read
	// limit (10 x the deadline, as 5 s was for 300 ms before).
	e.s.boundBodies(2 * time.Second)
	srv := httptest.NewUnstartedServer(e.s) // no ReadTimeout
	srv.Config.ReadHeaderTimeout = 5 * time.Second
	srv.Start()
	t.Cleanup(srv.Close)
	addr := strings.TrimPrefix(srv.URL, "http://")

	for _, tc := range []struct {
		name, method, path, ctype string
	}{
		{"token", "POST", "/token", "application/x-www-form-urlencoded"},
		{"token, wrong content type (refused before the body)", "POST", "/token", "text/plain"},
		{"token, GET with a body", "GET", "/token", "application/x-www-form-urlencoded"},
		{"metadata with a body", "GET", "/.well-known/oauth-authorization-server", "text/plain"},
		{"unknown path", "POST", "/nowhere", "text/plain"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if _, err := c.Write([]byte(tc.method + " " + tc.path + " HTTP/1.1\r\nHost: x\r\nContent-Type: " + tc.ctype + "\r\nContent-Length: 100\r\n\r\nabc")); err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			_ = c.SetReadDeadline(start.Add(20 * time.Second))
			buf := make([]byte, 4096)
			for {
				if _, err := c.Read(buf); err != nil {
					if ne, ok := err.(net.Error); ok && ne.Timeout() {
						t.Fatalf("connection still held after %v (body deadline %v)", time.Since(start), 2*time.Second)
					}
					return // closed by the server: bounded
				}
			}
		})
	}

	t.Run("slow but complete body is served", func(t *testing.T) {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		body := form("grant_type", "client_credentials", "resource", testMCP)
		head := "POST /token HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nAuthorization: " +
			basicHeader(testSecretID, testSecret) + "\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n"
		if _, err := c.Write([]byte(head + body[:10])); err != nil {
			t.Fatal(err)
		}
		time.Sleep(100 * time.Millisecond)
		if _, err := c.Write([]byte(body[10:])); err != nil {
			t.Fatal(err)
		}
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("status %d", resp.StatusCode)
		}
	})
}
