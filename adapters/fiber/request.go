package fibermcp

import (
	"bytes"
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"math/bits"
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
	fields := -1
	if req.Header.ContentLength() == -1 { // chunked: a trailer may follow
		fields = req.Header.Len()
	}
	b, err := core.ReadBody(req.BodyStream(), max, *scratch)
	if err != nil {
		return nil, err
	}
	if fields >= 0 && req.Header.Len() != fields {
		return nil, errTrailer
	}
	*scratch = b
	req.SetBody(b) // a copy into fasthttp's own pooled buffer, released with the request
	return req.Body(), nil
}

// errTrailer refuses a streamed body whose chunked encoding ended with
// trailer fields: fasthttp adds them to the request header as it reads
// the end of the body, which Check does after the Guard has taken the
// header's values, so the handlers after it would read fields (an
// Mcp-Session-Id, an Mcp-Protocol-Version) the Guard never decided on.
// (A body fasthttp read before the handlers ran has its trailer in the
// header the Guard reads.) net/http keeps trailers out of the header.
var errTrailer = errors.New("fibermcp: trailer fields after a streamed request body")

// newRequest copies method, path and query of req into a core.Request,
// and the values of the header fields the Guard reads (headerSlots) into
// its Fields, with the remote address (nil: none) as its Peer, which the
// Guard formats only where it reads it. Every string is a copy (the Guard
// may keep some, e.g. a session id), made with one allocation for all
// values. The header is visited once; no http.Header is built.
func newRequest(req *fasthttp.Request, remote net.Addr) *core.Request {
	cr, _, _ := fillRequest(&reqState{}, req, remote)
	return cr
}

// reqState holds the core.Request of one Check and is its header
// (core.Request.Fields): the values of the fields the Guard reads, by
// slot (the embedded core.HeaderFields, which Check reads without a
// Values call, and userAgent), and the request itself for any other
// name. The Guard keeps neither the Request nor the value slices (only
// strings, which are copies), so [New] takes it from reqStates and puts
// it back once Check has returned and a refusal is written.
type reqState struct {
	core.HeaderFields
	userAgent []string              // slotUserAgent, which HeaderFields does not hold
	req       core.Request          //
	fast      *fasthttp.Request     // the request being checked; nil between requests
	used      uint16                // bit i: slot i is set
	vals      [inlineHeaders]string // the slots' first values
	nvals     int                   // of vals in use
	tok       internedValue         // kept across requests: see intern
	// fields and text are fillRequest's scratch, kept with the state so
	// that no request zeroes its own (they hold no pointer).
	fields [inlineHeaders]field
	text   [textScratch]byte
}

// slot returns the values of slot i.
func (st *reqState) slot(i int) *[]string {
	switch i {
	case slotAuthorization:
		return &st.Authorization
	case slotContentType:
		return &st.ContentType
	case slotContentEncoding:
		return &st.ContentEncoding
	case slotProtocolVersion:
		return &st.ProtocolVersion
	case slotSessionID:
		return &st.SessionID
	case slotMethod:
		return &st.Method
	case slotName:
		return &st.Name
	case slotOrigin:
		return &st.Origin
	case slotRequestID:
		return &st.RequestID
	case slotLastEventID:
		return &st.LastEventID
	}
	return &st.userAgent
}

// Values implements core.HeaderReader: the values of the fields named
// name, copied when the request was filled for the names the Guard reads,
// and otherwise looked up in the fasthttp request (copies, in an
// allocation of their own).
func (st *reqState) Values(name string) []string {
	if i := slotOf(name); i >= 0 {
		return *st.slot(i)
	}
	if st.fast == nil || name == "Host" { // net/http keeps Host out of the header too
		return nil
	}
	var vs []string
	st.fast.Header.VisitAll(func(k, v []byte) {
		if canonical(k) == name {
			vs = append(vs, string(trimOWS(v)))
		}
	})
	return vs
}

// The header fields the Guard reads (core.HeaderFields and the audit's
// User-Agent), each a slot of reqState: fillRequest copies their values
// only.
const (
	slotAuthorization = iota
	slotContentType
	slotContentEncoding
	slotProtocolVersion
	slotSessionID
	slotMethod
	slotName
	slotOrigin
	slotRequestID
	slotLastEventID
	slotUserAgent
	numSlots
)

// slotNames are the canonical names of the slots, in slot order.
var slotNames = [numSlots]string{"Authorization", "Content-Type", "Content-Encoding", "Mcp-Protocol-Version",
	"Mcp-Session-Id", "Mcp-Method", "Mcp-Name", "Origin", "X-Request-Id", "Last-Event-Id", "User-Agent"}

// slotOf returns the slot of the field named exactly name, -1 for any
// other name.
func slotOf(name string) int {
	switch name {
	case "Authorization":
		return slotAuthorization
	case "Content-Type":
		return slotContentType
	case "Content-Encoding":
		return slotContentEncoding
	case "Mcp-Protocol-Version":
		return slotProtocolVersion
	case "Mcp-Session-Id":
		return slotSessionID
	case "Mcp-Method":
		return slotMethod
	case "Mcp-Name":
		return slotName
	case "Origin":
		return slotOrigin
	case "X-Request-Id":
		return slotRequestID
	case "Last-Event-Id":
		return slotLastEventID
	case "User-Agent":
		return slotUserAgent
	}
	return -1
}

// fieldSlot returns the slot of a header field named k in any case, as
// net/http's canonical form of k would be looked up: -1 for every other
// name (Host included). fasthttp normally hands names in canonical form
// already; a name that is not is compared in ASCII case only, which is
// what canonicalisation folds (a name with any other byte is left as it
// is by http.CanonicalHeaderKey and so matches no slot).
func fieldSlot(k []byte) int {
	switch string(k) {
	case "Accept", "Accept-Encoding", "Connection", "Content-Length", "Host":
		return -1 // the usual others, settled without the fold below
	case "Authorization":
		return slotAuthorization
	case "Content-Type":
		return slotContentType
	case "Mcp-Protocol-Version":
		return slotProtocolVersion
	case "Mcp-Session-Id":
		return slotSessionID
	case "User-Agent":
		return slotUserAgent
	}
	for i, name := range slotNames {
		if foldEqual(k, name) {
			return i
		}
	}
	return -1
}

// foldEqual reports whether k is name (a canonical header name) in any
// ASCII case.
func foldEqual(k []byte, name string) bool {
	if len(k) != len(name) {
		return false
	}
	for i := range len(k) {
		c := k[i]
		if 'a' <= c && c <= 'z' {
			c -= 'a' - 'A'
		}
		d := name[i]
		if 'a' <= d && d <= 'z' {
			d -= 'a' - 'A'
		}
		if c != d {
			return false
		}
	}
	return true
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

// release empties st and returns it to reqStates.
func (st *reqState) release() {
	st.reset()
	reqStates.Put(st)
}

// reset empties st for reuse.
func (st *reqState) reset() {
	st.req, st.fast = core.Request{}, nil // st.tok stays: see intern
	for u := st.used; u != 0; u &= u - 1 {
		*st.slot(bits.TrailingZeros16(u)) = nil
	}
	for i := range st.nvals { // the one or two in use: cheaper than clear's bulk barrier
		st.vals[i] = ""
	}
	st.used, st.nvals = 0, 0
}

// field is one header field of a request being filled: its slot and
// where its value ends in the copied bytes (-1: the value is the
// interned Authorization value).
type field struct {
	slot int
	end  int
}

// perRequest is [New]'s one allocation per request: the Result Check
// fills (core.Guard.CheckIntoName), the bytes of the request's strings
// (path, query, the header values the Guard reads but Authorization) and,
// after them, the room for the target name, in the smallest of seven sizes
// they fit (see keep); a text longer than text384 gets the two allocations of a
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
// to 384 bytes (80 to 240 bytes of text with today's Result; a usual MCP
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

// fillRequest is newRequest into st. It returns the Result and the name
// room to pass to Check, in the perRequest that holds the strings (see
// keep).
func fillRequest(st *reqState, req *fasthttp.Request, remote net.Addr) (*core.Request, *core.Result, []byte) {
	h := &req.Header
	uri := req.URI()
	path, query := uri.Path(), uri.QueryString()
	// One pass gathers the values the Guard reads into b (st.text while
	// it fits) and notes where each ends; keep's copy is then the only
	// one, but for the first Authorization value (most of the bytes),
	// which is interned.
	fields := st.fields[:0]
	b := append(append(st.text[:0], path...), query...)
	valuesAt := len(b) // the address is the Guard's to format (core.Request.Peer)
	var auth string    // the first Authorization value, interned
	interned := false
	h.VisitAll(func(k, v []byte) {
		i := fieldSlot(k)
		if i < 0 {
			return
		}
		v = trimOWS(v)
		if i == slotAuthorization && !interned {
			auth, interned = st.tok.intern(v), true
			fields = append(fields, field{slot: i, end: -1})
			return
		}
		b = append(b, v...)
		fields = append(fields, field{slot: i, end: len(b)})
	})
	res, all, room := keep(b)
	n := 0
	for i, off := 0, valuesAt; i < len(fields); i++ {
		f := fields[i]
		s := auth
		if f.end >= 0 {
			s, off = all[off:f.end], f.end
		}
		st.used |= 1 << f.slot
		switch vs := st.slot(f.slot); {
		case *vs != nil: // a repeated field: a slice of its own
			*vs = append(*vs, s)
		case n < inlineHeaders:
			st.vals[n] = s
			*vs, n = st.vals[n:n+1:n+1], n+1
		default:
			*vs = []string{s}
		}
	}
	st.nvals = n
	// fasthttp keeps a single Content-Type however many the client sent,
	// and none for an empty one; the Guard must see them all to refuse an
	// ambiguous media type, as it does behind net/http.
	raw := h.RawHeaders()
	if cts := rawValues(raw, "content-type"); cts != nil {
		st.ContentType, st.used = cts, st.used|1<<slotContentType
	} else if st.ContentType == nil && countFields(raw, "content-type") == 1 {
		st.ContentType, st.used = emptyValue, st.used|1<<slotContentType
	}
	st.fast = req
	cr := &st.req
	*cr = core.Request{Method: method(h.Method()), Path: all[:len(path)], RawQuery: all[len(path):valuesAt],
		Peer: remote, BodyReader: fastBody{req}, Fields: st}
	return cr, res, room
}

// trimOWS trims the optional white space (spaces and tabs, RFC 9110
// §5.5) around a field value, as net/http does: fasthttp trims leading
// spaces only, so a value sent as "\tBearer x\t" reached the Guard with
// its tabs, where net/http hands "Bearer x".
func trimOWS(v []byte) []byte {
	for len(v) > 0 && (v[0] == ' ' || v[0] == '\t') {
		v = v[1:]
	}
	for len(v) > 0 && (v[len(v)-1] == ' ' || v[len(v)-1] == '\t') {
		v = v[:len(v)-1]
	}
	return v
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

// emptyValue is the values of a field sent once, empty (Check does not
// modify the slice).
var emptyValue = []string{""}

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
