package main

import (
	"bufio"
	"fmt"
	"io"
	"strings"

	"github.com/mcpauthz/mcpauthz/authserver"
)

// hashSecretCmd reads a client secret (the first line of stdin, without its
// line ending) and prints authserver.HashSecret of it.
func hashSecretCmd(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) != 0 {
		fmt.Fprintln(stderr, "usage: mcpauthz hash-secret < secret.txt   (the secret is read from stdin, never from arguments)")
		return 2
	}
	line, err := bufio.NewReader(io.LimitReader(stdin, 4096)).ReadString('\n')
	if err != nil && err != io.EOF {
		fmt.Fprintln(stderr, "mcpauthz hash-secret:", err)
		return 2
	}
	secret := strings.TrimRight(line, "\r\n")
	h, err := authserver.HashSecret(secret)
	if err != nil {
		fmt.Fprintln(stderr, "mcpauthz hash-secret:", err)
		return 2
	}
	fmt.Fprintln(stdout, h)
	return 0
}
