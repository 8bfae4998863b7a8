// Package depfloor holds a test that asserts minimum versions of security
// sensitive dependencies across every module of the repository.
//
// govulncheck cannot reach its database from the build machines, so the
// known floors are asserted directly:
//
//   - github.com/go-jose/go-jose/v4 >= v4.1.4 (CVE-2026-34986 JWE panic; also
//     CVE-2025-27144 and CVE-2024-28180);
//   - github.com/coreos/go-oidc/v3 >= v3.15.0 (signature checked before claims
//     are parsed);
//   - github.com/golang-jwt/jwt/v5 >= v5.2.2 (CVE-2025-30204).
//
// The package has no non-test code besides the version comparator.
package depfloor
