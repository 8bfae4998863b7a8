package core

import (
	"context"
	"slices"
	"testing"
	"unsafe"
)

type ctxKey string

// TestResultContext: the context from Result.Context carries the principal
// like WithPrincipal, keeps the parent's values and cancellation, and a
// second call does not disturb the first context.
func TestResultContext(t *testing.T) {
	t.Parallel()
	g := newGuard(t)
	res, err := g.Check(context.Background(), post(tokAlice, toolCall("ls")))
	if err != nil {
		t.Fatal(err)
	}
	parent, cancel := context.WithCancel(context.WithValue(context.Background(), ctxKey("k"), "v"))
	ctx := res.Context(parent)
	if p, ok := PrincipalFromContext(ctx); !ok || p != res.Principal {
		t.Fatalf("PrincipalFromContext = %v, %v; want the Result's principal", p, ok)
	}
	if v := ctx.Value(ctxKey("k")); v != "v" {
		t.Errorf("parent value = %v", v)
	}
	child, cancelChild := context.WithCancel(ctx)
	defer cancelChild()

	other, cancelOther := context.WithCancel(context.Background())
	defer cancelOther()
	ctx2 := res.Context(other)
	if p, ok := PrincipalFromContext(ctx2); !ok || p != res.Principal {
		t.Fatalf("second Context: PrincipalFromContext = %v, %v", p, ok)
	}
	cancel()
	<-ctx.Done()
	<-child.Done()
	if ctx2.Err() != nil {
		t.Error("second Context was cancelled with the first parent")
	}
	if v := ctx2.Value(ctxKey("k")); v != nil {
		t.Errorf("second Context sees the first parent's value %v", v)
	}
	if p, ok := PrincipalFromContext(ctx); !ok || p != res.Principal {
		t.Error("first Context lost its principal after a second call")
	}

	var nilRes *Result
	if got := nilRes.Context(parent); got != parent {
		t.Error("nil Result: Context did not return parent")
	}
	if _, ok := PrincipalFromContext(nilRes.Context(context.Background())); ok {
		t.Error("nil Result: principal found")
	}
}

// TestResultContextNilPrincipal mirrors WithPrincipal(ctx, nil): no
// principal is found.
func TestResultContextNilPrincipal(t *testing.T) {
	t.Parallel()
	res := &Result{}
	if _, ok := PrincipalFromContext(res.Context(context.Background())); ok {
		t.Error("principal found in the context of a Result without one")
	}
}

// TestDefaultMapperScopesCopied: with the default mapper the principal's
// scopes equal the claims' scopes but share no storage with them, whether
// they fit the inline room or not, and an append never writes past them.
func TestDefaultMapperScopesCopied(t *testing.T) {
	t.Parallel()
	for _, scopes := range [][]string{nil, {"a"}, {"a", "b", "c", "d"}, {"a", "b", "c", "d", "e", "f"}} {
		claims := &Claims{Issuer: "https://idp.example", Subject: "alice", Scopes: slices.Clone(scopes)}
		g := newGuard(t, func(c *Config) {
			c.Verifier = fixedClaims{claims}
			c.Authorizer = allowAll{}
		})
		res, err := g.Check(context.Background(), post("any-token", toolCall("ls")))
		if err != nil {
			t.Fatal(err)
		}
		p := res.Principal
		if !slices.Equal(p.Scopes, scopes) || (scopes == nil) != (p.Scopes == nil) {
			t.Fatalf("Scopes = %#v, want %#v", p.Scopes, scopes)
		}
		if len(p.Scopes) > 0 {
			p.Scopes[0] = "changed"
			if claims.Scopes[0] != scopes[0] {
				t.Errorf("%d scopes: principal shares storage with the claims", len(scopes))
			}
			if cap(p.Scopes) != len(p.Scopes) {
				t.Errorf("%d scopes: cap %d > len, an append could write into shared storage", len(scopes), cap(p.Scopes))
			}
		}
		// The standalone DefaultMapper agrees with the Guard's in-place mapping.
		q, err := DefaultMapper().MapClaims(context.Background(), &Claims{Issuer: "https://idp.example", Subject: "alice", Scopes: scopes})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(q.Scopes, scopes) || q.Kind != p.Kind || q.ID() != p.ID() {
			t.Errorf("DefaultMapper = %+v, Guard mapped %+v", q, p)
		}
	}
}

// TestLookupPaths pins Claims.Lookup on dotted paths, which it walks
// without allocating. Not parallel: AllocsPerRun forbids it.
func TestLookupPaths(t *testing.T) {
	c := &Claims{Raw: rawOf(map[string]any{
		"a":   map[string]any{"b": map[string]any{"c": "deep"}, "": "empty-seg"},
		"x.y": "literal",
		"s":   "str",
	})}
	tests := []struct {
		path string
		want any
		ok   bool
	}{
		{"a.b.c", "deep", true},
		{"x.y", "literal", true},
		{"a.", "empty-seg", true},
		{"a.b.c.d", nil, false},
		{"s.t", nil, false},
		{"missing", nil, false},
		{"a..c", nil, false},
		{".a", nil, false},
		{"", nil, false},
	}
	for _, tt := range tests {
		got, ok := c.Lookup(tt.path)
		if ok != tt.ok || (ok && got != tt.want) {
			t.Errorf("Lookup(%q) = %v, %v; want %v, %v", tt.path, got, ok, tt.want, tt.ok)
		}
	}
	if n := testing.AllocsPerRun(100, func() { c.Lookup("groups"); c.Lookup("realm_access.roles") }); n != 0 {
		t.Errorf("Lookup of missing claims allocates %v times", n)
	}
}

// TestHTTPStateSize: Serve's per-request allocation (the Result, the
// request handed on with its body reader) stays within the 512-byte size
// class, the largest whose objects need no malloc header; the body's bytes
// are a pointer-free allocation of their own.
func TestHTTPStateSize(t *testing.T) {
	t.Parallel()
	if n := unsafe.Sizeof(httpState{}); n > 512 {
		t.Fatalf("httpState is %d bytes, over the 512-byte size class", n)
	}
}
