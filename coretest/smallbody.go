package coretest

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// testSmallIdleBodies (attack-4): an unauthenticated request that declares
// a small body (under net/http's 256 KiB post-handler discard limit) and
// sends none. The Guard answers 401 without reading the body; net/http
// would then discard the unread body before writing the 401, with no
// deadline on a server without ReadTimeout, and the connection and its
// goroutine would be held forever. The answer must come at once, and the
// server must close the connection (the body bytes are still owed, so it
// cannot be reused). The 1 MiB flood in testIdleBodies misses this: above
// 256 KiB net/http closes instead of discarding.
//
// A server that pre-reads the first bytes of a body before any handler
// runs (BodyPrereader: fasthttp) gets them first, as in testIdleBodies, and
// 100 bytes more declared: a body shorter than its pre-read is held by the
// server itself before the Guard runs, and only its ReadTimeout bounds it.
//
// The answer comes at once (about a millisecond); what the test must tell
// it from is a connection held forever (no harness server has a
// ReadTimeout), so each read waits up to smallBodyWait: 3 s was missed once
// by one of the four connections in a -race run at load 12, while the
// whole suite took five times its usual time.
func testSmallIdleBodies(t *testing.T, h Harness, e *env) {
	prefix := 0
	if p, ok := h.(BodyPrereader); ok {
		prefix = p.PrereadBytes()
	}
	f := IdleBodyFlood{Conns: 4, Declared: int64(prefix) + 100, Prefix: prefix, Wait: smallBodyWait}
	r := f.Run(t, e.base+e.g.ResourcePath())
	t.Logf("small idle bodies: %v", r)
	if r.Statuses[http.StatusUnauthorized] != f.Conns {
		t.Errorf("statuses %v, no answer %v, want %d × 401 within %v (0 = no answer; i/o timeout: the connection is held)",
			r.Statuses, r.NoAnswer, f.Conns, f.Wait)
	}

	// One connection, checked to the end: 401 and then EOF.
	u, err := url.Parse(e.base + e.g.ResourcePath())
	if err != nil {
		t.Fatal(err)
	}
	c, err := net.DialTimeout("tcp", u.Host, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	head := "POST " + u.RequestURI() + " HTTP/1.1\r\nHost: " + u.Host + "\r\nContent-Type: application/json\r\n" +
		"Accept: application/json, text/event-stream\r\n" + fmt.Sprintf("Content-Length: %d\r\n\r\n", f.Declared) +
		strings.Repeat(" ", prefix)
	if _, err := c.Write([]byte(head)); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(smallBodyWait))
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("no answer within %v: %v", smallBodyWait, err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("status %d, want 401", resp.StatusCode)
	}
	if _, err := br.ReadByte(); !errors.Is(err, io.EOF) && !isReset(err) {
		t.Errorf("after the 401: %v, want the server to close the connection", err)
	}
}

// smallBodyWait bounds each read of testSmallIdleBodies: far above the
// answer's time and the server's close after refusedBodyGrace (500 ms),
// far below forever.
const smallBodyWait = 10 * time.Second

func isReset(err error) bool {
	return err != nil && strings.Contains(err.Error(), "connection reset")
}
