package httpx

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestAllowGet(t *testing.T) {
	for _, tc := range []struct {
		method string
		ok     bool
	}{
		{http.MethodGet, true},
		{http.MethodHead, true},
		{http.MethodPost, false},
		{http.MethodPut, false},
		{http.MethodDelete, false},
		{http.MethodOptions, false},
		{"get", false}, // methods are case-sensitive
	} {
		w := httptest.NewRecorder()
		ok := AllowGet(w, httptest.NewRequest(tc.method, "/", nil))
		if ok != tc.ok {
			t.Errorf("%s: allowed %v, want %v", tc.method, ok, tc.ok)
		}
		if ok {
			if w.Code != http.StatusOK || w.Body.Len() != 0 || len(w.Header()) != 0 {
				t.Errorf("%s: allowed but wrote %d %v %q", tc.method, w.Code, w.Header(), w.Body)
			}
			continue
		}
		if w.Code != http.StatusMethodNotAllowed || w.Header().Get("Allow") != "GET, HEAD" {
			t.Errorf("%s: %d Allow %q, want 405 and GET, HEAD", tc.method, w.Code, w.Header().Get("Allow"))
		}
	}
}
