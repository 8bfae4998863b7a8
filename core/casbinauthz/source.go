package casbinauthz

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/mcpauthz/mcpauthz/internal/httpx"
)

// Source provides policy text: Casbin CSV lines ("p, sub, obj, act, eft").
// Implementations must be safe for concurrent use. Database- or
// watcher-backed sources implement it too.
type Source interface {
	Load(ctx context.Context) ([]byte, error)
}

// Stamper is optionally implemented by a Source that can tell cheaply
// whether its content may have changed (for files: size and modification
// time). Watch skips Load while the stamp is unchanged, re-reading anyway
// every tenth poll.
type Stamper interface {
	Stamp(ctx context.Context) (string, error)
}

// StringSource is a fixed policy text.
type StringSource string

// Load returns the text.
func (s StringSource) Load(context.Context) ([]byte, error) { return []byte(s), nil }

// FileSource reads one or more policy files and concatenates them in order.
// A missing or unreadable file fails the whole load (the last good policy
// stays).
type FileSource struct {
	// Paths are the policy files. REQUIRED.
	Paths []string
	// MaxBytes caps each file. OPTIONAL; default DefaultMaxPolicy.
	MaxBytes int64
	// RequireSeal refuses a file that carries no seal (a "# sha256:" last
	// line or a "<path>.sha256" sidecar; see [SealTrailer] and
	// `mcpauthz lint -seal`). Recommended for GitOps: a file is then loaded
	// only when it is complete and exactly what was sealed, however slowly
	// it is written. OPTIONAL; default false. A seal that is present is
	// verified either way: a mismatch refuses the load (ErrSeal).
	RequireSeal bool
}

// Load reads every file.
func (f FileSource) Load(ctx context.Context) ([]byte, error) {
	if len(f.Paths) == 0 {
		return nil, errors.New("casbinauthz: FileSource has no paths")
	}
	limit := f.MaxBytes
	if limit <= 0 {
		limit = DefaultMaxPolicy
	}
	var out []byte
	for _, p := range f.Paths {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		b, err := readCapped(p, limit)
		if err != nil {
			return nil, err
		}
		if err := CheckSeal(p, b, f.RequireSeal); err != nil {
			return nil, err
		}
		out = append(out, b...)
		if len(b) > 0 && b[len(b)-1] != '\n' {
			out = append(out, '\n')
		}
	}
	return out, nil
}

func readCapped(path string, limit int64) ([]byte, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("casbinauthz: policy file: %w", err)
	}
	defer fh.Close()
	b, err := httpx.ReadBounded(fh, limit)
	if err != nil {
		return nil, fmt.Errorf("casbinauthz: policy file %s: %w", path, err)
	}
	return b, nil
}

// Stamp returns the size and modification time of every file and of its
// sidecar seal.
func (f FileSource) Stamp(context.Context) (string, error) {
	var b strings.Builder
	for _, p := range f.Paths {
		fi, err := os.Stat(p)
		if err != nil {
			return "", fmt.Errorf("casbinauthz: policy file: %w", err)
		}
		b.WriteString(strconv.FormatInt(fi.Size(), 10))
		b.WriteByte('@')
		b.WriteString(strconv.FormatInt(fi.ModTime().UnixNano(), 10))
		if si, err := os.Stat(p + SidecarSuffix); err == nil {
			b.WriteString("+" + strconv.FormatInt(si.Size(), 10) + "@" + strconv.FormatInt(si.ModTime().UnixNano(), 10))
		}
		b.WriteByte(';')
	}
	return b.String(), nil
}
