package verifier

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"math/big"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mcpauthz/mcpauthz/internal/jose"
)

// benchClaims is a typical ~800-byte access token payload (performance.md):
// iss, sub, aud, exp, iat, jti, scope and a groups array of 10.
func benchClaims() map[string]any {
	c := claims(iss)
	c["sub"] = "00u1a2b3c4d5e6f7g8h9-user@example.com"
	c["jti"] = "4f1c2a8e-6b7d-4c3e-9a1b-2c3d4e5f6a7b"
	c["scope"] = "openid profile email tools:read tools:call resources:read prompts:get offline_access"
	c["groups"] = []string{"engineering", "platform-team", "sre-oncall", "mcp-users", "github-admins",
		"security-reviewers", "data-readers", "release-managers", "incident-commanders", "all-staff"}
	return c
}

type benchCase struct {
	alg, kid string
}

var benchCases = []benchCase{{jose.RS256, "rs"}, {jose.PS256, "ps"}, {jose.ES256, "es"}, {jose.EdDSA, "ed"}}

func benchToken(b *testing.B, bc benchCase) (string, crypto.Signer) {
	k := key(b, bc.alg, "a")
	return sign(b, k, bc.alg, bc.kid, benchClaims()), k
}

// benchmarkVerify runs the full Verify with the verified-token cache
// disabled: every iteration pays pre-parse, signature and claims.
func benchmarkVerify(b *testing.B, bc benchCase) {
	v := staticVerifier(b, newClock(), func(c *Config) { c.Cache.MaxEntries = -1 })
	raw, _ := benchToken(b, bc)
	if len(raw) < 700 || len(raw) > 1200 {
		b.Fatalf("token is %d bytes", len(raw))
	}
	ctx := context.Background()
	if _, err := v.Verify(ctx, raw); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := v.Verify(ctx, raw); err != nil {
			b.Fatal(err)
		}
	}
}

// benchmarkRaw is the physical floor: SHA of the signing input plus the
// stdlib signature check with a pre-parsed key, nothing else.
func benchmarkRaw(b *testing.B, bc benchCase) {
	_, verify := rawVerifier(b, bc)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if !verify() {
			b.Fatal("raw verify failed")
		}
	}
}

// rawVerifier returns the benchmark token and a closure doing only the
// stdlib signature check on it.
func rawVerifier(b *testing.B, bc benchCase) (string, func() bool) {
	raw, k := benchToken(b, bc)
	return raw, rawCheck(b, bc, k, raw)
}

// rawCheck returns a closure doing only the stdlib signature check on raw,
// signed by k.
func rawCheck(b *testing.B, bc benchCase, k crypto.Signer, raw string) func() bool {
	dot := strings.LastIndexByte(raw, '.')
	input := []byte(raw[:dot])
	sig, err := base64.RawURLEncoding.DecodeString(raw[dot+1:])
	if err != nil {
		b.Fatal(err)
	}
	var verify func() bool
	switch pub := k.Public().(type) {
	case *rsa.PublicKey:
		if bc.alg == jose.PS256 {
			opts := &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash, Hash: crypto.SHA256}
			verify = func() bool {
				d := sha256.Sum256(input)
				return rsa.VerifyPSS(pub, crypto.SHA256, d[:], sig, opts) == nil
			}
		} else {
			verify = func() bool {
				d := sha256.Sum256(input)
				return rsa.VerifyPKCS1v15(pub, crypto.SHA256, d[:], sig) == nil
			}
		}
	case *ecdsa.PublicKey:
		verify = func() bool {
			d := sha256.Sum256(input)
			r, s := new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])
			return ecdsa.Verify(pub, d[:], r, s)
		}
	case ed25519.PublicKey:
		verify = func() bool { return ed25519.Verify(pub, input, sig) }
	}
	if !verify() {
		b.Fatal("raw verify failed")
	}
	return verify
}

// benchmarkRatio interleaves one raw verify and one full Verify (cache
// disabled) per iteration and reports the ratio of their median times as
// "x-raw" and the median difference as "overhead-ns". On a noisy shared
// machine this is far more stable than comparing two separate benchmarks:
// both sides see the same load, and medians ignore preemption spikes.
func benchmarkRatio(b *testing.B, bc benchCase) {
	v := staticVerifier(b, newClock(), func(c *Config) { c.Cache.MaxEntries = -1 })
	raw, verify := rawVerifier(b, bc)
	interleave(b, v, raw, verify)
}

// interleave runs one raw check and one full Verify per iteration and
// reports the ratio of their medians (x-raw) and the median overhead
// (overhead-ns).
func interleave(b *testing.B, v *Verifier, raw string, verify func() bool) {
	ctx := context.Background()
	if _, err := v.Verify(ctx, raw); err != nil {
		b.Fatal(err)
	}
	var rawNs, fullNs []time.Duration
	b.ResetTimer()
	for b.Loop() {
		t0 := time.Now()
		if !verify() {
			b.Fatal("raw verify failed")
		}
		t1 := time.Now()
		if _, err := v.Verify(ctx, raw); err != nil {
			b.Fatal(err)
		}
		t2 := time.Now()
		rawNs = append(rawNs, t1.Sub(t0))
		fullNs = append(fullNs, t2.Sub(t1))
	}
	r, f := median(rawNs), median(fullNs)
	b.ReportMetric(float64(f)/float64(r), "x-raw")
	b.ReportMetric(float64(f-r), "overhead-ns")
}

func median(d []time.Duration) time.Duration {
	slices.Sort(d)
	return d[len(d)/2]
}

func BenchmarkRatioRS256(b *testing.B) { benchmarkRatio(b, benchCases[0]) }
func BenchmarkRatioPS256(b *testing.B) { benchmarkRatio(b, benchCases[1]) }
func BenchmarkRatioES256(b *testing.B) { benchmarkRatio(b, benchCases[2]) }
func BenchmarkRatioEdDSA(b *testing.B) { benchmarkRatio(b, benchCases[3]) }

func BenchmarkVerifyRS256(b *testing.B) { benchmarkVerify(b, benchCases[0]) }
func BenchmarkRawRS256(b *testing.B)    { benchmarkRaw(b, benchCases[0]) }
func BenchmarkVerifyPS256(b *testing.B) { benchmarkVerify(b, benchCases[1]) }
func BenchmarkRawPS256(b *testing.B)    { benchmarkRaw(b, benchCases[1]) }
func BenchmarkVerifyES256(b *testing.B) { benchmarkVerify(b, benchCases[2]) }
func BenchmarkRawES256(b *testing.B)    { benchmarkRaw(b, benchCases[2]) }
func BenchmarkVerifyEdDSA(b *testing.B) { benchmarkVerify(b, benchCases[3]) }
func BenchmarkRawEdDSA(b *testing.B)    { benchmarkRaw(b, benchCases[3]) }

// BenchmarkVerifyCached is a repeated valid token served from the
// verified-token cache (time claims re-checked).
func BenchmarkVerifyCached(b *testing.B) {
	v := staticVerifier(b, newClock(), nil)
	raw, _ := benchToken(b, benchCases[0])
	ctx := context.Background()
	if _, err := v.Verify(ctx, raw); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := v.Verify(ctx, raw); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyCachedDiscovery is BenchmarkVerifyCached for an issuer
// whose keys come from OIDC discovery (an IssuerConfig with Issuer only):
// every hit asks the discovered key set whether the key is still current.
func BenchmarkVerifyCachedDiscovery(b *testing.B) {
	p := newIDP(b, "/bench")
	k := key(b, jose.RS256, "a")
	p.setJWKS(jwksOf(b, k, "rs", jose.RS256))
	v, err := New(context.Background(), Config{Issuers: []IssuerConfig{{Issuer: p.issuer}}, Audience: []string{testAud}, Now: newClock().Now})
	if err != nil {
		b.Fatal(err)
	}
	c := benchClaims()
	c["iss"] = p.issuer
	raw := sign(b, k, jose.RS256, "rs", c)
	ctx := context.Background()
	if _, err := v.Verify(ctx, raw); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := v.Verify(ctx, raw); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyMalformed is the cost of refusing a token that fails the
// pre-parse (whitespace inside), which must stay far below a signature check.
func BenchmarkVerifyMalformed(b *testing.B) {
	v := staticVerifier(b, newClock(), func(c *Config) { c.Cache.MaxEntries = -1 })
	raw, _ := benchToken(b, benchCases[0])
	raw = raw[:100] + " " + raw[100:]
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := v.Verify(ctx, raw); err == nil {
			b.Fatal("accepted")
		}
	}
}

// sizedToken returns a token of at least size bytes (the smallest such):
// benchClaims with a "groups" array grown to reach it (the shape that makes
// real tokens big).
func sizedToken(b *testing.B, bc benchCase, k crypto.Signer, size int) string {
	c := benchClaims()
	delete(c, "scope")
	groups := []string{}
	c["groups"] = groups
	for i := 0; ; i++ {
		raw := sign(b, k, bc.alg, bc.kid, c)
		if len(raw) >= size {
			return raw
		}
		groups = append(groups, fmt.Sprintf("team-%04d-readers", i))
		c["groups"] = groups
	}
}

// BenchmarkTokenSize is targets P1/P2 as a curve: for tokens of 0.5 to
// 8 KiB it interleaves the raw signature check and a full Verify (cache
// disabled) on the same token and reports the median overhead
// (overhead-ns) and ratio (x-raw). The overhead's growth per KiB is the
// slope: (overhead at 8 KiB - overhead at 0.5 KiB) / 7.5.
func BenchmarkTokenSize(b *testing.B) {
	for _, bc := range []benchCase{benchCases[0], benchCases[2], benchCases[3]} {
		for _, size := range []int{512, 1024, 2048, 4096, 8192} {
			b.Run(fmt.Sprintf("%s/%dB", bc.alg, size), func(b *testing.B) {
				k := key(b, bc.alg, "a")
				raw := sizedToken(b, bc, k, size)
				v := staticVerifier(b, newClock(), func(c *Config) {
					c.Cache.MaxEntries = -1
					c.MaxTokenBytes = 16 << 10
				})
				interleave(b, v, raw, rawCheck(b, bc, k, raw))
				b.ReportMetric(float64(len(raw)), "token-bytes")
			})
		}
	}
}

// BenchmarkNoCrypto is the part of a new-token Verify this package adds to
// the signature check, without the check itself: compact parse, the strict
// payload pass, issuer selection and the claims checks, for the token sizes
// of BenchmarkTokenSize. A diagnostic for the P2 slope: it has no crypto to
// hide in, so it is steadier than the interleaved ratio on a loaded machine
// (median-ns is the median of the per-call times). One Verify first, as in
// BenchmarkTokenSize, so that the issuer's header is known (HeaderCache).
func BenchmarkNoCrypto(b *testing.B) {
	bc := benchCases[3]
	for _, size := range []int{512, 1024, 2048, 4096, 8192} {
		b.Run(fmt.Sprintf("%dB", size), func(b *testing.B) {
			k := key(b, bc.alg, "a")
			raw := sizedToken(b, bc, k, size)
			clk := newClock()
			v := staticVerifier(b, clk, func(c *Config) { c.Cache.MaxEntries = -1; c.MaxTokenBytes = 16 << 10 })
			if _, err := v.Verify(context.Background(), raw); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			var ns []time.Duration
			for b.Loop() {
				t0 := time.Now()
				var tok jose.Token
				rc, err := v.parse(&tok, raw)
				if err != nil {
					b.Fatal(err)
				}
				iss, is, err := v.selectIssuer(rc)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := v.checkClaims(is, &tok, iss, rc, clk.Now()); err != nil {
					b.Fatal(err)
				}
				ns = append(ns, time.Since(t0))
			}
			b.ReportMetric(float64(median(ns)), "median-ns")
			b.ReportMetric(float64(len(raw)), "token-bytes")
		})
	}
}

// BenchmarkTokenSlope is target P2 as one number per algorithm: each
// iteration interleaves the raw check and a full Verify (cache disabled) of
// a ~0.5 KiB and an ~8 KiB token, and reports the growth of the median
// overhead per KiB of token (us-per-KiB) and the two overheads.
func BenchmarkTokenSlope(b *testing.B) {
	for _, bc := range []benchCase{benchCases[0], benchCases[2], benchCases[3]} {
		b.Run(bc.alg, func(b *testing.B) {
			k := key(b, bc.alg, "a")
			v := staticVerifier(b, newClock(), func(c *Config) {
				c.Cache.MaxEntries = -1
				c.MaxTokenBytes = 16 << 10
			})
			ctx := context.Background()
			small, large := sizedToken(b, bc, k, 512), sizedToken(b, bc, k, 8192)
			rawS, rawL := rawCheck(b, bc, k, small), rawCheck(b, bc, k, large)
			var ovS, ovL []time.Duration
			timed := func(raw func() bool, tok string) time.Duration {
				t0 := time.Now()
				if !raw() {
					b.Fatal("raw verify failed")
				}
				t1 := time.Now()
				if _, err := v.Verify(ctx, tok); err != nil {
					b.Fatal(err)
				}
				return time.Since(t1) - t1.Sub(t0)
			}
			for b.Loop() {
				ovS = append(ovS, timed(rawS, small))
				ovL = append(ovL, timed(rawL, large))
			}
			s, l := median(ovS), median(ovL)
			b.ReportMetric(float64(l-s)/1e3/(float64(len(large)-len(small))/1024), "us-per-KiB")
			b.ReportMetric(float64(s), "overhead-small-ns")
			b.ReportMetric(float64(l), "overhead-large-ns")
		})
	}
}
