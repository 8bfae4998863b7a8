// Package httpx holds the HTTP helpers shared by core, authserver and
// client.
package httpx

import "net/http"

// AllowGet reports whether r is a GET or HEAD. Otherwise it answers 405
// with "Allow: GET, HEAD" and returns false: the method check of the
// read-only routes (probes, metadata, JWKS, the consent page).
func AllowGet(w http.ResponseWriter, r *http.Request) bool {
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		return true
	}
	w.Header().Set("Allow", "GET, HEAD")
	http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	return false
}
