package fibermcp

import (
	"io"
	"net/http"
	"slices"
	"testing"

	"github.com/valyala/fasthttp"
)

// FuzzFieldsMatchNetHTTP: for a request both fasthttp and net/http
// accept, the Fields of newRequest give every field the Guard reads
// (User-Agent, which fasthttp keeps once, aside) exactly as the
// http.Header net/http builds: repeated fields, case variants, empty
// values, white space around a value (fasthttp keeps tabs, see trimOWS).
// The one difference is a chunked body's trailer, whose fields fasthttp
// adds to the header it read before the body (and so does the Guard on a
// body fasthttp read before the handlers: see errTrailer for a streamed
// one), where net/http keeps them in Request.Trailer: they come after the
// header's values.
func FuzzFieldsMatchNetHTTP(f *testing.F) {
	for _, s := range []string{
		"POST /mcp HTTP/1.1\r\nHost: h\r\nAuthorization: Bearer x\r\n\r\n",
		"POST /mcp HTTP/1.1\r\nHost: h\r\nAuthorization: Bearer x\r\n y\r\n\r\n",
		"POST /mcp HTTP/1.1\r\nHost: h\r\nMcp_Session_Id: a\r\n\r\n",
		"POST /mcp HTTP/1.1\r\nHost: h\r\nMcp-Session-Id:\r\n\r\n",
		"POST /mcp HTTP/1.1\r\nHost: h\r\nMcp-Session-Id: a \r\nmcp-session-id: b\r\n\r\n",
		"POST /mcp HTTP/1.1\r\nHost: h\r\nUser-Agent: a\r\nUser-Agent: b\r\n\r\n",
		"POST /mcp HTTP/1.1\r\nHost: h\r\nContent-Type: a\r\nContent-Type: b\r\n\r\n",
		"POST /mcp HTTP/1.1\r\nHost: h\r\nAuthorization : Bearer x\r\n\r\n",
		"POST /mcp HTTP/1.1\r\nHost: h\r\nAuthorization:\tBearer x\t\r\n\r\n",
		"POST /mcp HTTP/1.1\r\nHost: h\r\nAuthorization: Bearer x\nOrigin: o\n\n",
		"POST /mcp HTTP/1.1\r\nHost: h\r\nAuthorization: Bearer\x00x\r\n\r\n",
		"POST /mcp HTTP/1.1\r\nHost: h\r\nContent-Type: a\r\n b\r\n\r\n",
		"POST /mcp HTTP/1.1\r\nHost: h\r\nContent-Encoding: gzip\r\nContent-Encoding: br\r\n\r\n",
		"POST /mcp HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nContent-Type: a\r\n\r\n0\r\n\r\n",
		"POST /mcp HTTP/1.1\r\nHost: h\r\nContent-Type:\r\n\r\n",
		"POST /mcp HTTP/1.1\r\nHost: h\r\nMcp-Session-Id: a\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\r\n0\r\nMcp-Session-Id: b\r\nOrigin: o\r\n\r\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		var req fasthttp.Request
		if err := req.Read(bufioReader(raw)); err != nil {
			return
		}
		hr, err := http.ReadRequest(bufioReader(raw))
		if err != nil {
			return
		}
		if _, err := io.Copy(io.Discard, hr.Body); err != nil {
			return // net/http refuses the body (or its trailer)
		}
		got := newRequest(&req, nil)
		for _, name := range slotNames {
			if name == "User-Agent" {
				continue
			}
			want := append(slices.Clip(hr.Header.Values(name)), hr.Trailer.Values(name)...)
			if g := got.Fields.Values(name); !slices.Equal(g, want) {
				t.Fatalf("%q: fiber %q, net/http %q", name, g, want)
			}
		}
	})
}
