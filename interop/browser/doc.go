// Package browser drives a real Chromium (Debian's chromium package) with
// chromedp through the quickstart's single sign-on broker, as a user of a
// standard MCP client would: the authorization server sends the browser to
// the development IdP's login page, the user logs in, the authorization
// server shows its consent page, and the browser lands on the client's
// redirect URI with an authorization code.
//
// It is its own module so that the root module never pulls chromedp. The
// package holds the browser driver ([Start], [Login], [Recorder]); its tests
// run the quickstart (`quickstart serve`, built from examples/quickstart) and
// check the happy path, the refusal paths (denied consent, a user the access
// policy refuses, a tampered state), the page security headers the browser
// received, and that no secret ever appeared in a URL the browser visited.
// cmd/browser-login is the same driver as a command, used by the TypeScript
// SDK interop (interop/node/ts-authcode.mjs).
//
// # Running
//
// The tests need a Chromium binary (`chromium` in PATH, or
// MCPAUTHZ_CHROMIUM); without one they fail, they never skip. .ci/run installs
// Debian's chromium. Screenshots of every page go to $MCPAUTHZ_ARTIFACTS when
// set (CI sets it), else to the test's temporary directory:
//
//	cd interop/browser && MCPAUTHZ_ARTIFACTS=/tmp/shots go test -race -count=1 -v ./...
//
// The browser runs headless with --no-sandbox (CI runs as root), talks to
// chromedp over a pipe (no DevTools port) and resolves no host name except
// localhost, so it can only reach the loopback servers of the test. Every
// step has a deadline.
package browser
