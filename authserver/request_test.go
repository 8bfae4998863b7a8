package authserver

import (
	"net/http"
	"strings"
	"testing"
)

// A05: request-shape errors.
func TestRequestShape(t *testing.T) {
	t.Parallel()
	ok := form("grant_type", "client_credentials")
	creds := [2]string{testSecretID, testSecret}
	tests := []struct {
		name   string
		r      req
		status int
		err    string
		allow  string
	}{
		{name: "baseline", r: req{body: ok, basic: creds}, status: 200},
		{name: "charset utf-8 accepted", r: req{body: ok, basic: creds, headers: map[string]string{"Content-Type": "application/x-www-form-urlencoded; charset=UTF-8"}}, status: 200},
		{name: "GET", r: req{method: http.MethodGet, basic: creds}, status: 405, err: "invalid_request", allow: "POST"},
		{name: "PUT", r: req{method: http.MethodPut, body: ok, basic: creds}, status: 405, err: "invalid_request", allow: "POST"},
		{name: "params in the query", r: req{target: "/token?grant_type=client_credentials", basic: creds}, status: 400, err: "invalid_request"},
		{name: "empty query string marker only", r: req{target: "/token?x", body: ok, basic: creds}, status: 400, err: "invalid_request"},
		{name: "JSON body", r: req{body: `{"grant_type":"client_credentials"}`, basic: creds, headers: map[string]string{"Content-Type": "application/json"}}, status: 400, err: "invalid_request"},
		{name: "JSON body labelled as form", r: req{body: `{"grant_type":"client_credentials"}`, basic: creds}, status: 400, err: "invalid_request"},
		{name: "missing Content-Type", r: req{body: ok, basic: creds, headers: map[string]string{"Content-Type": ""}}, status: 400, err: "invalid_request"},
		{name: "multipart", r: req{body: ok, basic: creds, headers: map[string]string{"Content-Type": "multipart/form-data; boundary=x"}}, status: 400, err: "invalid_request"},
		{name: "charset latin1", r: req{body: ok, basic: creds, headers: map[string]string{"Content-Type": "application/x-www-form-urlencoded; charset=iso-8859-1"}}, status: 400, err: "invalid_request"},
		{name: "gzip body", r: req{body: ok, basic: creds, headers: map[string]string{"Content-Encoding": "gzip"}}, status: 400, err: "invalid_request"},
		{name: "duplicated grant_type", r: req{body: ok + "&grant_type=client_credentials", basic: creds}, status: 400, err: "invalid_request"},
		{name: "duplicated empty scope", r: req{body: ok + "&scope=&scope=", basic: creds}, status: 400, err: "invalid_request"},
		{name: "duplicated resource", r: req{body: ok + "&resource=" + testMCP + "&resource=" + testOther, basic: creds}, status: 400, err: "invalid_request"},
		{name: "semicolon separator", r: req{body: "grant_type=client_credentials;scope=x", basic: creds}, status: 400, err: "invalid_request"},
		{name: "bad percent-encoding", r: req{body: ok + "&scope=%zz", basic: creds}, status: 400, err: "invalid_request"},
		{name: "invalid UTF-8", r: req{body: ok + "&scope=%ff", basic: creds}, status: 400, err: "invalid_request"},
		{name: "NUL in value", r: req{body: ok + "&scope=a%00b", basic: creds}, status: 400, err: "invalid_request"},
		{name: "empty piece", r: req{body: ok + "&&scope=x", basic: creds}, status: 400, err: "invalid_request"},
		{name: "piece without =", r: req{body: ok + "&scope", basic: creds}, status: 400, err: "invalid_request"},
		{name: "1 MB assertion", r: req{body: form("grant_type", GrantJWTBearer, "assertion", strings.Repeat("a", 1<<20)), basic: creds}, status: 413, err: "invalid_request"},
		{name: "20 KB assertion under the body cap", r: req{body: form("grant_type", GrantJWTBearer, "assertion", strings.Repeat("a", 20<<10)), basic: creds}, status: 400, err: "invalid_grant"},
		{name: "too many parameters", r: req{body: ok + manyParams(40), basic: creds}, status: 400, err: "invalid_request"},
		{name: "unknown grant", r: req{body: form("grant_type", "password", "username", "a", "password", "b"), basic: creds}, status: 400, err: "unsupported_grant_type"},
		{name: "authorization_code grant", r: req{body: form("grant_type", "authorization_code", "code", "x"), basic: creds}, status: 400, err: "unsupported_grant_type"},
		{name: "token-exchange grant", r: req{body: form("grant_type", "urn:ietf:params:oauth:grant-type:token-exchange"), basic: creds}, status: 400, err: "unsupported_grant_type"},
		{name: "missing grant_type", r: req{body: form("scope", "x"), basic: creds}, status: 400, err: "invalid_request"},
		{name: "unknown parameter ignored", r: req{body: ok + "&foo=bar", basic: creds}, status: 200},
		{name: "two Authorization headers", r: req{body: ok, basic: creds, headers: map[string]string{}}, status: 400, err: "invalid_request"},
		{name: "Bearer scheme", r: req{body: ok, headers: map[string]string{"Authorization": "Bearer abc"}}, status: 401, err: "invalid_client"},
		{name: "Basic without credentials", r: req{body: ok, headers: map[string]string{"Authorization": "Basic"}}, status: 401, err: "invalid_client"},
		{name: "Basic with bad base64", r: req{body: ok, headers: map[string]string{"Authorization": "Basic !!!"}}, status: 401, err: "invalid_client"},
		{name: "Basic without colon", r: req{body: ok, headers: map[string]string{"Authorization": "Basic c3ZjLXNlY3JldA=="}}, status: 401, err: "invalid_client"},
		{name: "lower-case basic scheme", r: req{body: ok, headers: map[string]string{"Authorization": strings.Replace(basicHeader(testSecretID, testSecret), "Basic", "basic", 1)}}, status: 200},
		{name: "secret in Basic and body", r: req{body: ok + "&client_id=svc-secret&client_secret=" + testSecret, basic: creds}, status: 400, err: "invalid_request"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, nil)
			var w = e.do(tc.r)
			if tc.name == "two Authorization headers" {
				w = e.doTwoAuth(tc.r)
			}
			res := decodeResult(t, w)
			if res.status != tc.status || res.err != tc.err {
				t.Fatalf("got %d %q (%s), want %d %q", res.status, res.err, res.desc, tc.status, tc.err)
			}
			if res.hdr.Get("Cache-Control") != "no-store" || res.hdr.Get("Content-Type") != "application/json" {
				t.Errorf("headers %v", res.hdr)
			}
			if got := res.hdr.Get("Allow"); got != tc.allow {
				t.Errorf("Allow = %q, want %q", got, tc.allow)
			}
			if tc.status == 401 && res.hdr.Get("WWW-Authenticate") == "" {
				t.Errorf("401 without WWW-Authenticate after an Authorization header")
			}
		})
	}
}

func manyParams(n int) string {
	var b strings.Builder
	for i := range n {
		b.WriteString("&p")
		b.WriteString(itoa(int64(i)))
		b.WriteString("=1")
	}
	return b.String()
}

// doTwoAuth sends the request with the Basic header twice.
func (e *env) doTwoAuth(r req) *httptestRecorder {
	h := basicHeader(r.basic[0], r.basic[1])
	r.basic = [2]string{}
	return e.doWith(r, func(hr *http.Request) { hr.Header.Add("Authorization", h); hr.Header.Add("Authorization", h) })
}

// A body over the cap without a Content-Length (chunked) is cut at the cap;
// a nil body is a missing grant_type.
func TestBodyLimitWithoutContentLength(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *Config) { c.MaxBodyBytes = 1024 })
	big := req{body: form("grant_type", GrantJWTBearer, "assertion", strings.Repeat("a", 2048)), basic: [2]string{testSecretID, testSecret}}
	res := decodeResult(t, e.doWith(big, func(r *http.Request) { r.ContentLength = -1 }))
	if res.status != http.StatusRequestEntityTooLarge || res.err != "invalid_request" {
		t.Fatalf("chunked oversize: %d %s", res.status, res.body)
	}
	res = decodeResult(t, e.doWith(req{basic: [2]string{testSecretID, testSecret}}, func(r *http.Request) { r.Body = nil }))
	if res.status != 400 || res.err != "invalid_request" {
		t.Fatalf("nil body: %d %s", res.status, res.body)
	}
}
