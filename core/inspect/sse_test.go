package inspect

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

const (
	listResp     = `{"jsonrpc":"2.0","id":1,"result":{"tools":[{"name":"ls"},{"name":"rm"}],"nextCursor":"n"}}`
	listFiltered = `{"jsonrpc":"2.0","id":1,"result":{"tools":[{"name":"ls"}],"nextCursor":"n"}}`
	errorEvent   = "data: {\"jsonrpc\":\"2.0\",\"id\":1,\"error\":{\"code\":-32603,\"message\":\"Internal error: list response could not be filtered\"}}\n\n"
)

func TestSSEFilter(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in, want string
		closeErr       bool
	}{
		{"single event", "id: s1_0\nevent: message\ndata: " + listResp + "\n\n",
			"id: s1_0\nevent: message\ndata: " + listFiltered + "\n\n", false},
		{"prime event and keepalive pass through", ": keepalive\n\nid: s1_0\ndata:\n\nretry: 1000\n\n",
			": keepalive\n\nid: s1_0\ndata:\n\nretry: 1000\n\n", false},
		{"notification passes byte-for-byte", "event: message\r\ndata: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\",\"params\":{\"tools\":[{\"name\":\"rm\"}]}}\r\n\r\n",
			"event: message\r\ndata: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\",\"params\":{\"tools\":[{\"name\":\"rm\"}]}}\r\n\r\n", false},
		{"CRLF list response", "id: 1\r\nevent: message\r\ndata: " + listResp + "\r\n\r\n",
			"id: 1\nevent: message\ndata: " + listFiltered + "\n\n", false},
		{"CR only", "id: 1\rdata: " + listResp + "\r\r",
			"id: 1\ndata: " + listFiltered + "\n\n", false},
		{"multi-line data", "data: {\"jsonrpc\":\"2.0\",\"id\":1,\ndata: \"result\":{\"tools\":[{\"name\":\"rm\"},\ndata: {\"name\":\"ls\"}]}}\n\n",
			"data: {\"jsonrpc\":\"2.0\",\"id\":1,\ndata: \"result\":{\"tools\":[{\"name\":\"ls\"}]}}\n\n", false},
		{"comment inside event kept", ": c\ndata: " + listResp + "\n: d\n\n",
			": c\n: d\ndata: " + listFiltered + "\n\n", false},
		{"data without space", "data:" + listResp + "\n\n", "data: " + listFiltered + "\n\n", false},
		{"unparseable event dropped", "id: 7\ndata: {\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\"tools\":[\n\n",
			errorEvent, false},
		{"ambiguous list dropped", "data: {\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\"Tools\":[{\"name\":\"rm\"}]}}\n\n",
			errorEvent, false},
		{"other id passes", "data: {\"jsonrpc\":\"2.0\",\"id\":2,\"result\":{\"tools\":[{\"name\":\"rm\"}]}}\n\n",
			"data: {\"jsonrpc\":\"2.0\",\"id\":2,\"result\":{\"tools\":[{\"name\":\"rm\"}]}}\n\n", false},
		{"server request then list", "data: {\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"elicitation/create\",\"params\":{}}\n\ndata: " + listResp + "\n\n",
			"data: {\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"elicitation/create\",\"params\":{}}\n\ndata: " + listFiltered + "\n\n", false},
		{"incomplete event dropped", "data: " + listResp + "\n", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			// Every split point, and byte by byte.
			for split := 0; split <= len(tt.in); split++ {
				var out bytes.Buffer
				s := Filter{List: "tools", Allow: allowOnly("tool:ls"), RequestID: json.RawMessage("1")}.NewSSE(&out)
				if _, err := s.Write([]byte(tt.in[:split])); err != nil {
					t.Fatal(err)
				}
				if _, err := s.Write([]byte(tt.in[split:])); err != nil {
					t.Fatal(err)
				}
				if err := s.Close(); (err != nil) != tt.closeErr {
					t.Fatalf("Close = %v", err)
				}
				if out.String() != tt.want {
					t.Fatalf("split %d:\ngot  %q\nwant %q", split, out.String(), tt.want)
				}
			}
			var out bytes.Buffer
			s := Filter{List: "tools", Allow: allowOnly("tool:ls"), RequestID: json.RawMessage("1")}.NewSSE(&out)
			for i := 0; i < len(tt.in); i++ {
				if _, err := s.Write([]byte{tt.in[i]}); err != nil {
					t.Fatal(err)
				}
			}
			_ = s.Close()
			if out.String() != tt.want {
				t.Fatalf("byte by byte:\ngot  %q\nwant %q", out.String(), tt.want)
			}
		})
	}
}

// flushRecorder records what was written before each Flush.
type flushRecorder struct {
	bytes.Buffer
	flushed []string
}

func (f *flushRecorder) Flush() { f.flushed = append(f.flushed, f.String()) }

func TestSSEFilterStreamsCompleteEvents(t *testing.T) {
	t.Parallel()
	var rec flushRecorder
	s := NewSSEFilter(&rec, "tools", allowOnly("tool:ls"), true)
	first := "event: message\ndata: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\",\"params\":{}}\n\n"
	if _, err := s.Write([]byte(first + "data: {\"jsonrpc\"")); err != nil {
		t.Fatal(err)
	}
	if err := s.Flush(); err != nil {
		t.Fatal(err)
	}
	if len(rec.flushed) != 1 || rec.flushed[0] != first {
		t.Fatalf("flushed %q, want the first event only", rec.flushed)
	}
	if _, err := s.Write([]byte(`:"2.0","id":1,"result":{"tools":[{"name":"rm"}]}}` + "\n\n")); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	want := first + "data: {\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\"cacheScope\":\"private\",\"tools\":[]}}\n\n"
	if rec.String() != want {
		t.Fatalf("got %q\nwant %q", rec.String(), want)
	}
}

func TestSSEFilterLimits(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	s := NewSSEFilter(&out, "tools", nil, false)
	s.MaxEventBytes = 64
	_, err := s.Write([]byte("data: " + strings.Repeat("x", 100)))
	if !errors.Is(err, ErrEventTooLarge) {
		t.Fatalf("err = %v", err)
	}
	if _, err := s.Write([]byte("\n\n")); !errors.Is(err, ErrEventTooLarge) {
		t.Fatalf("sticky err = %v", err)
	}
	if out.Len() != 0 {
		t.Fatalf("wrote %q", out.String())
	}
}

type failWriter struct{}

var errWrite = errors.New("write failed")

func (failWriter) Write([]byte) (int, error) { return 0, errWrite }

func TestSSEFilterWriterError(t *testing.T) {
	t.Parallel()
	s := NewSSEFilter(failWriter{}, "tools", nil, false)
	if _, err := s.Write([]byte(": x\n\n")); !errors.Is(err, errWrite) {
		t.Fatalf("err = %v", err)
	}
	if err := s.Close(); !errors.Is(err, errWrite) {
		t.Fatalf("Close = %v", err)
	}
}

func FuzzSSEFilter(f *testing.F) {
	f.Add([]byte("id: 1\r\ndata: "+listResp+"\r\n\r\n"), uint16(5))
	f.Add([]byte(": k\n\ndata: x\n\n"), uint16(0))
	f.Fuzz(func(t *testing.T, in []byte, split uint16) {
		cut := int(split) % (len(in) + 1)
		var a, b bytes.Buffer
		s1 := NewSSEFilter(&a, "tools", allowOnly("tool:ls"), false)
		s1.Write(in)
		s1.Close()
		s2 := NewSSEFilter(&b, "tools", allowOnly("tool:ls"), false)
		s2.Write(in[:cut])
		s2.Write(in[cut:])
		s2.Close()
		// Splitting never changes the output, except for a CR at the cut
		// that ends a blank line (the following LF is then written alone).
		if a.String() != b.String() {
			t.Fatalf("split %d changes output:\n%q\n%q", cut, a.String(), b.String())
		}
		// Filtering is idempotent: no event of the output still carries an
		// item the filter removes, and nothing unparseable survives.
		var c bytes.Buffer
		s3 := NewSSEFilter(&c, "tools", allowOnly("tool:ls"), false)
		s3.Write(a.Bytes())
		s3.Close()
		if c.String() != a.String() {
			t.Fatalf("not idempotent:\n%q\n%q", a.String(), c.String())
		}
	})
}
