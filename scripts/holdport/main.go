//go:build linux

// Command holdport holds a loopback port for a server a script starts and
// that binds the port itself, as testkit.ReservePort does for a test: it
// binds a socket with SO_REUSEADDR that never listens to a free port of
// 127.0.0.1, prints the port on a line of its own, and keeps the socket
// until its standard input ends (or it is killed). A server that sets
// SO_REUSEADDR too (Go's net.Listen, Node's net.Server) binds and listens
// there, while Linux hands the port to no bind to port 0 and no connect,
// so another process cannot take it, as it can take a port picked free
// and released (a process binding this very port by number still can: the
// server's start must still detect a failed bind).
//
// Usage, from bash: coproc HOLD { go run ./scripts/holdport; }; read -r port <&"${HOLD[0]}"
package main

import (
	"fmt"
	"io"
	"log"
	"os"

	"github.com/mcpauthz/mcpauthz/internal/testkit"
)

func main() {
	port, release, err := testkit.HoldPort(true)
	if err != nil {
		log.Fatalf("holdport: %v", err)
	}
	defer release()
	fmt.Println(port)
	_, _ = io.Copy(io.Discard, os.Stdin)
}
