package fibermcp

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"testing"
	"unsafe"

	"github.com/google/go-cmp/cmp"
	"github.com/valyala/fasthttp"

	"github.com/mcpauthz/mcpauthz/core"
)

func TestNewRequest(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name          string
		raw           string
		noNormalizing bool
		want          core.Request
	}{
		{
			name: "typical MCP POST",
			raw: "POST /api/mcp?x=1 HTTP/1.1\r\nHost: mcp.example.com\r\nContent-Type: application/json\r\n" +
				"Authorization: Bearer abc\r\nmcp-session-id: s1\r\nMCP-Protocol-Version: 2025-11-25\r\nContent-Length: 2\r\n\r\n{}",
			want: core.Request{Method: "POST", Path: "/api/mcp", RawQuery: "x=1", Header: http.Header{
				"Content-Type": {"application/json"}, "Authorization": {"Bearer abc"}, "Mcp-Session-Id": {"s1"},
				"Mcp-Protocol-Version": {"2025-11-25"},
			}},
		},
		{
			name: "repeated headers keep every value in order",
			raw:  "GET /mcp HTTP/1.1\r\nHost: h\r\nAuthorization: Bearer a\r\nX-Custom-Thing: 1\r\nauthorization: Bearer b\r\nx-custom-thing: 2\r\n\r\n",
			want: core.Request{Method: "GET", Path: "/mcp", Header: http.Header{
				"Authorization": {"Bearer a", "Bearer b"},
			}},
		},
		{
			name: "every Content-Type kept (fasthttp keeps one)",
			raw:  "POST /mcp HTTP/1.1\r\nHost: h\r\nContent-Type: application/json\r\ncontent-type:  text/plain \r\nContent-Length: 2\r\n\r\n{}",
			want: core.Request{Method: "POST", Path: "/mcp", Header: http.Header{
				"Content-Type": {"application/json", "text/plain"},
			}},
		},
		{
			name:          "names canonicalised without fasthttp normalizing",
			raw:           "DELETE /mcp HTTP/1.1\r\nHost: h\r\nauthorization: Bearer a\r\nmcp-SESSION-id: s\r\n\r\n",
			noNormalizing: true,
			want: core.Request{Method: "DELETE", Path: "/mcp", Header: http.Header{
				"Authorization": {"Bearer a"}, "Mcp-Session-Id": {"s"},
			}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var req fasthttp.Request
			if tt.noNormalizing {
				req.Header.DisableNormalizing()
			}
			if err := req.Read(bufioReader(tt.raw)); err != nil {
				t.Fatal(err)
			}
			got := newRequest(&req, nil)
			if br, ok := got.BodyReader.(fastBody); !ok || br.req != &req {
				t.Errorf("BodyReader = %#v, want the request's body", got.BodyReader)
			}
			checkValues(t, &req, got) // every name, the Guard's or not
			got.BodyReader = nil
			req.Reset() // the strings must not alias fasthttp's buffers
			req.Header.Set("Authorization", "Bearer zzz")
			want := tt.want
			want.Header = nil
			if diff := cmp.Diff(tt.want.Header, slotHeader(got)); diff != "" {
				t.Errorf("newRequest header (-want +got):\n%s", diff)
			}
			got.Fields = nil
			if diff := cmp.Diff(&want, got); diff != "" {
				t.Errorf("newRequest (-want +got):\n%s", diff)
			}
		})
	}
}

// TestAppendAddr: the remote address reads as net.TCPAddr.String does.
func TestAppendAddr(t *testing.T) {
	t.Parallel()
	for _, a := range []net.Addr{
		&net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 54321},           // 16-byte IPv4-mapped form
		&net.TCPAddr{IP: net.IP{10, 1, 2, 3}, Port: 80},                 // 4-byte form
		&net.TCPAddr{IP: net.ParseIP("2001:db8::1"), Port: 443},         // IPv6
		&net.TCPAddr{IP: net.ParseIP("fe80::1"), Port: 8, Zone: "eth0"}, // zone
		&net.UnixAddr{Name: "/tmp/s.sock", Net: "unix"},
	} {
		if got := string(appendAddr([]byte("x"), a)); got != "x"+a.String() {
			t.Errorf("appendAddr(%v) = %q, want %q", a, got, "x"+a.String())
		}
	}
	if got := appendAddr(nil, nil); got != nil {
		t.Errorf("appendAddr(nil) = %q", got)
	}
}

func TestMethod(t *testing.T) {
	t.Parallel()
	for _, m := range []string{"GET", "POST", "DELETE", "HEAD", "OPTIONS", "PUT", "PATCH", "PROPFIND"} {
		if got := method([]byte(m)); got != m {
			t.Errorf("method(%q) = %q", m, got)
		}
	}
}

// TestFillRequestReuse: a reqState that carried one request and was
// reset holds nothing of it when it carries the next: the slots (the
// HeaderFields the Guard reads included), the inline values, the
// fasthttp request and the Request are all emptied.
func TestFillRequestReuse(t *testing.T) {
	t.Parallel()
	read := func(raw string) *fasthttp.Request {
		var req fasthttp.Request
		if err := req.Read(bufioReader(raw)); err != nil {
			t.Fatal(err)
		}
		return &req
	}
	first := read("POST /a?x=1 HTTP/1.1\r\nHost: h\r\nAuthorization: Bearer first\r\nMcp-Session-Id: s1\r\nX-One: 1\r\nContent-Length: 0\r\n\r\n")
	second := read("GET /b HTTP/1.1\r\nHost: h\r\nAccept: text/event-stream\r\nOrigin: o\r\n\r\n")
	st := &reqState{}
	fill(st, first, &net.TCPAddr{IP: net.IPv4(10, 0, 0, 1), Port: 1})
	st.reset() // what release does before pooling st
	if st.vals != [inlineHeaders]string{} || st.used != 0 || st.nvals != 0 || !reflect.DeepEqual(st.HeaderFields, core.HeaderFields{}) ||
		st.userAgent != nil || st.fast != nil || !reflect.DeepEqual(st.req, core.Request{}) {
		t.Fatalf("reset state not empty: %q %+v %+v", st.vals, st.HeaderFields, st.req)
	}
	if vs := st.Values("X-One"); vs != nil {
		t.Fatalf("reset state finds X-One: %q", vs)
	}
	got := fill(st, second, nil)
	if diff := cmp.Diff(http.Header{"Origin": {"o"}}, slotHeader(got)); diff != "" {
		t.Errorf("second request's header (-want +got):\n%s", diff)
	}
	checkValues(t, second, got)
	got.BodyReader, got.Fields = nil, nil
	if diff := cmp.Diff(&core.Request{Method: http.MethodGet, Path: "/b"}, got); diff != "" {
		t.Errorf("second request (-want +got):\n%s", diff)
	}
}

// slotHeader is the header the Guard reads of r (every name it asks
// r.Fields for), as an http.Header.
func slotHeader(r *core.Request) http.Header {
	h := http.Header{}
	for _, name := range slotNames {
		if vs := r.Fields.Values(name); vs != nil {
			h[name] = vs
		}
	}
	return h
}

// checkValues: r.Fields gives, for every name of req's header (Host but
// for net/http's own rule), exactly what net/http's header would: the
// values of every field of that canonical name, in order, and every
// Content-Type field (fasthttp keeps one); nil for the Guard's names req
// does not carry. Call it while req's buffers are intact.
func checkValues(t *testing.T, req *fasthttp.Request, r *core.Request) {
	t.Helper()
	want := http.Header{}
	req.Header.VisitAll(func(k, v []byte) {
		if string(k) != "Host" {
			want.Add(string(k), strings.Trim(string(v), " \t")) // Add canonicalises the name; OWS trimmed as by net/http
		}
	})
	var cts []string
	for _, line := range strings.Split(string(req.Header.RawHeaders()), "\n") {
		if name, v, ok := strings.Cut(line, ":"); ok && strings.EqualFold(name, "Content-Type") {
			cts = append(cts, strings.Trim(v, " \t\r"))
		}
	}
	if len(cts) > 1 || len(cts) == 1 && want["Content-Type"] == nil {
		// fasthttp keeps one Content-Type, and none sent empty (f2fd95f):
		// the Guard sees every one, as net/http has them.
		want["Content-Type"] = cts
	}
	for k, vs := range want {
		if got := r.Fields.Values(k); !slices.Equal(got, vs) {
			t.Fatalf("Values(%q) = %q, want %q", k, got, vs)
		}
	}
	for _, name := range append(slotNames[:], "Host", "X-Absent") {
		if _, ok := want[name]; !ok {
			if got := r.Fields.Values(name); got != nil {
				t.Fatalf("Values(%q) = %q, want nil", name, got)
			}
		}
	}
}

// TestInternAuthorization: the Authorization value is copied once and the
// same string handed out again while it does not change; any other value,
// or the same hash over different bytes, gets a fresh copy equal to it.
func TestInternAuthorization(t *testing.T) {
	t.Parallel()
	read := func(auth string) *fasthttp.Request {
		var req fasthttp.Request
		req.Header.SetMethod(fasthttp.MethodPost)
		req.SetRequestURI("/mcp")
		req.Header.Set("Authorization", auth)
		return &req
	}
	st := &reqState{}
	auth := func(raw string) string {
		t.Helper()
		req := read(raw)
		got := fill(st, req, nil).Fields.Values("Authorization")
		if len(got) != 1 || got[0] != raw {
			t.Fatalf("Authorization = %q, want %q", got, raw)
		}
		s := got[0]
		req.Header.Set("Authorization", strings.Repeat("z", len(raw))) // fasthttp reuses its buffers
		if s != raw {
			t.Fatalf("value changed with fasthttp's buffer: %q", s)
		}
		st.reset()
		return s
	}
	a1 := auth("Bearer aaaa")
	if a2 := auth("Bearer aaaa"); unsafe.StringData(a2) != unsafe.StringData(a1) {
		t.Error("the same value was copied again")
	}
	b := auth("Bearer bbbb")
	if unsafe.StringData(b) == unsafe.StringData(a1) {
		t.Error("a different value reused the old string")
	}
	// The same length and the same last tailLen bytes, differing before
	// them (or only in the first byte): copied, not reused.
	tail := strings.Repeat("t", tailLen)
	for _, v := range []string{"Bearer c" + tail, "Bearer d" + tail, "bearer d" + tail, "Bearer d" + tail} {
		kept := st.tok.s
		if got := auth(v); got != v || (kept != v && unsafe.StringData(got) == unsafe.StringData(kept)) {
			t.Errorf("%q after %q: got %q", v, kept, got)
		}
	}
	// Shorter than tailLen and differing only in the last byte.
	for _, v := range []string{"Bearer e1", "Bearer e2", "Bearer e1"} {
		if got := auth(v); got != v {
			t.Errorf("got %q, want %q", got, v)
		}
	}
	// Longer than maxInterned: copied every time, not kept.
	long := "Bearer " + strings.Repeat("x", maxInterned)
	kept := st.tok.s
	if l1, l2 := auth(long), auth(long); unsafe.StringData(l1) == unsafe.StringData(l2) || st.tok.s != kept {
		t.Error("an over-long value was interned")
	}
}

// TestSameTail: sameTail tells equal tails from tails differing in any
// one byte, for values shorter than, as long as and longer than tailLen.
func TestSameTail(t *testing.T) {
	t.Parallel()
	for _, n := range []int{1, tailLen - 1, tailLen, tailLen + 1, 800} {
		s := strings.Repeat("a", n)
		if !sameTail(s, []byte(s)) {
			t.Errorf("len %d: equal values differ", n)
		}
		for i := range n {
			v := []byte(s)
			v[i] = 'b'
			want := i < n-tailLen // a difference before the tail is not seen
			if got := sameTail(s, v); got != want {
				t.Errorf("len %d, byte %d differs: sameTail %v, want %v", n, i, got, want)
			}
		}
	}
}

// TestInternVariants: a state that interned one value never hands it out
// for a different one: several Authorization fields on one request, values
// that differ only in whitespace or case, the empty value, and values
// around maxInterned, each checked after fasthttp's buffer is overwritten.
func TestInternVariants(t *testing.T) {
	t.Parallel()
	st := &reqState{}
	long := "Bearer " + strings.Repeat("y", maxInterned-len("Bearer "))
	for _, vals := range [][]string{
		{"Bearer aaaa"},
		{"Bearer aaaa", "Bearer bbbb"},
		{"Bearer bbbb", "Bearer aaaa"},
		{"Bearer  aaaa"},
		{"bearer aaaa"},
		{"Bearer aaaa "},
		{""},
		{"Bearer aaaa"},
		{long},
		{long + "y"},
		{long},
		{"Bearer aaab"},
	} {
		var req fasthttp.Request
		raw := "POST /mcp HTTP/1.1\r\nHost: h\r\n"
		for _, v := range vals {
			raw += "Authorization: " + v + "\r\n"
		}
		if err := req.Read(bufio.NewReaderSize(strings.NewReader(raw+"Content-Length: 0\r\n\r\n"), 64<<10)); err != nil {
			t.Fatal(err)
		}
		got := fill(st, &req, nil).Fields.Values("Authorization")
		req.Header.VisitAll(func(k, v []byte) { // fasthttp reuses its buffers
			for i := range v {
				v[i] = 'z'
			}
		})
		want := make([]string, len(vals))
		for i, v := range vals {
			want[i] = strings.TrimRight(v, " ") // fasthttp trims trailing OWS
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%.30q (-want +got):\n%s", vals, diff)
		}
		st.reset()
	}
}

// TestFillRequestShapes: one reqState carrying a sequence of requests
// gives each exactly what a fresh state gives (newRequest), whether the
// header names repeat those of the request before or not, and every value
// survives fasthttp reusing its buffers.
func TestFillRequestShapes(t *testing.T) {
	t.Parallel()
	const (
		a       = "POST /mcp HTTP/1.1\r\nHost: h\r\nContent-Type: application/json\r\nAuthorization: Bearer a\r\nMcp-Session-Id: s1\r\nContent-Length: 2\r\n\r\n{}"
		aValues = "POST /mcp HTTP/1.1\r\nHost: h\r\nContent-Type: text/plain\r\nAuthorization: Bearer b\r\nMcp-Session-Id: s2\r\nContent-Length: 3\r\n\r\n{ }"
		aOrder  = "POST /mcp HTTP/1.1\r\nHost: h\r\nAuthorization: Bearer a\r\nContent-Type: application/json\r\nMcp-Session-Id: s1\r\nContent-Length: 2\r\n\r\n{}"
		aName   = "POST /mcp HTTP/1.1\r\nHost: h\r\nContent-Type: application/json\r\nAuthorization: Bearer a\r\nX-Session-Id: s1\r\nContent-Length: 2\r\n\r\n{}"
		aLess   = "POST /mcp HTTP/1.1\r\nHost: h\r\nContent-Type: application/json\r\nAuthorization: Bearer a\r\nContent-Length: 2\r\n\r\n{}"
		aDup    = "POST /mcp HTTP/1.1\r\nHost: h\r\nContent-Type: application/json\r\nAuthorization: Bearer a\r\nMcp-Session-Id: s1\r\nMcp-Session-Id: s2\r\nContent-Length: 2\r\n\r\n{}"
		// fasthttp visits one Content-Type: the names are a's, the header is not.
		aTwoCT = "POST /mcp HTTP/1.1\r\nHost: h\r\nContent-Type: application/json\r\nAuthorization: Bearer a\r\nMcp-Session-Id: s1\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\n{}"
	)
	many := "GET /mcp HTTP/1.1\r\nHost: h\r\n"
	for i := range inlineHeaders + 2 {
		many += fmt.Sprintf("X-H%d: %d\r\n", i, i)
	}
	many += "\r\n"
	long := "POST /mcp HTTP/1.1\r\nHost: h\r\nContent-Type: application/json\r\nAuthorization: Bearer a\r\nMcp-Session-Id: " +
		strings.Repeat("s", text384) + "\r\nContent-Length: 2\r\n\r\n{}" // longer than the largest perRequest's text
	for _, tt := range []struct {
		name string
		seq  []string
	}{
		{"same names, new values", []string{a, aValues, a, aValues}},
		{"same names, other order", []string{a, aOrder, a}},
		{"one name differs", []string{a, aName, a}},
		{"fewer names, then more", []string{a, aLess, a}},
		{"a repeated name", []string{a, aDup, a, aDup, aDup}},
		{"two Content-Types under the same names", []string{a, aTwoCT, a, aTwoCT}},
		{"more names than inline", []string{many, many, a, many}},
		{"values longer than a perRequest's text", []string{a, long, long, a}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			st := &reqState{}
			for i, raw := range tt.seq {
				var want, req fasthttp.Request
				if err := want.Read(bufioReader(raw)); err != nil {
					t.Fatal(err)
				}
				if err := req.Read(bufioReader(raw)); err != nil {
					t.Fatal(err)
				}
				addr := &net.TCPAddr{IP: net.IPv4(10, 0, 0, byte(i)), Port: 1000 + i}
				exp := newRequest(&want, addr)
				got := fill(st, &req, addr)
				req.Header.VisitAll(func(_, v []byte) { // fasthttp reuses its buffers
					for j := range v {
						v[j] = 'z'
					}
				})
				if diff := cmp.Diff(slotHeader(exp), slotHeader(got)); diff != "" {
					t.Fatalf("request %d header (-fresh +reused):\n%s", i, diff)
				}
				exp.BodyReader, got.BodyReader, exp.Fields, got.Fields = nil, nil, nil, nil
				if diff := cmp.Diff(exp, got); diff != "" {
					t.Fatalf("request %d (-fresh +reused):\n%s", i, diff)
				}
				st.reset()
			}
		})
	}
}

// fill is fillRequest without its Result.
func fill(st *reqState, req *fasthttp.Request, remote net.Addr) *core.Request {
	cr, _, _ := fillRequest(st, req, remote)
	return cr
}

// textSizes are the text sizes of the perRequests keep chooses from, in
// order, with the size classes they fill.
var textSizes = []struct{ text, class int }{
	{text224, 224}, {text240, 240}, {text256, 256}, {text288, 288}, {text320, 320}, {text352, 352}, {text384, 384},
}

// TestPerRequestSize: each perRequest fills a size class, and the smallest
// text keeps room for the values it is meant for (a larger core.Result
// would take it).
func TestPerRequestSize(t *testing.T) {
	t.Parallel()
	sizes := []uintptr{unsafe.Sizeof(perRequest[[text224]byte]{}), unsafe.Sizeof(perRequest[[text240]byte]{}),
		unsafe.Sizeof(perRequest[[text256]byte]{}), unsafe.Sizeof(perRequest[[text288]byte]{}),
		unsafe.Sizeof(perRequest[[text320]byte]{}), unsafe.Sizeof(perRequest[[text352]byte]{}),
		unsafe.Sizeof(perRequest[[text384]byte]{})}
	for i, size := range sizes {
		if size != uintptr(textSizes[i].class) {
			t.Errorf("perRequest %d is %d bytes, want %d", i, size, textSizes[i].class)
		}
	}
	if text224 < 64 {
		t.Errorf("smallest perRequest has %d bytes of text, want at least 64", text224)
	}
}

// TestKeep: keep's copy equals its input at every length around the
// sizes, survives a change of the input, and sits in the smallest
// perRequest that holds it and nameHint more (or else the largest that
// holds it), its Result right before the text and the name room right
// after it, up to the end of the text.
func TestKeep(t *testing.T) {
	t.Parallel()
	lens := []int{0, 1, text384 - 1, text384, text384 + 1, 4 << 10}
	for _, ts := range textSizes {
		lens = append(lens, ts.text-nameHint-1, ts.text-nameHint, ts.text-nameHint+1, ts.text)
	}
	for _, n := range lens {
		b := []byte(strings.Repeat("v", n))
		res, s, room := keep(b)
		clear(b)
		if s != strings.Repeat("v", n) || res == nil || res.Principal != nil {
			t.Fatalf("len %d: got %d bytes, Result %v", n, len(s), res)
		}
		if n > text384 {
			if room != nil {
				t.Errorf("len %d: room of %d bytes without a perRequest", n, cap(room))
			}
			continue
		}
		text := text384
		for _, ts := range textSizes {
			if n+nameHint <= ts.text {
				text = ts.text
				break
			}
		}
		base := uintptr(unsafe.Pointer(res))
		if n > 0 {
			if gap := uintptr(unsafe.Pointer(unsafe.StringData(s))) - base; gap != uintptr(resultSize) {
				t.Errorf("len %d: text %d bytes after the Result, want %d", n, gap, resultSize)
			}
		}
		if len(room) != 0 || cap(room) != text-n {
			t.Errorf("len %d: room len %d cap %d, want 0 and %d", n, len(room), cap(room), text-n)
		}
		if cap(room) > 0 {
			if at := uintptr(unsafe.Pointer(unsafe.SliceData(room))) - base; at != uintptr(resultSize+n) {
				t.Errorf("len %d: room %d bytes after the Result, want %d", n, at, resultSize+n)
			}
		}
	}
}

// TestFillRequestAllocs: a typical request costs one allocation (its
// perRequest, of the size its values need) once the state has carried the
// a request before; values longer than text384 cost two.
func TestFillRequestAllocs(t *testing.T) { // not parallel: AllocsPerRun forbids it
	for _, tt := range []struct {
		sid  string
		want float64
	}{{"s1", 1}, {strings.Repeat("s", text224), 1}, {strings.Repeat("s", text288), 1}, {strings.Repeat("s", text384), 2}} {
		var req fasthttp.Request
		raw := "POST /mcp HTTP/1.1\r\nHost: h\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\n" +
			"Authorization: Bearer abc\r\nMcp-Session-Id: " + tt.sid + "\r\nContent-Length: 2\r\n\r\n{}"
		if err := req.Read(bufio.NewReaderSize(strings.NewReader(raw), 4096)); err != nil {
			t.Fatal(err)
		}
		addr := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 4000}
		st := &reqState{}
		fillRequest(st, &req, addr)
		st.reset()
		if n := testing.AllocsPerRun(100, func() { fillRequest(st, &req, addr); st.reset() }); n != tt.want {
			t.Errorf("session id of %d bytes: %v allocations, want %v", len(tt.sid), n, tt.want)
		}
	}
}

// TestRawValues: every Content-Type field of a raw header block, in any
// case and wherever it is (first line, last line without a line end), is
// found when there are two or more; one, none or look-alikes give nil.
func TestRawValues(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		raw  string
		want []string
	}{
		{"Host: h\r\nContent-Type: a/b\r\n\r\n", nil},
		{"Content-Type: a/b\r\ncontent-type: c/d\r\n", []string{"a/b", "c/d"}},
		{"Host: h\r\nCONTENT-TYPE:a/b \r\nX: y\r\ncOnTeNt-TyPe: \tc/d", []string{"a/b", "c/d"}},
		{"Content-Type: a\r\nContent-Typo: b\r\nContent-Type-X: c\r\nXContent-Type: d\r\n", nil},
		{"Content-Type: a\r\nContent_Type: b\r\nContent-Type : c\r\n", nil},
		{"Content-Type: a\nContent-Type: b\nContent-Type: c\n", []string{"a", "b", "c"}},
		{"Content-Type:", nil},
		{"", nil},
		{"Content-Type: a\r\nContent\rType: b\r\n", nil},
	} {
		if got := rawValues([]byte(tt.raw), "content-type"); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%q: got %q, want %q", tt.raw, got, tt.want)
		}
	}
}

// TestSlotOf: every slot's name, and only it, finds its slot; names of
// the same length or first byte, other cases and the empty name find none.
func TestSlotOf(t *testing.T) {
	t.Parallel()
	for i, n := range slotNames {
		if got := slotOf(n); got != i {
			t.Errorf("slotOf(%q) = %d, want %d", n, got, i)
		}
		if got := slotOf(string([]byte(n))); got != i { // another copy
			t.Errorf("slotOf(copy of %q) = %d, want %d", n, got, i)
		}
		for _, other := range []string{strings.ToLower(n), strings.ToUpper(n), n[:len(n)-1] + "x", n + "x", "x" + n[1:]} {
			if got := slotOf(other); got != -1 {
				t.Errorf("slotOf(%q) = %d, want -1", other, got)
			}
		}
	}
	for _, other := range []string{"", "Host", "Accept", "Content-Length", "Mcp-Other", "X-Request-Ix"} {
		if got := slotOf(other); got != -1 {
			t.Errorf("slotOf(%q) = %d, want -1", other, got)
		}
	}
}
