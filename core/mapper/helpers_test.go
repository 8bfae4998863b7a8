package mapper

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/mcpauthz/mcpauthz/core"
	"github.com/mcpauthz/mcpauthz/internal/jsonscan"
)

// decodeClaims builds verified-looking claims from JSON the way a verifier
// does: strict validation, numbers as json.Number, typed fields filled from
// the registered claims when they are strings.
func decodeClaims(data []byte) (*core.Claims, error) {
	if err := jsonscan.Validate(data, jsonscan.Options{}); err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var raw map[string]any
	if err := dec.Decode(&raw); err != nil {
		return nil, err
	}
	if raw == nil {
		return nil, errors.New("not an object")
	}
	c := &core.Claims{Raw: rawOf(raw)}
	c.Issuer, _ = raw["iss"].(string)
	c.Subject, _ = raw["sub"].(string)
	c.ClientID, _ = raw["client_id"].(string)
	return c, nil
}

func mustClaims(t testing.TB, js string) *core.Claims {
	t.Helper()
	c, err := decodeClaims([]byte(js))
	if err != nil {
		t.Fatalf("bad test claims %s: %v", js, err)
	}
	return c
}

// mapCase is one table row: claims in, expected principal (or error) out.
type mapCase struct {
	name    string
	claims  string
	wantErr bool
	kind    core.PrincipalKind
	id      string
	sub     string
	client  string
	tenant  string
	scopes  []string
	groups  []string
	roles   []string
	attrs   map[string]any
}

func runCases(t *testing.T, m core.ClaimMapper, cases []mapCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := mustClaims(t, tc.claims)
			p, err := m.MapClaims(context.Background(), c)
			if tc.wantErr {
				if err == nil {
					t.Fatalf("MapClaims succeeded with %v, want error", p)
				}
				if !errors.Is(err, core.ErrMapping) {
					t.Fatalf("error %v does not wrap core.ErrMapping", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("MapClaims: %v", err)
			}
			if p.Kind != tc.kind {
				t.Errorf("Kind = %q, want %q", p.Kind, tc.kind)
			}
			if tc.id != "" && p.ID() != tc.id {
				t.Errorf("ID() = %q, want %q", p.ID(), tc.id)
			}
			if p.Subject != tc.sub {
				t.Errorf("Subject = %q, want %q", p.Subject, tc.sub)
			}
			if p.ClientID != tc.client {
				t.Errorf("ClientID = %q, want %q", p.ClientID, tc.client)
			}
			if p.Tenant != tc.tenant {
				t.Errorf("Tenant = %q, want %q", p.Tenant, tc.tenant)
			}
			eqList(t, "Scopes", p.Scopes, tc.scopes)
			eqList(t, "Groups", p.Groups, tc.groups)
			eqList(t, "Roles", p.Roles, tc.roles)
			for k, want := range tc.attrs {
				got, ok := p.Attributes[k]
				if !ok {
					t.Errorf("attribute %q missing", k)
					continue
				}
				gb, _ := json.Marshal(got)
				wb, _ := json.Marshal(want)
				if !bytes.Equal(gb, wb) {
					t.Errorf("attribute %q = %s, want %s", k, gb, wb)
				}
			}
			if p.Claims == nil {
				t.Error("Principal.Claims is nil")
			}
		})
	}
}

func eqList(t *testing.T, name string, got, want []string) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s = %q, want %q", name, got, want)
		return
	}
	for i := range got {
		if got[i] != want[i] {
			t.Errorf("%s = %q, want %q", name, got, want)
			return
		}
	}
}

// rawOf encodes test claims (RawClaimsFromMap); it panics on a value
// encoding/json cannot encode.
func rawOf(m map[string]any) core.RawClaims {
	r, err := core.RawClaimsFromMap(m)
	if err != nil {
		panic(err)
	}
	return r
}
