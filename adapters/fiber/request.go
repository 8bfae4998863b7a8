package fibermcp

import (
	"bytes"
	"crypto/subtle"
	"encoding/binary"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"unsafe"

	"github.com/valyala/fasthttp"

	"github.com/mcpauthz/mcpauthz/core"
)

// fastBody reads a fasthttp request body for Check, after the token has
// been verified. fasthttp has normally buffered the body already (the slice
// is valid until the handler returns; the Guard does not retain it). A
// streamed body (Config.StreamRequestBody, which keeps fasthttp from
// reading a body before the handler runs) is read with the limit into a
// pooled buffer, growing as bytes arrive, and put back with SetBody (a copy
// into fasthttp's own pooled body buffer), so the next handler sees the
// same bytes.
type fastBody struct{ req *fasthttp.Request }

// ReadBody implements core.BodyReader.
func (f fastBody) ReadBody(max int64) ([]byte, error) {
	req := f.req
	if !req.IsBodyStream() {
		b := req.Body()
		if int64(len(b)) > max {
			return nil, core.ErrBodyTooLarge
		}
		return b, nil
	}
	scratch := getBuf()
	defer putBuf(scratch)
	if cap(*scratch) == 0 {
		*scratch = make([]byte, 0, 512)
	}
	b, err := core.ReadBody(req.BodyStream(), max, *scratch)
	if err != nil {
		return nil, err
	}
	*scratch = b
	req.SetBody(b) // a copy into fasthttp's own pooled buffer, released with the request
	return req.Body(), nil
}

// newRequest copies method, path, query and header of req into a
// core.Request, with the remote address (nil: none) as its Peer, which the
// Guard formats only where it reads it. Every string is a copy (the Guard
// may keep some, e.g. a session id), made with one allocation for all
// values; header names are canonicalised as net/http does, and Host is left
// out as in net/http. The header is visited once.
func newRequest(req *fasthttp.Request, remote net.Addr) *core.Request {
	cr, _, _ := fillRequest(&reqState{}, req, remote)
	return cr
}

// reqState holds the core.Request of one Check with its header map and the
// value slices of the usual few headers. The Guard keeps neither the
// Request nor its map (only strings, which are copies), so [New] takes it
// from reqStates and puts it back once Check has returned and a refusal
// is written.
type reqState struct {
	req  core.Request
	vals [inlineHeaders]string
	hdr  http.Header
	tok  internedValue // kept across requests: see intern
	// shape lists the header names of the last request in order, when
	// each came once and hdr maps exactly these names, name i to
	// vals[i:i+1:i+1]; nil otherwise. A request with the same names in the
	// same order (a client sends the same header fields every time) then
	// only writes vals: hdr already holds the right slices.
	shape []string
	names [inlineHeaders]string // shape's storage
	// fields and text are fillRequest's scratch, kept with the state so
	// that no request zeroes its own; reset empties the nfields it used.
	fields  [inlineHeaders]field
	nfields int
	text    [textScratch]byte
}

// textScratch is the size of the scratch fillRequest gathers values in;
// more values take a buffer of their own.
const textScratch = 1024

// internedValue is the last Authorization value a reqState copied.
type internedValue struct{ s string }

// maxInterned bounds the Authorization value a reqState keeps between
// requests (Guard's default token cap is 8 KiB; fasthttp's default header
// buffer is 4 KiB).
const maxInterned = 8 << 10

// intern returns a string equal to v: the one copied for an earlier
// request when v is the same value again (a client sends the same token
// on every request until it expires), otherwise a fresh copy, which it
// keeps for the next request. Go strings are immutable, so handing the
// same string to the Guard twice is the same as handing it two copies.
// The bytes are compared (memequal, which stops at the first difference)
// only after the lengths and the last tailLen bytes matched in constant
// time (sameTail): a token's tail is its signature (or, for an opaque
// token, random), so how long a call takes tells a client nothing about
// how much of its value matches someone else's token unless it already
// holds that token's last 32 bytes. This costs a tenth of hashing the
// whole value under a random seed first.
func (iv *internedValue) intern(v []byte) string {
	if len(v) > maxInterned {
		return string(v)
	}
	if len(v) == len(iv.s) && iv.s != "" && sameTail(iv.s, v) && iv.s == string(v) {
		return iv.s
	}
	iv.s = string(v)
	return iv.s
}

// tailLen is how many final bytes sameTail compares.
const tailLen = 32

// sameTail reports whether s and v, of the same length, end in the same
// tailLen bytes (or are equal, when shorter), in a time that depends only
// on their length.
func sameTail(s string, v []byte) bool {
	sb := unsafe.Slice(unsafe.StringData(s), len(s)) // only read
	if len(v) < tailLen {
		return subtle.ConstantTimeCompare(sb, v) == 1
	}
	x, y := sb[len(sb)-tailLen:], v[len(v)-tailLen:]
	le := binary.LittleEndian
	d := (le.Uint64(x) ^ le.Uint64(y)) | (le.Uint64(x[8:]) ^ le.Uint64(y[8:])) |
		(le.Uint64(x[16:]) ^ le.Uint64(y[16:])) | (le.Uint64(x[24:]) ^ le.Uint64(y[24:]))
	return d == 0
}

var reqStates = sync.Pool{New: func() any { return new(reqState) }}

// release empties st and returns it to reqStates, unless its header map
// grew past twice the usual size (maps do not shrink).
func (st *reqState) release() {
	if st.reset() {
		reqStates.Put(st)
	}
}

// reset empties st for reuse; false when its map is too large to keep.
// A map of shape keeps its names, whose slices now see the emptied vals.
func (st *reqState) reset() bool {
	if len(st.hdr) > 2*inlineHeaders {
		return false
	}
	if st.shape == nil {
		clear(st.hdr)
	}
	clear(st.fields[:st.nfields])
	st.req, st.vals, st.nfields = core.Request{}, [inlineHeaders]string{}, 0 // st.tok stays: see intern
	return true
}

// sameShape reports whether st.hdr already maps the names of fields, in
// order and each once, to the slices of st.vals (see reqState.shape).
func (st *reqState) sameShape(fields []field) bool {
	if st.shape == nil || len(fields) != len(st.shape) || len(st.hdr) != len(st.shape) {
		return false
	}
	for i := range fields {
		if fields[i].key != st.shape[i] {
			return false
		}
	}
	return true
}

// field is one header field of a request being filled: its canonical
// name and where its value is.
type field struct {
	key string
	end int    // of the value in the copied bytes; -1: the value is s
	s   string // the value, once copied (or interned)
}

// perRequest is [New]'s one allocation per request: the Result Check
// fills (core.Guard.CheckIntoName), the bytes of the request's strings
// (path, query, every header value but Authorization) and, after them,
// the room for the target name, in the smallest of seven sizes they fit
// (see keep); a text longer than text384 gets the two allocations of a
// separate Result and string, and no room. The bytes are written once,
// before any string is made of them, and never again (the Guard writes
// the name into the room once, before any string points there), and a
// perRequest is never reused (not pooled), so the strings are as immutable
// as copies: the Result and whatever keeps a string alive keep the whole
// perRequest alive instead, no longer than they would keep a Result from
// Check.
type perRequest[T any] struct {
	res  core.Result
	text T // a byte array
}

// The text sizes fill perRequest up to each of Go's size classes from 224
// to 384 bytes (72 to 232 bytes of text with today's Result; a usual MCP
// client request carries 60 to 200 bytes of values), so that a request
// allocates at most 15 bytes it does not use besides the name room.
const (
	resultSize = int(unsafe.Sizeof(core.Result{}))
	text224    = 224 - resultSize
	text240    = 240 - resultSize
	text256    = 256 - resultSize
	text288    = 288 - resultSize
	text320    = 320 - resultSize
	text352    = 352 - resultSize
	text384    = 384 - resultSize
)

// nameHint is the room for the target name keep makes sure of when a size
// has it. Most tool and prompt names are shorter; a longer one (core keeps
// up to 32 bytes without escapes in the room it is given) uses the room
// the size class leaves, or else a string of its own (a few bytes from
// the tiny allocator).
const nameHint = 16

// keep copies b into a new perRequest and returns its Result, the copy and
// the room after it (empty, with the rest of the text as capacity), for
// core.Guard.CheckIntoName. The perRequest is the smallest that holds b
// and nameHint more, or else the largest that holds b.
func keep(b []byte) (*core.Result, string, []byte) {
	switch n := len(b) + nameHint; {
	case n <= text224:
		return keepIn[[text224]byte](b)
	case n <= text240:
		return keepIn[[text240]byte](b)
	case n <= text256:
		return keepIn[[text256]byte](b)
	case n <= text288:
		return keepIn[[text288]byte](b)
	case n <= text320:
		return keepIn[[text320]byte](b)
	case n <= text352:
		return keepIn[[text352]byte](b)
	case len(b) <= text384:
		return keepIn[[text384]byte](b)
	}
	return new(core.Result), string(b), nil
}

func keepIn[T any](b []byte) (*core.Result, string, []byte) {
	pr := new(perRequest[T])
	text := unsafe.Slice((*byte)(unsafe.Pointer(&pr.text)), unsafe.Sizeof(pr.text))
	copy(text, b) // fits: keep chose T; text[:len(b)] is not written again
	return &pr.res, unsafe.String(&text[0], len(b)), text[len(b):len(b)]
}

// fillRequest is newRequest into st, reusing st's header map: when the
// request has the same header names in the same order as the last one st
// carried (st.shape), only the values are written. It returns the Result
// and the name room to pass to Check, in the perRequest that holds the
// strings (see keep).
func fillRequest(st *reqState, req *fasthttp.Request, remote net.Addr) (*core.Request, *core.Result, []byte) {
	h := &req.Header
	uri := req.URI()
	path, query := uri.Path(), uri.QueryString()
	// One pass gathers every value into b (st.text while it fits)
	// and notes where each ends; keep's copy is then the only one, but for
	// the Authorization value (most of the bytes), which is interned.
	fields := st.fields[:0]
	b := append(append(st.text[:0], path...), query...)
	valuesAt := len(b) // the address is the Guard's to format (core.Request.Peer)
	h.VisitAll(func(k, v []byte) {
		if string(k) == "Host" {
			return
		}
		if key := canonical(k); key == "Authorization" {
			fields = append(fields, field{key: key, end: -1, s: st.tok.intern(v)})
		} else {
			b = append(b, v...)
			fields = append(fields, field{key: key, end: len(b)})
		}
	})
	st.nfields = min(len(fields), inlineHeaders)
	res, all, room := keep(b)
	for i, off := 0, valuesAt; i < len(fields); i++ {
		if f := &fields[i]; f.end >= 0 {
			f.s, off = all[off:f.end], f.end
		}
	}
	cr := &st.req
	*cr = core.Request{Method: method(h.Method()), Path: all[:len(path)], RawQuery: all[len(path):valuesAt],
		Peer: remote, BodyReader: fastBody{req}}
	// fasthttp keeps a single Content-Type however many the client sent;
	// the Guard must see them all to refuse an ambiguous media type, as it
	// does behind net/http.
	cts := rawValues(h.RawHeaders(), "content-type")
	if cts == nil && st.sameShape(fields) {
		for i, f := range fields {
			st.vals[i] = f.s
		}
		cr.Header = st.hdr
		return cr, res, room
	}
	if st.hdr == nil {
		// Sized for this request: a map of up to eight keys (an MCP
		// client's usual header) is a single group, which Check walks in
		// about half the instructions of the table a larger size hint
		// makes. It grows as needed, once per pooled state.
		st.hdr = make(http.Header, len(fields))
	}
	clear(st.hdr)
	st.shape, st.names = nil, [inlineHeaders]string{}
	hdr, vals, i := st.hdr, st.vals[:], 0
	if len(fields) > inlineHeaders {
		vals = make([]string, len(fields))
	}
	shaped := len(fields) <= inlineHeaders && cts == nil
	for _, f := range fields {
		if old, ok := hdr[f.key]; ok {
			hdr[f.key] = append(old, f.s)
			shaped = false
			continue
		}
		vals[i] = f.s
		hdr[f.key] = vals[i : i+1 : i+1]
		if shaped {
			st.names[i] = f.key
		}
		i++
	}
	if cts != nil {
		hdr["Content-Type"] = cts
	}
	if shaped {
		st.shape = st.names[:len(fields)]
	}
	cr.Header = hdr
	return cr, res, room
}

// appendAddr appends a's String form (net.TCPAddr's "host:port", an
// IPv4-mapped address written as IPv4) without the two allocations of
// TCPAddr.String.
func appendAddr(b []byte, a net.Addr) []byte {
	switch a := a.(type) {
	case nil:
		return b
	case *net.TCPAddr:
		ap := a.AddrPort()
		return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()).AppendTo(b)
	}
	return append(b, a.String()...)
}

// rawValues returns the values of every field named name (lower case) in
// a raw header block, OWS-trimmed, when there are at least two; nil
// otherwise. The usual case (one field) allocates nothing, and costs a
// few instructions per line: a line is split off only where its name
// could be name.
func rawValues(raw []byte, name string) []string {
	if countFields(raw, name) < 2 {
		return nil
	}
	var out []string
	for len(raw) > 0 {
		var line []byte
		line, raw = nextLine(raw)
		if isField(line, name) {
			out = append(out, strings.Trim(string(line[len(name)+1:]), " \t\r"))
		}
	}
	return out
}

// countFields counts the lines of raw that are fields named name (lower
// case), up to two.
func countFields(raw []byte, name string) int {
	n := 0
	for len(raw) > len(name) && n < 2 {
		if raw[len(name)] == ':' && isField(raw, name) {
			n++
		}
		i := bytes.IndexByte(raw, '\n')
		if i < 0 {
			break
		}
		raw = raw[i+1:]
	}
	return n
}

// nextLine splits raw after its first '\n' (or its end).
func nextLine(raw []byte) (line, rest []byte) {
	if i := bytes.IndexByte(raw, '\n'); i >= 0 {
		return raw[:i], raw[i+1:]
	}
	return raw, nil
}

// isField reports whether a raw header line is a field named name (lower
// case ASCII letters and '-'), in any case.
func isField(line []byte, name string) bool {
	if len(line) <= len(name) || line[len(name)] != ':' {
		return false
	}
	for i := range len(name) {
		c := line[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != name[i] {
			return false
		}
	}
	return true
}

// inlineHeaders is how many header values newRequest stores without a
// separate allocation.
const inlineHeaders = 12

// canonical returns the net/http canonical form of a header name, without
// allocating for the names MCP requests usually carry.
func canonical(k []byte) string {
	switch string(k) {
	case "Accept":
		return "Accept"
	case "Accept-Encoding":
		return "Accept-Encoding"
	case "Authorization":
		return "Authorization"
	case "Connection":
		return "Connection"
	case "Content-Length":
		return "Content-Length"
	case "Content-Type":
		return "Content-Type"
	case "Mcp-Method":
		return "Mcp-Method"
	case "Mcp-Name":
		return "Mcp-Name"
	case "Mcp-Protocol-Version":
		return "Mcp-Protocol-Version"
	case "Mcp-Session-Id":
		return "Mcp-Session-Id"
	case "Origin":
		return "Origin"
	case "User-Agent":
		return "User-Agent"
	}
	return http.CanonicalHeaderKey(string(k))
}

// method returns the request method, as a constant for the standard ones.
func method(m []byte) string {
	switch string(m) {
	case http.MethodGet:
		return http.MethodGet
	case http.MethodPost:
		return http.MethodPost
	case http.MethodDelete:
		return http.MethodDelete
	case http.MethodHead:
		return http.MethodHead
	case http.MethodOptions:
		return http.MethodOptions
	case http.MethodPut:
		return http.MethodPut
	case http.MethodPatch:
		return http.MethodPatch
	}
	return string(m)
}
