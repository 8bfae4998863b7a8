package jose

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"unsafe"

	"github.com/mcpauthz/mcpauthz/internal/b64"
	"github.com/mcpauthz/mcpauthz/internal/clip"
	"github.com/mcpauthz/mcpauthz/internal/jsonscan"
)

// DefaultMaxLength is the token length cap used when ParseOptions.MaxLength
// is zero.
const DefaultMaxLength = 8192

// MaxKeyIDLength is the longest "kid" accepted, in bytes.
const MaxKeyIDLength = 256

// ParseOptions controls [ParseCompact].
type ParseOptions struct {
	// MaxLength caps the raw token length in bytes. OPTIONAL; zero means
	// DefaultMaxLength (8192). The cap is checked before anything else.
	MaxLength int
	// Algorithms is the allow-list of header "alg" values. REQUIRED: an empty
	// list rejects every token. Entries that are not asymmetric algorithms
	// supported by this package ("none", HS256, ...) never match.
	Algorithms []string
	// RawPayload, when true, accepts any payload bytes (including empty),
	// for JWS-layer use. OPTIONAL; by default the payload must be a strict
	// JSON object (a JWT claims set).
	RawPayload bool
	// Headers, when set, remembers the protected headers of tokens whose
	// signature verified (see HeaderCache). OPTIONAL.
	Headers *HeaderCache
}

// ParsedHeader is the validated protected header of a compact JWS.
type ParsedHeader struct {
	Alg string // "alg", always present and allowed
	Kid string // "kid", "" when absent; at most 256 printable ASCII bytes
	Typ string // "typ" as sent, "" when absent
	// Extra holds every other member of the protected header (for example
	// x5t), decoded by jsonscan.Decode; nil when there is none.
	Extra map[string]any
}

// Token is a compact JWS that passed [ParseCompact]. Its signature has not
// been checked until [Token.Verify] returns nil.
type Token struct {
	Header  ParsedHeader
	Payload []byte // decoded payload; a strict JSON object unless RawPayload

	signingInput []byte // ASCII header "." payload
	sig          []byte
	alg          algInfo
	// claims is the payload decoded by ParseCompact's single strict pass,
	// handed out by the first Claims call (claimsTaken).
	claims      map[string]any
	claimsTaken atomic.Bool
	// headers and headerSeg: a header parsed (not found in the cache),
	// remembered by Verify once a signature verifies.
	headers   *HeaderCache
	headerSeg string
}

// forbiddenHeader lists protected-header members that are refused: no
// extension is understood (crit, b64), keys never come from the token (jwk,
// jku, x5u, x5c), no compression (zip), no nested JWTs (cty).
var forbiddenHeader = [...]string{"crit", "b64", "jwk", "jku", "x5u", "x5c", "zip", "cty"}

// ParseCompact checks everything about a compact JWS that can be checked
// without cryptography, in this order: length cap; exactly three segments of
// the base64url alphabet with non-empty header and signature; strict
// base64url decoding; strict JSON header (valid UTF-8, no duplicate or
// case-variant members); no forbidden member (crit, b64, jwk, jku, x5u, x5c,
// zip, cty); "alg" a string in opts.Algorithms and supported; "kid" absent or
// 1..256 printable ASCII bytes; "typ" absent or a string; and, unless
// opts.RawPayload, a payload that is a strict JSON object.
//
// Errors wrap ErrTooLarge, ErrMalformed, ErrForbiddenHeader or ErrAlgorithm.
// Work and allocation are bounded by the length cap.
func ParseCompact(raw string, opts ParseOptions) (*Token, error) {
	t := new(Token)
	if err := ParseCompactInto(t, raw, opts); err != nil {
		return nil, err
	}
	return t, nil
}

// ParseCompactInto is ParseCompact writing into *t (overwritten), so that a
// caller can keep the Token on its stack. On error the contents of *t are
// unspecified and must not be used.
func ParseCompactInto(t *Token, raw string, opts ParseOptions) error {
	maxLen := opts.MaxLength
	if maxLen <= 0 {
		maxLen = DefaultMaxLength
	}
	if len(raw) > maxLen {
		return fmt.Errorf("%w: %d bytes, limit %d", ErrTooLarge, len(raw), maxLen)
	}
	if len(opts.Algorithms) == 0 {
		return fmt.Errorf("%w: empty allow-list", ErrAlgorithm)
	}
	// Exactly two dots. Every other byte outside the base64url alphabet
	// (CR, LF, '=', '+', '/', spaces, '{', ...) is refused by the strict
	// decoder below (internal/b64, which unlike encoding/base64 does not
	// skip CR and LF).
	d1 := strings.IndexByte(raw, '.')
	d2 := d1 + 1 + strings.IndexByte(raw[d1+1:], '.')
	if d1 < 0 || d2 <= d1 || strings.IndexByte(raw[d2+1:], '.') >= 0 {
		return fmt.Errorf("%w: %d segments, want 3", ErrMalformed, strings.Count(raw, ".")+1)
	}
	hSeg, pSeg, sSeg := raw[:d1], raw[d1+1:d2], raw[d2+1:]
	if hSeg == "" {
		return fmt.Errorf("%w: empty header", ErrMalformed)
	}
	if sSeg == "" {
		return fmt.Errorf("%w: empty signature", ErrMalformed)
	}

	// A header remembered by opts.Headers is not decoded again; its alg
	// must still be allowed (else it is parsed, for the error).
	var known *cachedHeader
	if opts.Headers != nil {
		if e, ok := opts.Headers.lookup(hSeg); ok && slices.Contains(opts.Algorithms, e.header.Alg) {
			known = e
		}
	}
	// Two right-sized allocations: the payload alone (a caller may keep it,
	// see PayloadString), and the header and signature together. The
	// signing input is raw's own bytes, read-only (see SigningInput).
	hn, pn, sn := b64.DecodedLen(len(hSeg)), b64.DecodedLen(len(pSeg)), b64.DecodedLen(len(sSeg))
	if known != nil {
		hn = 0
	}
	payload, hs := make([]byte, pn), make([]byte, hn+sn)
	*t = Token{signingInput: unsafe.Slice(unsafe.StringData(raw), d2)}
	var hdr []byte
	var err error
	if known == nil {
		if hdr, err = decodeSeg(hs[:hn:hn], hSeg); err != nil {
			return fmt.Errorf("%w: header: %v", ErrMalformed, err)
		}
	}
	if t.Payload, err = decodeSeg(payload, pSeg); err != nil {
		return fmt.Errorf("%w: payload: %v", ErrMalformed, err)
	}
	if t.sig, err = decodeSeg(hs[hn:], sSeg); err != nil {
		return fmt.Errorf("%w: signature: %v", ErrMalformed, err)
	}

	if known != nil {
		t.Header, t.alg = known.header, known.alg
	} else {
		if err := t.parseHeader(hdr, opts.Algorithms); err != nil {
			return err
		}
		if opts.Headers != nil {
			t.headers, t.headerSeg = opts.Headers, hSeg
		}
	}
	if !opts.RawPayload {
		// One strict pass validates and decodes the claims set.
		m, err := decodeClaims(t.Payload)
		if err != nil {
			return err
		}
		t.claims = m
	}
	return nil
}

// decodeClaims decodes a payload that must be a strict JSON object.
func decodeClaims(p []byte) (map[string]any, error) {
	m, err := jsonscan.DecodeObject(p, jsonscan.Options{})
	if err != nil {
		if errors.Is(err, jsonscan.ErrSyntax) && jsonscan.Validate(p, jsonscan.Options{}) == nil {
			return nil, fmt.Errorf("%w: payload is not a JSON object", ErrMalformed)
		}
		return nil, fmt.Errorf("%w: payload: %v", ErrMalformed, err)
	}
	return m, nil
}

// parseHeader reads and checks the header.
func (t *Token) parseHeader(hdr []byte, allowed []string) error {
	alg, kid, hasAlg, hasKid, err := t.parseHeaderJSON(hdr)
	if err != nil {
		return err
	}
	if !hasAlg {
		return fmt.Errorf("%w: missing alg", ErrMalformed)
	}
	info, ok := lookupAlg(alg)
	if !ok || !slices.Contains(allowed, alg) {
		return fmt.Errorf("%w: %s", ErrAlgorithm, clip.Quote(alg, 64))
	}
	t.Header.Alg, t.alg = alg, info
	if hasKid {
		if err := checkKeyID(kid); err != nil {
			return err
		}
		t.Header.Kid = kid
	}
	return nil
}

// checkKeyID enforces 1..256 printable ASCII bytes.
func checkKeyID(kid string) error {
	if kid == "" || len(kid) > MaxKeyIDLength {
		return fmt.Errorf("%w: kid length %d", ErrMalformed, len(kid))
	}
	for i := 0; i < len(kid); i++ {
		if kid[i] < 0x20 || kid[i] > 0x7e {
			return fmt.Errorf("%w: kid has a non-printable byte", ErrMalformed)
		}
	}
	return nil
}

// SigningInput returns the ASCII bytes that were signed (header "."
// payload, both base64url). It is the memory of the string given to
// ParseCompact, which is immutable: the slice must never be modified.
func (t *Token) SigningInput() []byte { return t.signingInput }

// PayloadString returns Payload as a string sharing its memory, without a
// copy. ParseCompact allocates Payload for this token alone and never
// writes it afterwards; a caller of PayloadString must not modify Payload
// either (a string is immutable). The verifier keeps the claims text this
// way instead of copying it.
func (t *Token) PayloadString() string {
	return unsafe.String(unsafe.SliceData(t.Payload), len(t.Payload))
}

// Claims decodes the payload as a strict JSON object (see jsonscan.Decode).
// Each call returns a new map (the first one decoded by ParseCompact).
func (t *Token) Claims() (map[string]any, error) {
	if t.claims != nil && t.claimsTaken.CompareAndSwap(false, true) {
		return t.claims, nil
	}
	return decodeClaims(t.Payload)
}
