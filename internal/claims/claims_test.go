package claims

import (
	"encoding/json"
	"errors"
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestNumericDate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   any
		want time.Time
		kind error
	}{
		{json.Number("0"), time.Unix(0, 0), nil},
		{json.Number("1700000000"), time.Unix(1700000000, 0), nil},
		{json.Number("1700000000.5"), time.Unix(1700000000, 5e8), nil},
		{json.Number("1.7e9"), time.Unix(1700000000, 0), nil},
		{json.Number("253402300799"), time.Unix(MaxNumericDate, 0), nil},
		{json.Number("253402300800"), time.Time{}, ErrInvalid},
		{json.Number("-1"), time.Time{}, ErrInvalid},
		{json.Number("999999999999"), time.Time{}, ErrInvalid},
		{json.Number("9999999999999"), time.Time{}, ErrInvalid},
		{json.Number("0001700000000"), time.Unix(1700000000, 0), nil},
		{json.Number("+5"), time.Unix(5, 0), nil},
		{json.Number("12a"), time.Time{}, ErrInvalid},
		{json.Number(""), time.Time{}, ErrInvalid},
		{json.Number("1e400"), time.Time{}, ErrInvalid},
		{"1700000000", time.Time{}, ErrInvalid},
		{nil, time.Time{}, ErrInvalid},
		{float64(1), time.Time{}, ErrInvalid},
	}
	for _, tt := range tests {
		got, err := NumericDate("exp", tt.in)
		if !errors.Is(err, tt.kind) || (tt.kind == nil && err != nil) || !got.Equal(tt.want) {
			t.Errorf("NumericDate(%v) = %v, %v; want %v, %v", tt.in, got, err, tt.want, tt.kind)
		}
	}
}

// FuzzNumericDate: the digits fast path agrees with the ParseInt and
// ParseFloat reading it short-cuts.
func FuzzNumericDate(f *testing.F) {
	for _, s := range []string{"0", "1700000000", "253402300799", "253402300800", "999999999999", "0012", "+5", "-1", "1.5", "1e3", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := NumericDate("exp", json.Number(s))
		want, wantErr := refNumericDate(s)
		if (err == nil) != (wantErr == nil) || !got.Equal(want) {
			t.Fatalf("NumericDate(%q) = %v, %v; reference %v, %v", s, got, err, want, wantErr)
		}
	})
}

// refNumericDate is NumericDate without the digits fast path.
func refNumericDate(s string) (time.Time, error) {
	if i, err := strconv.ParseInt(s, 10, 64); err == nil {
		if i < 0 || i > MaxNumericDate {
			return time.Time{}, ErrInvalid
		}
		return time.Unix(i, 0), nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || f < 0 || f > MaxNumericDate {
		return time.Time{}, ErrInvalid
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9)), nil
}

func TestTimesCheck(t *testing.T) {
	t.Parallel()
	now := time.Unix(1000, 0)
	l := 30 * time.Second
	tests := []struct {
		name string
		t    Times
		kind error
	}{
		{"none", Times{}, nil},
		{"valid", Times{Expiry: now.Add(time.Minute), NotBefore: now, IssuedAt: now}, nil},
		{"expired within leeway", Times{Expiry: now.Add(-29 * time.Second)}, nil},
		{"expired at exp+leeway", Times{Expiry: now.Add(-30 * time.Second)}, ErrExpired},
		{"nbf within leeway", Times{NotBefore: now.Add(30 * time.Second)}, nil},
		{"nbf past leeway", Times{NotBefore: now.Add(31 * time.Second)}, ErrNotYetValid},
		{"iat past leeway", Times{IssuedAt: now.Add(31 * time.Second)}, ErrIssuedInFuture},
	}
	for _, tt := range tests {
		err := tt.t.Check(now, l)
		if !errors.Is(err, tt.kind) || (tt.kind == nil && err != nil) {
			t.Errorf("%s: %v, want %v", tt.name, err, tt.kind)
		}
	}
	if _, err := ReadTimes(Map{"nbf": "x"}); !errors.Is(err, ErrInvalid) {
		t.Errorf("string nbf: %v", err)
	}
	ts, err := ReadTimes(Map{"exp": json.Number("2000"), "iat": json.Number("900")})
	if err != nil || !ts.Expiry.Equal(time.Unix(2000, 0)) || !ts.NotBefore.IsZero() || !ts.IssuedAt.Equal(time.Unix(900, 0)) {
		t.Errorf("ReadTimes = %+v, %v", ts, err)
	}
}

func TestStringList(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   any
		want []string
		kind error
	}{
		{"a", []string{"a"}, nil},
		{[]any{"a", "b"}, []string{"a", "b"}, nil},
		{"", nil, ErrAudience},
		{[]any{}, nil, ErrAudience},
		{[]any{"a", ""}, nil, ErrAudience},
		{nil, nil, ErrInvalid},
		{[]any{"a", json.Number("1")}, nil, ErrInvalid},
		{map[string]any{}, nil, ErrInvalid},
	}
	for _, tt := range tests {
		got, err := StringList("aud", tt.in)
		if !errors.Is(err, tt.kind) || (tt.kind == nil && err != nil) || !slices.Equal(got, tt.want) {
			t.Errorf("StringList(%v) = %q, %v; want %q, %v", tt.in, got, err, tt.want, tt.kind)
		}
	}
}

func TestScopes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		m    map[string]any
		want []string
		bad  bool
	}{
		{map[string]any{}, nil, false},
		{map[string]any{"scope": " a  b "}, []string{"a", "b"}, false},
		{map[string]any{"scp": []any{"a", "b c"}}, []string{"a", "b", "c"}, false},
		{map[string]any{"scope": "a", "scp": []any{"z"}}, []string{"a"}, false},
		{map[string]any{"scope": json.Number("1")}, nil, true},
		{map[string]any{"scp": []any{true}}, nil, true},
	}
	for _, tt := range tests {
		got, err := TokenScopes(Map(tt.m))
		if (err != nil) != tt.bad || !slices.Equal(got, tt.want) {
			t.Errorf("TokenScopes(%v) = %q, %v", tt.m, got, err)
		}
	}
}

// TestFields: fields cuts exactly where strings.Fields cuts, on the plain
// scope text it splits itself (every length around the 8-byte steps, runs
// of spaces at either end and inside) and on the text it hands over.
func TestFields(t *testing.T) {
	t.Parallel()
	tests := []string{
		"", " ", "   ", "a", " a", "a ", "  a  b  ",
		"openid profile email tools:read tools:call resources:read prompts:get offline_access",
		"abcdefg", "abcdefgh", "abcdefghi", "abcdefgh abcdefgh", "abcdefg abcdefgh ",
		"a\tb", "a\nb", "a\vb", "a\fb", "a\rb", "abcdefgh\tb", "abcdefgh\x00", "a\x1fb", "a\x7fb",
		"a\u0085b", "a\u00a0b", "a\u3000b", "a\u2028b", "abcdefgh\u00e9 b", "a\xffb", "\xc2",
		"a\x20\x20b", strings.Repeat("x ", 100), strings.Repeat("tools:read ", 40) + "\t",
	}
	for _, s := range tests {
		if got, want := fields(s), strings.Fields(s); !slices.Equal(got, want) {
			t.Errorf("fields(%q) = %q, want %q", s, got, want)
		}
	}
}

// FuzzFields: fields agrees with strings.Fields on every input.
func FuzzFields(f *testing.F) {
	for _, s := range []string{"", "a b", " openid  profile ", "a\tb", "a\u00a0b", "abcdefgh\x1f", "abcdefgh\x80"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := fields(s), strings.Fields(s); !slices.Equal(got, want) {
			t.Fatalf("fields(%q) = %q, want %q", s, got, want)
		}
	})
}
