package coretest

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// IdleBodyFlood describes a flood of connections that each send a request
// header declaring a large body, optionally a first part of it, and then
// nothing: the shape of a slow-body memory attack (issue 10 §2).
type IdleBodyFlood struct {
	Conns         int           // connections held open at once
	Declared      int64         // the Content-Length each request declares
	Authorization string        // the Authorization header ("" = none)
	Prefix        int           // body bytes sent before going idle
	Wait          time.Duration // how long to wait for every answer
}

// FloodResult is what an IdleBodyFlood measured.
type FloodResult struct {
	Statuses map[int]int   // status code → count (0: no answer within Wait)
	Slowest  time.Duration // the slowest answer
	// NoAnswer counts the connections without an answer by why their
	// read ended: "i/o timeout" (nothing within Wait: held), "EOF"
	// (closed unanswered), or the read's other error.
	NoAnswer map[string]int
	// HeapGrowth is the live heap of this process (client and server) with
	// every connection still open, minus the live heap before, both after
	// a GC; AllocGrowth is the total of bytes allocated meanwhile.
	HeapGrowth, AllocGrowth int64
}

// String formats the result for a test log.
func (r FloodResult) String() string {
	return fmt.Sprintf("statuses %v (no answer: %v), slowest %v, live heap +%.2f MiB, allocated %.2f MiB",
		r.Statuses, r.NoAnswer, r.Slowest.Round(time.Millisecond), float64(r.HeapGrowth)/(1<<20), float64(r.AllocGrowth)/(1<<20))
}

// Run floods target (an http:// URL on loopback) and returns what it saw.
// It closes every connection before returning.
func (f IdleBodyFlood) Run(t testing.TB, target string) FloodResult {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil || u.Scheme != "http" {
		t.Fatalf("flood target %q: want an http:// URL", target)
	}
	head := "POST " + u.RequestURI() + " HTTP/1.1\r\nHost: " + u.Host + "\r\nContent-Type: application/json\r\n" +
		"Accept: application/json, text/event-stream\r\n" + fmt.Sprintf("Content-Length: %d\r\n", f.Declared)
	if f.Authorization != "" {
		head += "Authorization: " + f.Authorization + "\r\n"
	}
	head += "\r\n" + strings.Repeat(" ", f.Prefix)
	hb := []byte(head)

	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	conns := make([]net.Conn, f.Conns)
	defer func() {
		for _, c := range conns {
			if c != nil {
				_ = c.Close()
			}
		}
	}()
	statuses := make([]int, f.Conns)
	took := make([]time.Duration, f.Conns)
	why := make([]error, f.Conns)
	var wg sync.WaitGroup
	for i := range conns {
		c, err := net.DialTimeout("tcp", u.Host, 5*time.Second)
		if err != nil {
			t.Fatalf("dial %d: %v", i, err)
		}
		conns[i] = c
		if _, err := c.Write(hb); err != nil {
			t.Fatalf("write %d: %v", i, err)
		}
		wg.Add(1)
		go func(i int, c net.Conn, sent time.Time) {
			defer wg.Done()
			_ = c.SetReadDeadline(sent.Add(f.Wait))
			resp, err := http.ReadResponse(bufio.NewReaderSize(c, 512), nil)
			if err != nil {
				why[i] = err
				return
			}
			_ = resp.Body.Close()
			statuses[i], took[i] = resp.StatusCode, time.Since(sent)
		}(i, c, time.Now())
	}
	wg.Wait()
	runtime.GC()
	runtime.ReadMemStats(&after)
	res := FloodResult{Statuses: map[int]int{}, NoAnswer: map[string]int{}, HeapGrowth: int64(after.HeapAlloc) - int64(before.HeapAlloc),
		AllocGrowth: int64(after.TotalAlloc - before.TotalAlloc)}
	for i, s := range statuses {
		res.Statuses[s]++
		res.Slowest = max(res.Slowest, took[i])
		if err := why[i]; err != nil {
			// The net.OpError's cause, without the addresses, so that
			// the map holds one key per kind of ending.
			var oe *net.OpError
			if errors.As(err, &oe) && oe.Err != nil {
				err = oe.Err
			}
			res.NoAnswer[err.Error()]++
		}
	}
	return res
}
