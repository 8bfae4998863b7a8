package authserver

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/mcpauthz/mcpauthz/authserver/replay"
	"github.com/mcpauthz/mcpauthz/internal/testkit"
)

// TestCodeKeyRotation walks the rotation of docs/deployment.md ("Rotating
// the code key") on replicas sharing a replay store: codes sealed by a
// replica at any step are redeemed by a replica at the next step (the
// rolling window), a code whose key was removed is refused with an
// "unknown key id" in the log, and so is a code under a key no replica
// ever had.
func TestCodeKeyRotation(t *testing.T) {
	t.Parallel()
	oldKey, newKey, stranger := testCodeKey(1), testCodeKey(2), testCodeKey(3)
	shared, err := replay.NewMemory(replay.MemoryConfig{})
	if err != nil {
		t.Fatal(err)
	}
	replica := func(current []byte, previous ...[]byte) *env {
		return newEnv(t, func(c *Config) {
			brokerConfig(c)
			c.Broker.CodeKey, c.Broker.PreviousCodeKeys = current, previous
			c.ReplayStore = shared
		})
	}
	var (
		before   = replica(oldKey)         // step 0: [old]
		publish  = replica(oldKey, newKey) // step 1: [old, new]: new is known, old seals
		switched = replica(newKey, oldKey) // step 2: [new, old]: new seals, old opens
		retired  = replica(newKey)         // step 3: [new]
		foreign  = replica(stranger)       // a key no replica has
		n        = 0
	)
	seal := func(e *env) string {
		n++
		code, err := e.s.broker.codes.seal(&codeData{
			ID: "ring-" + string(rune('a'+n)), Exp: e.clock.Now().Add(time.Minute).Unix(), ClientID: "native",
			Redirect: "http://127.0.0.1/cb", Challenge: pkceS256(strings.Repeat("v", 43)), Resource: testMCP,
			Scopes: []string{"mcp:tools"}, Subject: "dave",
		})
		if err != nil {
			t.Fatal(err)
		}
		return code
	}
	redeem := func(e *env, code string) int {
		body := form("grant_type", "authorization_code", "code", code, "redirect_uri", "http://127.0.0.1/cb",
			"code_verifier", strings.Repeat("v", 43), "client_id", "native")
		return decodeResult(t, e.do(req{method: "POST", target: "/token", body: body,
			headers: map[string]string{"Content-Type": "application/x-www-form-urlencoded"}})).status
	}
	tests := []struct {
		name       string
		by, at     *env
		want       int
		unknownKID bool
	}{
		{"step 0 code, step 1 replica", before, publish, 200, false},
		{"step 1 code, step 2 replica", publish, switched, 200, false},
		{"step 2 code, step 1 replica (rolling window)", switched, publish, 200, false},
		{"step 2 code, step 3 replica", switched, retired, 200, false},
		{"step 1 code, step 3 replica (old key removed)", publish, retired, 400, true},
		{"step 0 code, step 0 replica after rotation", before, before, 200, false},
		{"foreign key", foreign, switched, 400, true},
		{"step 3 code, step 0 replica (new key never published)", retired, before, 400, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code := seal(tc.by)
			if got := redeem(tc.at, code); got != tc.want {
				t.Fatalf("status %d, want %d", got, tc.want)
			}
			if got := strings.Contains(tc.at.logs.String(), "unknown key id"); tc.unknownKID && !got {
				t.Errorf("the log does not say the key id is unknown:\n%s", tc.at.logs.String())
			}
		})
	}
}

// TestCodeKeyRingSealers: login cookies and consent forms follow the ring
// like codes; a value without a key id (sealed before key ids), with a key
// id swapped for another ring key's, or with a malformed id is refused.
func TestCodeKeyRingSealers(t *testing.T) {
	t.Parallel()
	a, b := testCodeKey(1), testCodeKey(2)
	var old, rotating, rotated broker
	for _, k := range []struct {
		br   *broker
		keys [][]byte
	}{{&old, [][]byte{a}}, {&rotating, [][]byte{b, a}}, {&rotated, [][]byte{b}}} {
		if err := k.br.setKeys(k.keys[0], k.keys[1:]...); err != nil {
			t.Fatal(err)
		}
	}
	login := &loginState{ID: "l1", Exp: 1 << 40}
	cookie, err := old.logins.seal(login)
	if err != nil {
		t.Fatal(err)
	}
	var got loginState
	if err := rotating.logins.open(cookie, &got); err != nil || got.ID != "l1" {
		t.Fatalf("old cookie during the overlap: %v", err)
	}
	if err := rotated.logins.open(cookie, &got); !errors.Is(err, errUnknownKeyID) {
		t.Fatalf("old cookie after removal: %v", err)
	}
	form, err := rotating.forms.seal(&consentState{Login: "l1", Subject: "dave"})
	if err != nil {
		t.Fatal(err)
	}
	var cs consentState
	if err := rotated.forms.open(form, &cs); err != nil || cs.Subject != "dave" {
		t.Fatalf("form sealed with the new key: %v", err)
	}
	if err := old.forms.open(form, &cs); !errors.Is(err, errUnknownKeyID) {
		t.Fatalf("form under a key the replica lacks: %v", err)
	}
	idA, idB := keyID(a), keyID(b)
	if !strings.HasPrefix(cookie, idA+".") || len(idA) != keyIDLen || idA == idB {
		t.Fatalf("key ids %q %q, cookie %q", idA, idB, cookie[:12])
	}
	_, body, _ := strings.Cut(cookie, ".")
	for name, v := range map[string]string{
		"no key id":      body,
		"swapped key id": idB + "." + body,
		"short key id":   idA[:7] + "." + body,
		"empty key id":   "." + body,
		"two dots":       idA + ".." + body,
		"id only":        idA + ".",
	} {
		if err := rotating.logins.open(v, &got); !errors.Is(err, errSealed) {
			t.Errorf("%s: opened (%v)", name, err)
		}
	}
}

// TestCodeKeyRingConfig: the ring's limits and the file's keys.
func TestCodeKeyRingConfig(t *testing.T) {
	t.Parallel()
	k := func(b byte) []byte { h := sha256.Sum256([]byte{b}); return h[:] }
	tests := []struct {
		name     string
		current  []byte
		previous [][]byte
		want     string
	}{
		{"previous without current", nil, [][]byte{k(1)}, "broker.previous_code_keys: need a current code_key"},
		{"too many", k(1), [][]byte{k(2), k(3), k(4), k(5)}, "at most 3 keys"},
		{"short previous", k(1), [][]byte{k(2)[:16]}, "previous key 0: must be 32 bytes"},
		{"repeated", k(1), [][]byte{k(2), k(1)}, "key 2 repeats an earlier key"},
		{"ok", k(1), [][]byte{k(2), k(3)}, ""},
		// Keys that are not random bytes (before: all accepted).
		{"all zero", make([]byte, 32), nil, "broker.code_key: is not random (1 distinct byte values)"},
		{"repeated byte", bytes.Repeat([]byte{7}, 32), nil, "is not random"},
		{"short pattern", bytes.Repeat([]byte{1, 2, 3, 4, 5, 6, 7, 8}, 4), nil, "is not random (8 distinct"},
		{"password", []byte("correct-horse-battery-staple-123"), nil, "broker.code_key: is printable text"},
		{"weak previous", k(1), [][]byte{k(2), []byte("0123456789abcdef0123456789abcdef")}, "previous key 1: is printable text"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := baseConfig(t, testkit.NewClock(time.Unix(1_800_000_000, 0)))
			brokerConfig(&cfg)
			cfg.Broker.CodeKey, cfg.Broker.PreviousCodeKeys = tc.current, tc.previous
			_, err := New(cfg)
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
}

func TestCodeKeyRingFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cur, old := sha256.Sum256([]byte("current")), sha256.Sum256([]byte("old"))
	keyB64, oldB64 := base64.StdEncoding.EncodeToString(cur[:]), base64.StdEncoding.EncodeToString(old[:])
	writeFile(t, dir, "old.key", oldB64+"\n")
	env := func(k string) (string, bool) {
		v, ok := map[string]string{"CODE_KEY": keyB64, "OLD_CODE_KEY": oldB64, "EMPTY": " "}[k]
		return v, ok
	}
	base := strings.Replace(storesDoc, "  max_consents: 7\n", "  code_key: ${CODE_KEY}\n", 1)
	tests := []struct{ name, add, want string }{
		{"from the environment", "  previous_code_keys: [\"${OLD_CODE_KEY}\"]\n", ""},
		{"from a file", "  previous_code_key_files: [old.key]\n", ""},
		{"literal", "  previous_code_keys: [\"" + oldB64 + "\"]\n", "broker.previous_code_keys[0]: must be exactly ${NAME}"},
		{"empty variable", "  previous_code_keys: [\"${EMPTY}\"]\n", "broker.previous_code_keys[0]: the environment variable ${EMPTY} is empty"},
		{"both", "  previous_code_keys: [\"${OLD_CODE_KEY}\"]\n  previous_code_key_files: [old.key]\n", "not both"},
		{"missing file", "  previous_code_key_files: [nope.key]\n", "broker.previous_code_key_files[0]: cannot be read"},
		{"short", "  previous_code_keys: [\"${CODE_KEY}\"]\n  code_key_file: old.key\n", "code_key or code_key_file"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			doc := strings.Replace(base, "  code_key: ${CODE_KEY}\n", "  code_key: ${CODE_KEY}\n"+tc.add, 1)
			cfg, err := parseConfig([]byte(doc), dir, env)
			if tc.want != "" {
				if err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("err = %v, want %q", err, tc.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(cfg.Broker.PreviousCodeKeys) != 1 || !bytes.Equal(cfg.Broker.PreviousCodeKeys[0], old[:]) {
				t.Fatalf("previous keys %q", cfg.Broker.PreviousCodeKeys)
			}
			if _, err := New(cfg); err != nil {
				t.Fatal(err)
			}
		})
	}
}
