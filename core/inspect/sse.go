package inspect

import (
	"bytes"
	"errors"
	"fmt"
	"io"
)

// DefaultMaxEventBytes bounds one buffered SSE event when
// SSEFilter.MaxEventBytes is zero.
const DefaultMaxEventBytes = 16 << 20

// ErrEventTooLarge is returned by SSEFilter.Write when one event exceeds the
// limit; the stream must be aborted.
var ErrEventTooLarge = errors.New("inspect: SSE event too large")

// SSEFilter filters a text/event-stream carrying the response to a list
// request. It parses events incrementally (LF, CRLF or CR line endings,
// multi-line data fields, comments, id/event/retry fields), and writes each
// event to the underlying writer as soon as its terminating blank line has
// been read:
//
//   - events without data, and events whose data is a server request or
//     notification, an error response, or a response with another id, are
//     written byte-for-byte;
//   - the list response is rewritten as by Filter.JSON: its non-data fields
//     are kept in order, then the filtered JSON follows as data lines;
//   - fail closed: an event whose data is not strict JSON, or a list response
//     that cannot be filtered, is dropped and replaced by an event carrying a
//     JSON-RPC -32603 error response (with Filter.RequestID as id, or null).
//
// An incomplete event at Close is dropped (SSE clients discard it too).
// SSEFilter is not safe for concurrent use.
type SSEFilter struct {
	w io.Writer
	f Filter
	// MaxEventBytes bounds one buffered event. OPTIONAL; default
	// DefaultMaxEventBytes.
	MaxEventBytes int

	raw     []byte // complete lines of the current event, with terminators
	line    []byte // the current incomplete line
	data    []byte // the data field being accumulated
	hasData bool
	lastCR  bool // the last byte seen was CR ending a line
	rewrote bool // the last dispatched event was rewritten (its CRLF is ours)
	err     error
}

// NewSSEFilter returns an SSEFilter writing to w, filtering list as
// FilterJSON does.
func NewSSEFilter(w io.Writer, list string, allow Allow, markPrivate bool) *SSEFilter {
	return Filter{List: list, Allow: allow, MarkPrivate: markPrivate}.NewSSE(w)
}

// NewSSE returns an SSEFilter that applies f to the stream written to w.
func (f Filter) NewSSE(w io.Writer) *SSEFilter {
	return &SSEFilter{w: w, f: f}
}

// Write consumes stream bytes; complete events are forwarded before it
// returns. It reports len(p) unless the underlying writer failed or an event
// exceeded MaxEventBytes.
func (s *SSEFilter) Write(p []byte) (int, error) {
	if s.err != nil {
		return 0, s.err
	}
	max := s.MaxEventBytes
	if max <= 0 {
		max = DefaultMaxEventBytes
	}
	n := len(p)
	for len(p) > 0 {
		if s.lastCR {
			s.lastCR = false
			if p[0] == '\n' {
				// Second half of a CRLF whose CR ended a line.
				if len(s.raw) == 0 && len(s.line) == 0 {
					// The CR ended an event: pass the LF on unless the
					// event was rewritten with its own terminator.
					if !s.rewrote {
						if err := s.write([]byte{'\n'}); err != nil {
							return 0, err
						}
					}
				} else {
					s.raw = append(s.raw, '\n')
				}
				p = p[1:]
				continue
			}
		}
		k := bytes.IndexAny(p, "\r\n")
		if k < 0 {
			s.line = append(s.line, p...)
			p = nil
		} else {
			s.line = append(s.line, p[:k]...)
			s.raw = append(s.raw, s.line...)
			s.raw = append(s.raw, p[k])
			s.lastCR = p[k] == '\r'
			p = p[k+1:]
			if err := s.endLine(); err != nil {
				return 0, err
			}
			s.line = s.line[:0]
		}
		if len(s.raw)+len(s.line) > max {
			s.err = ErrEventTooLarge
			return 0, s.err
		}
	}
	return n, nil
}

func (s *SSEFilter) write(b []byte) error {
	if _, err := s.w.Write(b); err != nil {
		s.err = err
		return err
	}
	return nil
}

// endLine processes the complete line in s.line.
func (s *SSEFilter) endLine() error {
	line := s.line
	if len(line) == 0 {
		return s.dispatch()
	}
	if line[0] == ':' {
		return nil // comment
	}
	name, value := line, []byte(nil)
	if c := bytes.IndexByte(line, ':'); c >= 0 {
		name, value = line[:c], line[c+1:]
		if len(value) > 0 && value[0] == ' ' {
			value = value[1:]
		}
	}
	if string(name) == "data" {
		s.data = append(s.data, value...)
		s.data = append(s.data, '\n')
		s.hasData = true
	}
	return nil
}

// dispatch handles a complete event (s.raw ends with its blank line).
func (s *SSEFilter) dispatch() error {
	defer func() {
		s.raw, s.data, s.hasData = s.raw[:0], s.data[:0], false
	}()
	s.rewrote = false
	if !s.hasData {
		return s.write(s.raw)
	}
	data := s.data[:len(s.data)-1] // drop the last LF
	if len(bytes.TrimSpace(data)) == 0 {
		return s.write(s.raw)
	}
	out, changed, err := s.f.apply(data)
	if err != nil {
		s.rewrote = true
		return s.write(s.event(nil, s.f.errorBody()))
	}
	if !changed {
		return s.write(s.raw)
	}
	s.rewrote = true
	return s.write(s.event(s.raw, out))
}

// event builds an event from the non-data fields and comments of raw,
// followed by data lines carrying payload.
func (s *SSEFilter) event(raw, payload []byte) []byte {
	var out []byte
	for len(raw) > 0 {
		k := bytes.IndexAny(raw, "\r\n")
		if k < 0 {
			k = len(raw)
		}
		line := raw[:k]
		raw = raw[k:]
		if len(raw) > 0 {
			if raw[0] == '\r' && len(raw) > 1 && raw[1] == '\n' {
				raw = raw[2:]
			} else {
				raw = raw[1:]
			}
		}
		if len(line) == 0 || bytes.HasPrefix(line, []byte("data:")) || string(line) == "data" {
			continue
		}
		out = append(out, line...)
		out = append(out, '\n')
	}
	for _, l := range bytes.Split(payload, []byte("\n")) {
		out = append(out, "data: "...)
		out = append(out, l...)
		out = append(out, '\n')
	}
	return append(out, '\n')
}

// Flush flushes the underlying writer when it has a Flush() or Flush() error
// method (http.Flusher). Only complete
// events are ever forwarded; a partial event stays buffered.
func (s *SSEFilter) Flush() error {
	if s.err != nil {
		return s.err
	}
	switch fl := s.w.(type) {
	case interface{ Flush() error }:
		return fl.Flush()
	case interface{ Flush() }:
		fl.Flush()
	}
	return nil
}

// Close drops an incomplete trailing event and reports any earlier error.
// It does not close the underlying writer.
func (s *SSEFilter) Close() error {
	pending := len(s.raw) > 0 || len(s.line) > 0
	s.raw, s.line, s.data, s.hasData = nil, nil, nil, false
	if s.err != nil {
		return s.err
	}
	if pending {
		return fmt.Errorf("inspect: SSE stream ended inside an event (dropped)")
	}
	return nil
}
