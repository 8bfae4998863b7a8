package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestTourMetrics runs the tour, scrapes /metrics (the OpenTelemetry
// Prometheus exporter) and checks the counters against what the tour did,
// as its audit log recorded it.
func TestTourMetrics(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	logs := &syncWriter{w: &bytes.Buffer{}}
	logger := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	st, err := startStack(ctx, "127.0.0.1:0", t.TempDir(), 0, logger)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var out bytes.Buffer
	tr := &tour{st: st, out: &out, log: logger}
	if err := tr.run(ctx); err != nil || tr.failed > 0 {
		t.Fatalf("tour: %v, %d failed\n%s", err, tr.failed, out.String())
	}

	for _, path := range []string{"/readyz", "/livez"} {
		resp, err := http.Get(st.Base + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d", path, resp.StatusCode)
		}
	}
	resp, err := http.Get(st.Base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %d %v", resp.StatusCode, err)
	}
	metrics := string(body)

	// What the tour did, from the audit records.
	audit := map[string]int{}
	grants := map[string]int{}
	sc := bufio.NewScanner(bytes.NewReader(logs.bytes()))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.Contains(line, `"msg":"mcpauthz decision"`):
			for _, d := range []string{"allow", "deny", "error"} {
				if strings.Contains(line, `"decision":"`+d+`"`) {
					audit[d]++
				}
			}
		case strings.Contains(line, `"msg":"authserver.grant"`) && strings.Contains(line, `"outcome":"granted"`):
			grants["issued"]++
		}
	}
	if audit["allow"] == 0 || audit["deny"] == 0 || grants["issued"] == 0 {
		t.Fatalf("the tour recorded no decisions or grants: %v %v", audit, grants)
	}
	t.Logf("tour: decisions %v, grants %v", audit, grants)
	for d, n := range audit {
		if got := promSum(metrics, "mcpauthz_guard_decisions_total", `mcpauthz_decision="`+d+`"`); got != float64(n) {
			t.Errorf("decisions %s: /metrics says %v, the audit log %d", d, got, n)
		}
	}
	if got := promSum(metrics, "mcpauthz_guard_check_duration_seconds_count"); got != float64(audit["allow"]+audit["deny"]+audit["error"]) {
		t.Errorf("check duration count %v, want %d", got, audit["allow"]+audit["deny"]+audit["error"])
	}
	if got := promSum(metrics, "mcpauthz_as_grants_total", `mcpauthz_outcome="issued"`); got != float64(grants["issued"]) {
		t.Errorf("grants issued: /metrics says %v, the audit log %d", got, grants["issued"])
	}
	for _, c := range []struct{ name, label string }{
		{"mcpauthz_jwks_fetches_total", `mcpauthz_issuer="` + st.ASIssuer + `",mcpauthz_outcome="success"`},
		{"mcpauthz_cache_lookups_total", `mcpauthz_cache="verification",mcpauthz_cache_result="hit"`},
		{"mcpauthz_policy_reloads_total", `mcpauthz_outcome="success"`},
		{"mcpauthz_policy_version", ""},
	} {
		if got := promSum(metrics, c.name, c.label); got < 1 {
			t.Errorf("%s{%s} = %v, want ≥ 1", c.name, c.label, got)
		}
	}
	if got := promSum(metrics, "mcpauthz_jwks_fetches_total", `mcpauthz_outcome="failure"`); got != 0 {
		t.Errorf("failed JWKS fetches = %v, want 0", got)
	}
}

// promSum adds the values of the samples of metric name whose label set
// contains every fragment (exposition text format).
func promSum(text, name string, fragments ...string) float64 {
	var total float64
	for _, line := range strings.Split(text, "\n") {
		if !strings.HasPrefix(line, name+"{") && !strings.HasPrefix(line, name+" ") {
			continue
		}
		ok := true
		for _, f := range fragments {
			if f != "" && !strings.Contains(line, f) {
				ok = false
			}
		}
		if !ok {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err == nil {
			total += v
		}
	}
	return total
}

// syncWriter is a log destination safe to read while components log.
type syncWriter struct {
	mu sync.Mutex
	w  *bytes.Buffer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

func (s *syncWriter) bytes() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return bytes.Clone(s.w.Bytes())
}
