package verifier

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mcpauthz/mcpauthz/core"
	"github.com/mcpauthz/mcpauthz/internal/jose"
)

// TestRegisteredClaimIndexEdges: the registered claims read through
// RawClaims' index (exp here) behave as a scan would: escaped names count,
// case variants and nested members do not, names sharing a prefix do not
// collide, a member past the byte index is still found, and every
// NumericDate form gets the same answer as before the digits fast path.
func TestRegisteredClaimIndexEdges(t *testing.T) {
	t.Parallel()
	v := staticVerifier(t, newClock(), func(c *Config) { c.Cache.MaxEntries = -1 })
	es := key(t, jose.ES256, "a")
	const hdr = `{"alg":"ES256","kid":"es","typ":"at+jwt"}`
	future := t0.Add(time.Hour).Unix()
	body := func(members string) string {
		c := claims(iss)
		delete(c, "exp")
		return strings.Replace(payload(c), "{", "{"+members, 1)
	}
	var many strings.Builder // 300 members before exp: past the byte index
	for i := range 300 {
		fmt.Fprintf(&many, `"c%d":%d,`, i, i)
	}
	for _, tc := range []struct {
		name, members string
		want          error
	}{
		{"escaped exp", fmt.Sprintf(`"\u0065xp":%d,`, future), nil},
		{"escaped exp expired", `"\u0065xp":1000,`, core.ErrExpired},
		{"upper-case EXP only", fmt.Sprintf(`"EXP":%d,`, future), core.ErrInvalidClaims},
		{"exp and Exp", fmt.Sprintf(`"exp":%d,"Exp":1,`, future), core.ErrMalformedToken},
		{"exp and escaped exp", fmt.Sprintf(`"exp":%d,"\u0065xp":1,`, future), core.ErrMalformedToken},
		{"exp only nested", fmt.Sprintf(`"x":{"exp":%d},`, future), core.ErrInvalidClaims},
		{"names sharing a prefix", fmt.Sprintf(`"ex":1,"expx":2,"exp ":3,"exp":%d,`, future), nil},
		{"prefix names expired", `"ex":9999999999,"expx":9999999999,"exp":1000,`, core.ErrExpired},
		{"member 301", many.String() + fmt.Sprintf(`"exp":%d,`, future), nil},
		{"member 301 expired", many.String() + `"exp":1000,`, core.ErrExpired},
		{"member 301 escaped expired", many.String() + `"\u0065xp":1000,`, core.ErrExpired},
		{"exponent 1e3", `"exp":1e3,`, core.ErrExpired},
		{"exponent E0", fmt.Sprintf(`"exp":%dE0,`, future), nil},
		{"minus zero", `"exp":-0,`, core.ErrExpired},
		{"zero", `"exp":0,`, core.ErrExpired},
		{"leading zero", `"exp":01,`, core.ErrMalformedToken},
		{"fraction", fmt.Sprintf(`"exp":%d.999,`, future), nil},
		{"negative fraction", `"exp":-0.5,`, core.ErrInvalidClaims},
		{"max", `"exp":253402300799,`, nil},
		{"max+1", `"exp":253402300800,`, core.ErrInvalidClaims},
		{"12 digits", `"exp":999999999999,`, core.ErrInvalidClaims},
		{"13 digits", `"exp":1000000000000,`, core.ErrInvalidClaims},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			verr(t, v, mint(t, es, jose.ES256, hdr, body(tc.members)), tc.want)
		})
	}
}

// TestHeaderCacheSameKidRotation: a new key served under the old kid gives
// tokens the very same header segment, so the remembered header is a hit
// for both; only the current key set decides. Run with concurrent
// verifications (for -race on the lock-free lookups) across the rotation.
func TestHeaderCacheSameKidRotation(t *testing.T) {
	t.Parallel()
	p := newIDP(t, "/samekid")
	k1, k2 := key(t, jose.RS256, "samekid1"), key(t, jose.RS256, "samekid2")
	p.setJWKS(jwksOf(t, k1, "k", jose.RS256))
	clk := newClock()
	v, err := New(context.Background(), Config{
		Issuers:  []IssuerConfig{{Issuer: p.issuer, JWKSURL: p.srv.URL + "/samekid/jwks", RefreshInterval: 10 * time.Minute}},
		Audience: []string{testAud}, Now: clk.Now, Cache: CacheConfig{MaxEntries: -1},
	})
	if err != nil {
		t.Fatal(err)
	}
	c := claims(p.issuer)
	c["exp"] = t0.Add(2 * time.Hour).Unix()
	old, rotated := sign(t, k1, jose.RS256, "k", c), sign(t, k2, jose.RS256, "k", c)
	if old[:strings.IndexByte(old, '.')] != rotated[:strings.IndexByte(rotated, '.')] {
		t.Fatal("the two tokens' header segments differ")
	}
	ctx := context.Background()
	verr(t, v, old, nil) // header remembered
	verr(t, v, rotated, core.ErrSignature)

	var wg sync.WaitGroup
	stop := make(chan struct{})
	errs := make(chan error, 4)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				select {
				case <-stop:
					return
				default:
				}
				_, e1 := v.Verify(ctx, old)
				_, e2 := v.Verify(ctx, rotated)
				// The key set changes once, from k1 to k2: old then
				// rotated may both verify across the swap, never both fail,
				// and a refusal is a signature one.
				if e1 != nil && e2 != nil || e1 != nil && !errors.Is(e1, core.ErrSignature) || e2 != nil && !errors.Is(e2, core.ErrSignature) {
					errs <- fmt.Errorf("old: %v, rotated: %v", e1, e2)
					return
				}
			}
		}()
	}
	p.setJWKS(jwksOf(t, k2, "k", jose.RS256))
	clk.Add(11 * time.Minute)
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, err := v.Verify(ctx, old) // the first call starts the background refresh
		if err != nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(time.Millisecond)
	}
	close(stop)
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	verr(t, v, old, core.ErrSignature)
	verr(t, v, rotated, nil)
}

// TestClaimsOwnTheirText: Claims of different tokens never share or lose
// their claims text (each payload has its own buffer, kept without a copy).
func TestClaimsOwnTheirText(t *testing.T) {
	t.Parallel()
	v := staticVerifier(t, newClock(), func(c *Config) { c.Cache.MaxEntries = -1 })
	es := key(t, jose.ES256, "a")
	var got []*core.Claims
	var want []string
	for i := range 20 {
		c := claims(iss)
		c["n"] = strings.Repeat(fmt.Sprint(i%10), 1+i)
		cl, err := v.Verify(context.Background(), sign(t, es, jose.ES256, "es", c))
		if err != nil {
			t.Fatal(err)
		}
		got, want = append(got, cl), append(want, string(cl.Raw.JSON()))
	}
	for i, c := range got {
		if n, _ := c.Raw.GetString("n"); string(c.Raw.JSON()) != want[i] || n != strings.Repeat(fmt.Sprint(i%10), 1+i) {
			t.Fatalf("claims %d changed: %s", i, c.Raw.JSON())
		}
	}
}
