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
	// source is whose token it is, for the diagnostics budget: "" for
	// an iss mismatch (unsigned: anyone can send one), else the name of
	// the configured issuer whose key verified it (aud, typ).
	source string
}

func (e *MismatchError) Error() string { return e.err.Error() }
func (e *MismatchError) Unwrap() error { return e.err }

// Limits of the refused-token diagnostics.
const (
	diagInterval       = time.Minute // per distinct cause
	diagMaxPerMin      = 20          // Warn lines per minute in total
	diagSourcePerMin   = 5           // Warn lines per minute per source (MismatchError.source)
	diagMaxCauses      = 1024        // remembered causes
	diagMaxBytes       = 256 << 10   // bytes of the remembered causes' keys
	diagMaxSources     = 64          // sources counted per minute; more share one budget
	diagOverflowSource = "\x00overflow"
	diagMaxValues      = 4
	diagValueBytes     = 128
)

// mismatch builds a MismatchError for issuer is (nil for iss).
func (v *Verifier) mismatch(sentinel error, claim string, got []string, is *issuer, format string, args ...any) error {
	e := &MismatchError{Claim: claim, err: claimErr(sentinel, format, args...)}
	if is != nil {
		e.source = is.name
	}
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
// once per diagInterval per distinct cause, diagSourcePerMin lines per
// minute per source and diagMaxPerMin lines per minute overall, in memory
// bounded by diagMaxCauses keys and diagMaxBytes bytes. The per-source
// budget keeps one sender from spending everyone's: a flood of forged
// tokens naming random issuers (source "": no key verified them) gets
// diagSourcePerMin lines, and an audience or type mismatch of a real
// issuer's token (a misconfiguration an operator must see) is still
// logged.
type diagnostics struct {
	log *slog.Logger
	now func() time.Time

	mu         sync.Mutex
	last       map[string]time.Time
	lastBytes  int
	window     time.Time
	inWindow   int
	perSource  map[string]int
	suppressed int
}

func newDiagnostics(log *slog.Logger, now func() time.Time) *diagnostics {
	return &diagnostics{log: log, now: now, last: make(map[string]time.Time), perSource: make(map[string]int)}
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
	// Expected follows from claim and source, so the key leaves it out:
	// its size is bounded by Got's (diagMaxValues × diagValueBytes) and
	// the configured issuer's name.
	key := me.Claim + "\x00" + me.source + "\x00" + strings.Join(me.Got, "\x00")
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
		clear(d.perSource)
	}
	src := me.source
	if _, ok := d.perSource[src]; !ok && len(d.perSource) >= diagMaxSources {
		src = diagOverflowSource
	}
	if d.inWindow >= diagMaxPerMin || d.perSource[src] >= diagSourcePerMin {
		d.suppressed++
		d.mu.Unlock()
		return
	}
	d.inWindow++
	d.perSource[src]++
	if len(d.last) >= diagMaxCauses || d.lastBytes+len(key) > diagMaxBytes {
		for k, t := range d.last {
			if now.Sub(t) >= diagInterval {
				delete(d.last, k)
				d.lastBytes -= len(k)
			}
		}
		if len(d.last) >= diagMaxCauses || d.lastBytes+len(key) > diagMaxBytes {
			clear(d.last)
			d.lastBytes = 0
		}
	}
	d.last[key] = now
	d.lastBytes += len(key)
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
