package main

import (
	"bufio"
	"fmt"
	"io"
	"strings"

	"github.com/mcpauthz/mcpauthz/authserver"
)

// maxSecretInput is the longest secret hash-secret reads, in bytes.
const maxSecretInput = 4096

// hashSecretCmd reads a client secret (the first line of stdin, without its
// line ending) and prints authserver.HashSecret of it. A secret longer
// than maxSecretInput is refused (exit 2), never cut: a hash of its first
// bytes would never match the secret the client sends.
func hashSecretCmd(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) != 0 {
		fmt.Fprintln(stderr, "usage: mcpauthz hash-secret < secret.txt   (the secret is read from stdin, never from arguments)")
		return 2
	}
	// room for the secret, a "\r\n" and one byte more to tell a longer one
	line, err := bufio.NewReader(io.LimitReader(stdin, maxSecretInput+3)).ReadString('\n')
	if err != nil && err != io.EOF {
		fmt.Fprintln(stderr, "mcpauthz hash-secret:", err)
		return 2
	}
	secret := strings.TrimRight(line, "\r\n")
	if len(secret) > maxSecretInput {
		fmt.Fprintf(stderr, "mcpauthz hash-secret: the secret is longer than %d bytes; refused (a shorter secret of 32 random bytes or more is enough)\n", maxSecretInput)
		return 2
	}
	h, err := authserver.HashSecret(secret)
	if err != nil {
		fmt.Fprintln(stderr, "mcpauthz hash-secret:", err)
		return 2
	}
	fmt.Fprintln(stdout, h)
	return 0
}
