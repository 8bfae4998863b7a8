package verifier

import (
	"errors"
	"fmt"
	"github.com/mcpauthz/mcpauthz/core"
	"github.com/mcpauthz/mcpauthz/internal/clip"
	"log/slog"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
)

// MismatchError is the error of a token refused because its "iss", "aud" or
// JOSE "typ" is not one this Verifier accepts. It wraps the core sentinel
// (core.ErrIssuer, core.ErrAudience or core.ErrTokenType), so errors.Is works
// as before; errors.As gives operators the expected and received values.
// Got holds unverified token content, truncated: log it, never trust it.
type MismatchError struct {
	// Claim is "iss", "aud" or "typ".
	Claim string
	// Got is the token's value (each aud entry), at most 4 entries of at
	// most 128 bytes each.
	Got []string
	// Expected is what the issuer (or, for iss, the Verifier) accepts.
	Expected []string
	err      error
}

func (e *MismatchError) Error() string { return e.err.Error() }
func (e *MismatchError) Unwrap() error { return e.err }

// Limits of the refused-token diagnostics.
const (
	diagInterval   = time.Minute // per distinct cause
	diagMaxPerMin  = 20          // Warn lines per minute in total
	diagMaxCauses  = 1024        // remembered causes
	diagMaxValues  = 4
	diagValueBytes = 128
)

// mismatch builds a MismatchError for issuer is (nil for iss).
func (v *Verifier) mismatch(sentinel error, claim string, got []string, is *issuer, format string, args ...any) error {
	e := &MismatchError{Claim: claim, err: claimErr(sentinel, format, args...)}
	for i, g := range got {
		if i == diagMaxValues {
			e.Got = append(e.Got, "...")
			break
		}
		e.Got = append(e.Got, clip.String(g, diagValueBytes))
	}
	switch claim {
	case "iss":
		for name := range v.exact {
			e.Expected = append(e.Expected, name)
		}
		for _, t := range v.templates {
			e.Expected = append(e.Expected, t.name)
		}
		sort.Strings(e.Expected)
	case "aud":
		e.Expected = is.audList
		if is.audience == nil {
			e.Expected = v.audList
		}
	case "typ":
		for t := range is.types {
			if t == "" {
				t = "(absent)"
			}
			e.Expected = append(e.Expected, t)
		}
		sort.Strings(e.Expected)
		if len(got) == 1 && got[0] == "" {
			e.Got = []string{"(absent)"}
		}
	}
	return e
}

// diagnostics logs refused tokens' iss/aud/typ mismatches at Warn, at most
// once per diagInterval per distinct cause and diagMaxPerMin lines per
// minute overall, in memory bounded by diagMaxCauses keys of bounded size.
type diagnostics struct {
	log *slog.Logger
	now func() time.Time

	mu         sync.Mutex
	last       map[string]time.Time
	window     time.Time
	inWindow   int
	suppressed int
}

func newDiagnostics(log *slog.Logger, now func() time.Time) *diagnostics {
	return &diagnostics{log: log, now: now, last: make(map[string]time.Time)}
}

func (d *diagnostics) report(err error) {
	// A mismatch comes bare or inside the audit annotation
	// (core.TokenRefusalError); two type assertions keep the error path
	// free of allocations for every other refusal.
	if d == nil {
		return
	}
	if re, ok := err.(*core.TokenRefusalError); ok {
		err = re.Err
	}
	me, ok := err.(*MismatchError)
	if !ok {
		return
	}
	key := me.Claim + "\x00" + strings.Join(me.Got, "\x00") + "\x00" + strings.Join(me.Expected, "\x00")
	now := d.now()
	d.mu.Lock()
	if t, ok := d.last[key]; ok && now.Sub(t) < diagInterval {
		d.mu.Unlock()
		return
	}
	if now.Sub(d.window) >= diagInterval {
		if d.suppressed > 0 {
			d.log.Warn("verifier: refused-token diagnostics suppressed in the last minute", "count", d.suppressed)
		}
		d.window, d.inWindow, d.suppressed = now, 0, 0
	}
	if d.inWindow >= diagMaxPerMin {
		d.suppressed++
		d.mu.Unlock()
		return
	}
	d.inWindow++
	if len(d.last) >= diagMaxCauses {
		for k, t := range d.last {
			if now.Sub(t) >= diagInterval {
				delete(d.last, k)
			}
		}
		if len(d.last) >= diagMaxCauses {
			clear(d.last)
		}
	}
	d.last[key] = now
	d.mu.Unlock()
	d.log.Warn("verifier: token refused: "+me.Claim+" mismatch",
		"claim", me.Claim, "expected", me.Expected, "got", me.Got, "error", me.err.Error())
}

// addAudiences validates list and adds it to set (normalized when
// configured).
func (v *Verifier) addAudiences(set map[string]bool, list []string) error {
	for _, a := range list {
		if strings.TrimSpace(a) == "" {
			return errors.New("verifier: empty audience")
		}
		if v.normalize {
			a = normalizeAudience(a)
		}
		set[a] = true
	}
	return nil
}

// issuerAudience applies IssuerConfig.Audience and Mapper to is.
func (v *Verifier) issuerAudience(is *issuer, c *IssuerConfig) error {
	is.mapper = c.Mapper
	if c.Audience == nil {
		return nil
	}
	if len(c.Audience) == 0 {
		return fmt.Errorf("verifier: issuer %q: empty Audience list", is.name)
	}
	is.audience = make(map[string]bool, len(c.Audience))
	is.audList = slices.Clone(c.Audience)
	return v.addAudiences(is.audience, c.Audience)
}

// Audiences returns every accepted audience value: Config.Audience and each
// issuer's own Audience, sorted and deduplicated. core.New uses it to check
// Config.Resource against the verifier.
func (v *Verifier) Audiences() []string {
	var out []string
	out = append(out, v.audList...)
	for _, is := range v.allIssuers() {
		out = append(out, is.audList...)
	}
	sort.Strings(out)
	return slices.Compact(out)
}

func (v *Verifier) allIssuers() []*issuer {
	out := make([]*issuer, 0, len(v.exact)+len(v.templates))
	for _, is := range v.exact {
		out = append(out, is)
	}
	return append(out, v.templates...)
}
