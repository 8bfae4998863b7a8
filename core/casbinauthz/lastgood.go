package casbinauthz

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mcpauthz/mcpauthz/core"
)

// DefaultLastGoodMaxAge is the default Config.LastGoodMaxAge.
const DefaultLastGoodMaxAge = 24 * time.Hour

// ErrLastGood wraps every reason a last-good policy file is refused: it
// is missing, unreadable, corrupt or incomplete (its digests do not
// match), written for another model, or older than Config.LastGoodMaxAge.
var ErrLastGood = errors.New("casbinauthz: last-good policy file refused")

// The last-good file is the policy text between a header and a seal
// trailer:
//
//	# mcpauthz last-good policy v1
//	# confirmed: <RFC 3339 time the Source last returned this policy>
//	# model-sha256: <hex SHA-256 of Config.Model>
//	# policy-sha256: <hex SHA-256 of the policy text: the Digest>
//	# policy-bytes: <length of the policy text>
//	<policy text>
//	# sha256:<hex SHA-256 of every byte above>  (the seal trailer format)
const lastGoodMagic = "# mcpauthz last-good policy v1"

// lastGoodHeader bounds the header and trailer bytes around the policy.
const lastGoodHeader = 1 << 10

// lastGoodWriteWait bounds how long a reload waits for the last-good file
// to be written; a slower write (a hung network volume, a stalled disk)
// goes on in the background, so it never holds the reload lock and later
// policy changes (a revoked rule) still apply at once.
const lastGoodWriteWait = time.Second

// lastGood is the Authorizer's last-good file state. Writes are queued
// under Authorizer.reloadMu and done by at most one writer goroutine at a
// time (the newest queued content wins); degraded is read by Ready and
// Stats.
type lastGood struct {
	path      string // "" disables
	maxAge    time.Duration
	modelHash [32]byte
	now       func() time.Time
	write     func(path string, b []byte) error // writeFileAtomic

	mu        sync.Mutex
	savedHash [32]byte
	savedAt   time.Time // the confirmed time written last
	lastErr   string    // last write error logged
	next      *lastGoodWrite
	inflight  *lastGoodWrite

	degraded atomic.Pointer[string] // why the live policy is not from the Source
	writeErr atomic.Pointer[string] // last failed write, nil after a success
}

func (lg *lastGood) init(cfg Config) error {
	if cfg.LastGoodMaxAge < 0 {
		return errors.New("casbinauthz: Config.LastGoodMaxAge must not be negative")
	}
	lg.path, lg.maxAge, lg.now, lg.write = cfg.LastGoodPath, cfg.LastGoodMaxAge, time.Now, writeFileAtomic
	if lg.maxAge == 0 {
		lg.maxAge = DefaultLastGoodMaxAge
	}
	lg.modelHash = sha256.Sum256([]byte(cfg.Model))
	return nil
}

// encodeLastGood returns the file content for text, confirmed at t.
func encodeLastGood(text []byte, h, modelHash [32]byte, t time.Time) []byte {
	var b bytes.Buffer
	b.Grow(len(text) + lastGoodHeader)
	b.WriteString(lastGoodMagic + "\n")
	b.WriteString("# confirmed: " + t.UTC().Format(time.RFC3339Nano) + "\n")
	b.WriteString("# model-sha256: " + hex.EncodeToString(modelHash[:]) + "\n")
	b.WriteString("# policy-sha256: " + hex.EncodeToString(h[:]) + "\n")
	b.WriteString("# policy-bytes: " + strconv.Itoa(len(text)) + "\n")
	b.Write(text)
	if len(text) > 0 && text[len(text)-1] != '\n' {
		b.WriteByte('\n')
	}
	// Not SealTrailer: it would replace a trailer ending the policy text
	// itself (a sealed policy file).
	sum := sha256.Sum256(b.Bytes())
	b.WriteString(SealTrailerPrefix + hex.EncodeToString(sum[:]) + "\n")
	return b.Bytes()
}

// decodeLastGood verifies a last-good file and returns its policy text and
// confirmed time. Anything but an intact file for modelHash is refused
// whole.
func decodeLastGood(b []byte, modelHash [32]byte) ([]byte, time.Time, error) {
	body, digest, ok := splitTrailer(b)
	if !ok {
		return nil, time.Time{}, errors.New("no seal trailer (incomplete file)")
	}
	if err := matchDigest(body, digest); err != nil {
		return nil, time.Time{}, err
	}
	var fields [5][]byte
	rest := body
	for i := range fields {
		nl := bytes.IndexByte(rest, '\n')
		if nl < 0 {
			return nil, time.Time{}, errors.New("truncated header")
		}
		fields[i], rest = rest[:nl], rest[nl+1:]
	}
	if string(fields[0]) != lastGoodMagic {
		return nil, time.Time{}, errors.New("not a last-good policy file (or another version)")
	}
	val := func(i int, name string) (string, error) {
		v, ok := bytes.CutPrefix(fields[i], []byte("# "+name+": "))
		if !ok {
			return "", fmt.Errorf("header line %d is not %q", i+1, name)
		}
		return string(v), nil
	}
	conf, err := val(1, "confirmed")
	if err != nil {
		return nil, time.Time{}, err
	}
	confirmed, err := time.Parse(time.RFC3339Nano, conf)
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("confirmed time: %v", err)
	}
	mh, err := val(2, "model-sha256")
	if err != nil {
		return nil, time.Time{}, err
	}
	if mh != hex.EncodeToString(modelHash[:]) {
		return nil, time.Time{}, errors.New("written for another model")
	}
	ph, err := val(3, "policy-sha256")
	if err != nil {
		return nil, time.Time{}, err
	}
	nb, err := val(4, "policy-bytes")
	if err != nil {
		return nil, time.Time{}, err
	}
	n, err := strconv.Atoi(nb)
	if err != nil || n < 0 || n > len(rest) {
		return nil, time.Time{}, fmt.Errorf("policy-bytes %q does not fit the file", nb)
	}
	text := rest[:n]
	// An unterminated policy is followed by one newline.
	if tail := rest[n:]; len(tail) != 0 && (string(tail) != "\n" || (n > 0 && text[n-1] == '\n')) {
		return nil, time.Time{}, errors.New("bytes after the policy")
	}
	sum := sha256.Sum256(text)
	if ph != hex.EncodeToString(sum[:]) {
		return nil, time.Time{}, errors.New("policy-sha256 does not match the policy")
	}
	return text, confirmed, nil
}

// writeFileAtomic writes b to path through a temporary file in the same
// directory: written, fsynced, renamed over path, and the directory
// fsynced, so a reader sees the old file or the new one, never a part.
func writeFileAtomic(path string, b []byte) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	ok := false
	defer func() {
		if !ok {
			_ = f.Close()
			_ = os.Remove(tmp)
		}
	}()
	if err := f.Chmod(0o600); err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	ok = true
	if d, err := os.Open(dir); err == nil {
		err = d.Sync()
		_ = d.Close()
		if err != nil {
			return fmt.Errorf("fsync %s: %w", dir, err)
		}
	}
	return nil
}

// confirmedLocked records that the Source returned the live policy (text,
// digest h) at loaded, the time written in the file: the Authorizer is no longer degraded, and the last-good file
// is written when the policy changed or its confirmed time is older than
// an eighth of the max age (at most an hour), so that an unchanged policy
// does not age out while its Source is healthy. A failed write is logged
// and reported in Stats.LastGoodError; it never affects the live policy.
func (a *Authorizer) confirmedLocked(text []byte, h [32]byte, now time.Time) {
	lg := &a.lg
	if d := lg.degraded.Swap(nil); d != nil {
		a.log.Warn("casbinauthz: the policy source is reached again; the policy in force now comes from it", "digest", hex.EncodeToString(h[:]))
	}
	if lg.path == "" {
		return
	}
	lg.mu.Lock()
	last := lg.next // the content the file will hold once the queue is written
	if last == nil {
		last = lg.inflight
	}
	if (last == nil && lg.savedHash == h && now.Sub(lg.savedAt) < min(lg.maxAge/8, time.Hour)) || (last != nil && last.h == h) {
		lg.mu.Unlock()
		return
	}
	w := &lastGoodWrite{b: encodeLastGood(text, h, lg.modelHash, now), h: h, at: now, done: make(chan struct{})}
	if lg.next != nil {
		close(lg.next.done) // superseded
	}
	lg.next = w
	if lg.inflight == nil {
		lg.inflight = w // claimed by the writer started here
		go a.lastGoodWriter()
	}
	lg.mu.Unlock()
	t := time.NewTimer(lastGoodWriteWait)
	defer t.Stop()
	select {
	case <-w.done:
	case <-t.C:
		msg := fmt.Sprintf("writing %s has not finished after %v; it goes on in the background", lg.path, lastGoodWriteWait)
		if prev := lg.writeErr.Swap(&msg); prev == nil || *prev != msg { // once per stall, not per poll
			a.log.Error("casbinauthz: the last-good policy file is slow to write", "path", lg.path, "waited", lastGoodWriteWait.String())
		}
	}
}

// errKind is err's message without the file names in it: the temporary
// file's name changes with every attempt, and a write that keeps failing
// the same way (a full or read-only volume) is logged once, not on every
// poll.
func errKind(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Op + ": " + pe.Err.Error()
	}
	var le *os.LinkError
	if errors.As(err, &le) {
		return le.Op + ": " + le.Err.Error()
	}
	return err.Error()
}

// errNewerOnDisk: the last-good file on disk was confirmed after the
// policy about to be written (another replica sharing the path).
var errNewerOnDisk = errors.New("casbinauthz: the last-good file is newer")

// newerOnDisk reports whether the last-good file holds an intact policy
// for this model confirmed after at: a replica whose Source lags must not
// replace it with an older policy. An unreadable or damaged file is not
// newer (it is replaced).
func (lg *lastGood) newerOnDisk(at time.Time) bool {
	b, err := readCapped(lg.path, DefaultMaxPolicy+lastGoodHeader)
	if err != nil {
		return false
	}
	_, confirmed, err := decodeLastGood(b, lg.modelHash)
	return err == nil && confirmed.After(at)
}

// staleTempAge is how old a leftover temporary file of writeFileAtomic
// must be before New removes it.
const staleTempAge = time.Minute

// removeStaleTemps removes the temporary files writeFileAtomic leaves
// behind when the process dies mid-write (".NAME.tmp-*" next to the
// last-good file, regular files older than staleTempAge); a younger one
// may belong to another replica writing now.
func (lg *lastGood) removeStaleTemps(log *slog.Logger) {
	dir, prefix := filepath.Dir(lg.path), "."+filepath.Base(lg.path)+".tmp-"
	ents, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range ents {
		if !e.Type().IsRegular() || !strings.HasPrefix(e.Name(), prefix) {
			continue
		}
		if fi, err := e.Info(); err != nil || lg.now().Sub(fi.ModTime()) < staleTempAge {
			continue
		}
		if err := os.Remove(filepath.Join(dir, e.Name())); err == nil {
			log.Info("casbinauthz: removed a leftover temporary last-good file", "path", filepath.Join(dir, e.Name()))
		}
	}
}

// lastGoodWrite is one queued write of the last-good file.
type lastGoodWrite struct {
	b    []byte
	h    [32]byte
	at   time.Time
	done chan struct{} // closed once written, failed or superseded
}

// lastGoodWriter writes the queued last-good content until none is left.
// A failed write is logged once per distinct error and reported in
// Stats.LastGoodError; it never affects the live policy.
func (a *Authorizer) lastGoodWriter() {
	lg := &a.lg
	lg.mu.Lock()
	defer lg.mu.Unlock()
	for lg.next != nil {
		w := lg.next
		lg.next, lg.inflight = nil, w
		lg.mu.Unlock()
		err := errNewerOnDisk
		if !lg.newerOnDisk(w.at) {
			err = lg.write(lg.path, w.b)
		}
		lg.mu.Lock()
		if err == errNewerOnDisk { // another replica confirmed later: its file stays
			a.log.Info("casbinauthz: the last-good policy file holds a later confirmation; not overwritten", "path", lg.path)
			err = nil
		}
		if err != nil {
			msg := err.Error()
			lg.writeErr.Store(&msg)
			if kind := errKind(err); kind != lg.lastErr {
				a.log.Error("casbinauthz: writing the last-good policy file failed", "path", lg.path, "error", msg)
				lg.lastErr = kind
			}
		} else {
			lg.savedHash, lg.savedAt, lg.lastErr = w.h, w.at, ""
			lg.writeErr.Store(nil)
		}
		close(w.done)
	}
	lg.inflight = nil
}

// bootLastGoodLocked starts from the last-good file after the first load
// from the Source failed with cause. The file must be intact, for this
// model, not older than the max age, and pass the same validation and
// canaries as any policy.
func (a *Authorizer) bootLastGoodLocked(cause error) error {
	lg := &a.lg
	b, err := readCapped(lg.path, DefaultMaxPolicy+lastGoodHeader)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrLastGood, err)
	}
	text, confirmed, err := decodeLastGood(b, lg.modelHash)
	if err != nil {
		return fmt.Errorf("%w: %s: %v", ErrLastGood, lg.path, err)
	}
	age := lg.now().Sub(confirmed)
	if age > lg.maxAge {
		return fmt.Errorf("%w: %s: confirmed %v ago, more than LastGoodMaxAge %v", ErrLastGood, lg.path, age.Round(time.Second), lg.maxAge)
	}
	if age < -time.Minute {
		return fmt.Errorf("%w: %s: confirmed in the future (%s)", ErrLastGood, lg.path, confirmed.Format(time.RFC3339))
	}
	h := sha256.Sum256(text)
	s, err := a.buildLocked(text, h)
	if err != nil {
		return fmt.Errorf("%w: %s: %w", ErrLastGood, lg.path, err)
	}
	reason := fmt.Sprintf("serving the last-good policy file %s (confirmed %s, %v ago): the policy source failed at start: %v",
		lg.path, confirmed.UTC().Format(time.RFC3339), age.Round(time.Second), cause)
	lg.degraded.Store(&reason)
	lg.mu.Lock()
	lg.savedHash, lg.savedAt = h, confirmed
	lg.mu.Unlock()
	prev := a.lastErr.Load() // the Source's failure stays in Stats.LastError
	a.swapLocked(s)
	a.lastErr.Store(prev)
	a.log.Error("casbinauthz: POLICY SOURCE UNAVAILABLE AT START; serving the last-good policy file, not ready until the source is reached",
		"path", lg.path, "digest", s.digest(), "confirmed", confirmed.UTC().Format(time.RFC3339), "age", age.Round(time.Second).String(), "error", cause.Error())
	deadline := confirmed.Add(lg.maxAge)
	time.AfterFunc(deadline.Sub(lg.now()), func() { a.expireLastGood(&reason, s, deadline) })
	return nil
}

// expireLastGood ends the use of the last-good policy s that New booted
// from (degraded for reason) once it is older than LastGoodMaxAge, if the
// Source has not been reached since: the live policy is dropped, so every
// decision fails closed with core.ErrUnavailable and Ready says why,
// until a load from the Source succeeds (Watch, SetWatcher or Reload keep
// trying). It takes no lock that a hung Source.Load could hold: the
// pointers are swapped only if they are still the boot's.
func (a *Authorizer) expireLastGood(reason *string, s *snapshot, deadline time.Time) {
	lg := &a.lg
	msg := fmt.Sprintf("the last-good policy file %s expired at %s (LastGoodMaxAge %v) and the policy source has not been reached since: "+
		"every decision fails closed until it is", lg.path, deadline.UTC().Format(time.RFC3339), lg.maxAge)
	if !lg.degraded.CompareAndSwap(reason, &msg) {
		return // the Source was reached
	}
	if !a.cur.CompareAndSwap(s, nil) {
		return // a policy from the Source is in force; its confirmation clears msg
	}
	if lg.degraded.Load() != &msg {
		a.cur.CompareAndSwap(nil, s) // the Source confirmed s meanwhile
		return
	}
	a.log.Error("casbinauthz: LAST-GOOD POLICY EXPIRED while the policy source is still unavailable; every decision now fails closed (503)",
		"path", lg.path, "expired", deadline.UTC().Format(time.RFC3339), "max_age", lg.maxAge.String())
}

// degradedErr is Ready's error while the policy comes from the last-good
// file, nil otherwise.
func (a *Authorizer) degradedErr() error {
	if d := a.lg.degraded.Load(); d != nil {
		return fmt.Errorf("%w: %s", core.ErrUnavailable, *d)
	}
	return nil
}

// lastGoodStats fills the last-good fields of st.
func (a *Authorizer) lastGoodStats(st *Stats) {
	if d := a.lg.degraded.Load(); d != nil {
		st.Degraded = *d
	}
	if e := a.lg.writeErr.Load(); e != nil {
		st.LastGoodError = *e
	}
}
