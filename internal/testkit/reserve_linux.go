package testkit

import "testing"

// ReservePort returns a port of 127.0.0.1 for a server the test starts
// and that binds the port itself: a child process (redis-server,
// postgres, a go-sdk example server) or a command given only an address.
// A socket with SO_REUSEADDR stays bound to the port, never listening,
// until the test ends. A server that sets SO_REUSEADDR too (net.Listen,
// redis-server and postgres do) binds and listens there, and can stop and
// start again on it; meanwhile Linux hands the port to no bind to port 0
// and no connect (net.ipv4.ip_autobind_reuse, default off), so another
// test's listener or client cannot take it, as it can take a port picked
// free and released. A process binding this very port by number (one
// that picked it free earlier and released it) still can: a start must
// still detect a failed bind. An error fails t.
func ReservePort(t testing.TB) int {
	t.Helper()
	return holdPort(t, true)
}
