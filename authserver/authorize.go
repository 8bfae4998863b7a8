package authserver

import (
	"net/http"
)

// serveAuthorizeStub answers the authorization endpoint when no Broker is
// configured. The server then offers no interactive authorization, so every
// request is refused with the RFC 6749
// §4.1.2.1 error code unsupported_response_type. It never redirects: without
// registered redirect URIs any redirect_uri would be attacker-chosen, so the
// error is returned to the user agent directly (§4.1.2.1, first paragraph).
func serveAuthorizeStub(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		w.Header().Set("Allow", "GET, POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusBadRequest)
	_, _ = w.Write([]byte(`{"error":"unsupported_response_type","error_description":"this authorization server offers no interactive authorization; use OAuth client credentials or enterprise-managed authorization (ID-JAG)"}` + "\n"))
}
