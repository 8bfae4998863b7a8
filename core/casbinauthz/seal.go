package casbinauthz

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// ErrSeal marks a policy file whose seal does not match its content, or an
// unsealed file when FileSource.RequireSeal is set. The file is not loaded.
var ErrSeal = errors.New("casbinauthz: policy seal mismatch")

// SealTrailerPrefix starts the seal trailer: the last line of a sealed
// policy is "# sha256:<64 hex digits>", the SHA-256 of every byte before
// that line. Casbin reads it as a comment.
const SealTrailerPrefix = "# sha256:"

// SidecarSuffix is appended to a policy path to name its sidecar seal,
// "policy.csv.sha256", in sha256sum format ("<hex>  policy.csv"): the
// SHA-256 of the whole policy file, so `sha256sum -c` checks it too.
const SidecarSuffix = ".sha256"

// maxSidecar bounds the bytes read from a sidecar.
const maxSidecar = 4 << 10

// SealTrailer returns policy with a seal trailer as its last line,
// replacing an existing trailer. This is what `mcpauthz lint -seal
// -seal-mode trailer` writes.
func SealTrailer(policy []byte) []byte {
	body, _, _ := splitTrailer(policy)
	out := make([]byte, 0, len(body)+len(SealTrailerPrefix)+66)
	out = append(out, body...)
	if len(out) > 0 && out[len(out)-1] != '\n' {
		out = append(out, '\n')
	}
	sum := sha256.Sum256(out)
	out = append(out, SealTrailerPrefix...)
	out = hex.AppendEncode(out, sum[:])
	return append(out, '\n')
}

// SealSidecar returns the sidecar content for a policy file named base.
func SealSidecar(policy []byte, base string) []byte {
	sum := sha256.Sum256(policy)
	return []byte(hex.EncodeToString(sum[:]) + "  " + base + "\n")
}

// splitTrailer splits a trailing seal line off policy. ok is false when
// the last non-empty line is not a trailer; bad is set when it starts like
// a trailer but is malformed.
func splitTrailer(policy []byte) (body []byte, digest []byte, ok bool) {
	end := len(policy)
	for end > 0 && (policy[end-1] == '\n' || policy[end-1] == '\r') {
		end--
	}
	start := bytes.LastIndexByte(policy[:end], '\n') + 1
	last := policy[start:end]
	if !bytes.HasPrefix(last, []byte(SealTrailerPrefix)) {
		return policy, nil, false
	}
	return policy[:start], bytes.TrimSpace(last[len(SealTrailerPrefix):]), true
}

// CheckSeal verifies every seal present for the policy file at path whose
// content is b: the trailer (digest of the bytes before it) and the sidecar
// "<path>.sha256" (digest of the whole file). With require, a file without
// any seal is refused. Errors wrap [ErrSeal]. FileSource.Load and
// `mcpauthz lint` call it.
func CheckSeal(path string, b []byte, require bool) error {
	sealed := false
	if body, digest, ok := splitTrailer(b); ok {
		sealed = true
		if err := matchDigest(body, digest); err != nil {
			return fmt.Errorf("%w: %s: trailer: %v", ErrSeal, path, err)
		}
	}
	side, err := readSidecar(path + SidecarSuffix)
	switch {
	case err == nil:
		sealed = true
		if err := matchDigest(b, side); err != nil {
			return fmt.Errorf("%w: %s: sidecar %s: %v", ErrSeal, path, filepath.Base(path+SidecarSuffix), err)
		}
	case !errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("%w: %s: %v", ErrSeal, path, err)
	}
	if require && !sealed {
		return fmt.Errorf("%w: %s has no seal (trailer %q or sidecar %s); run mcpauthz lint -seal", ErrSeal, path, SealTrailerPrefix, filepath.Base(path+SidecarSuffix))
	}
	return nil
}

func readSidecar(path string) ([]byte, error) {
	b, err := readCapped(path, maxSidecar)
	if err != nil {
		if _, statErr := os.Stat(path); errors.Is(statErr, fs.ErrNotExist) {
			return nil, fs.ErrNotExist
		}
		return nil, err
	}
	f := bytes.Fields(b)
	if len(f) == 0 {
		return nil, errors.New("empty sidecar")
	}
	return f[0], nil
}

func matchDigest(content, digest []byte) error {
	// The length first: hex.Decode writes past a short destination.
	want := make([]byte, sha256.Size)
	if len(digest) != 2*sha256.Size {
		return errors.New("malformed sha256 digest")
	}
	if n, err := hex.Decode(want, digest); err != nil || n != sha256.Size {
		return errors.New("malformed sha256 digest")
	}
	got := sha256.Sum256(content)
	if !bytes.Equal(got[:], want) {
		return fmt.Errorf("content sha256 %s does not match the seal (file incomplete, or edited without resealing)", hex.EncodeToString(got[:8]))
	}
	return nil
}
