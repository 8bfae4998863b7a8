package core

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/mcpauthz/mcpauthz/internal/httpx"
)

// ErrNotReady is wrapped by every error of [Guard.Ready].
var ErrNotReady = errors.New("mcpauthz: not ready")

// ReadinessChecker is implemented by components that can tell whether they
// are able to serve: a verifier whose key sets are loaded, an Authorizer
// with a policy loaded (and sealed, where sealing is on), a store that
// answers. Ready must honour ctx and must not be expensive: probes call it
// every few seconds. The Guard asks its Verifier, Mapper and Authorizer
// when they implement it, and every Config.ReadyChecks entry.
type ReadinessChecker interface {
	Ready(ctx context.Context) error
}

// ReadyFunc adapts a function to ReadinessChecker.
type ReadyFunc func(ctx context.Context) error

// Ready calls f.
func (f ReadyFunc) Ready(ctx context.Context) error { return f(ctx) }

// Ready reports whether the Guard can decide requests: every issuer's keys
// are loaded or obtainable now (Verifier), a policy is loaded (Authorizer),
// the session store answers (Config.Sessions), and every store in
// Config.ReadyChecks answers. Components that do not
// implement ReadinessChecker count as ready. The error wraps ErrNotReady
// and names each failing component; it may contain URLs, never a token.
func (g *Guard) Ready(ctx context.Context) error {
	if g == nil {
		return ErrNilGuard
	}
	var errs []error
	check := func(name string, c any) {
		if rc, ok := c.(ReadinessChecker); ok {
			if err := rc.Ready(ctx); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", name, err))
			}
		}
	}
	check("verifier", g.verifier)
	check("mapper", g.mapper)
	check("authorizer", g.authorizer)
	if g.sessions != nil {
		check("session store", g.sessions.store)
	}
	for i, c := range g.readyChecks {
		check(fmt.Sprintf("check %d", i), c)
	}
	if len(errs) > 0 {
		return fmt.Errorf("%w: %w", ErrNotReady, errors.Join(errs...))
	}
	return nil
}

// DefaultReadyTimeout bounds one readiness probe answered by ReadyHandler.
const DefaultReadyTimeout = 5 * time.Second

// Bounds of a not-ready body (ReadyHandler): at most MaxReadyChecks lines,
// each at most MaxReadyCheckBytes with control characters replaced, so the
// body stays under 9 KiB (quotes and backslashes escaped) however many
// dependencies fail and whatever they say.
const (
	MaxReadyChecks     = 16
	MaxReadyCheckBytes = 256
)

// ReadyHandler answers Kubernetes-style readiness probes for c (a *Guard,
// an *authserver.Server, or several joined with ReadyFunc): 200 with
// {"status":"ready"} when c.Ready returns nil within timeout (0 means
// DefaultReadyTimeout), otherwise 503 with
//
//	{"status":"not ready","checks":["verifier: ...","upstream: ..."]}
//
// one line per failing dependency (each line of the error: errors.Join
// puts one per line), without the "not ready" prefix, with every URL's
// user info, query and fragment removed and "password=" values masked,
// each line cut at MaxReadyCheckBytes and at most MaxReadyChecks lines
// (then "... N more"). It answers GET and HEAD only. Mount it on an
// internal listener: the lines name components, hosts and paths.
func ReadyHandler(c ReadinessChecker, timeout time.Duration) http.Handler {
	if timeout <= 0 {
		timeout = DefaultReadyTimeout
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !httpx.AllowGet(w, r) {
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), timeout)
		defer cancel()
		if err := c.Ready(ctx); err != nil {
			writeProbe(w, http.StatusServiceUnavailable, struct {
				Status string   `json:"status"`
				Checks []string `json:"checks"`
			}{"not ready", ReadyChecks(err)})
			return
		}
		writeProbe(w, http.StatusOK, map[string]string{"status": "ready"})
	})
}

// ReadyChecks is the "checks" list of a not-ready body (see
// [ReadyHandler]): one bounded, redacted line per failing dependency.
func ReadyChecks(err error) []string {
	var lines []string
	for _, line := range strings.Split(err.Error(), "\n") {
		for { // "mcpauthz: not ready: ", "authserver: not ready: "
			m := probeNotReady.FindStringIndex(line)
			if m == nil {
				break
			}
			line = line[m[1]:]
		}
		if line = strings.TrimSpace(line); line != "" {
			lines = append(lines, line)
		}
	}
	if len(lines) == 0 {
		return []string{"not ready"}
	}
	out := make([]string, 0, min(len(lines), MaxReadyChecks))
	for i, line := range lines {
		if i == MaxReadyChecks-1 && len(lines) > MaxReadyChecks {
			return append(out, fmt.Sprintf("... %d more (see the log)", len(lines)-i))
		}
		line = strings.Map(func(r rune) rune {
			if r < 0x20 || r == 0x7f {
				return ' '
			}
			return r
		}, line)
		out = append(out, TruncateField(redactForProbe(line), MaxReadyCheckBytes))
	}
	return out
}

var (
	probeNotReady = regexp.MustCompile(`^[a-z]+: not ready: `)
	probeURL      = regexp.MustCompile(`[A-Za-z][A-Za-z0-9+.-]*://[^\s"'<>]+`)
	probePassword = regexp.MustCompile(`(?i)(password|passwd|pwd|secret|token)=[^\s&"']+`)
)

// redactForProbe removes credentials from s: user info, query and fragment
// of every URL, and key=value passwords (DSNs).
func redactForProbe(s string) string {
	s = probeURL.ReplaceAllStringFunc(s, func(raw string) string {
		trail := strings.TrimRight(raw, ".,;:)]}")
		rest := raw[len(trail):]
		u, err := url.Parse(trail)
		if err != nil {
			return "[url]" + rest
		}
		u.User, u.RawQuery, u.ForceQuery, u.Fragment, u.RawFragment = nil, "", false, "", ""
		return u.String() + rest
	})
	return probePassword.ReplaceAllString(s, "$1=[redacted]")
}

// LiveHandler answers liveness probes: 200 {"status":"alive"} to GET and
// HEAD while the process serves HTTP. It checks no dependency, so an IdP
// outage makes a pod unready, never restarted.
func LiveHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if httpx.AllowGet(w, r) {
			writeProbe(w, http.StatusOK, map[string]string{"status": "alive"})
		}
	})
}

func writeProbe(w http.ResponseWriter, status int, body any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // "<" stays one byte in the bounded lines
	_ = enc.Encode(body)
	b := bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}
