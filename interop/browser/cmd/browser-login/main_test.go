package main

import (
	"io"
	"strings"
	"testing"
)

// TestRefusedArguments: the command refuses, before starting a browser,
// anything but loopback URLs and a complete command line.
func TestRefusedArguments(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no URL", []string{"-user", "dave", "-redirect", "http://127.0.0.1:1/callback"}, "usage"},
		{"no user", []string{"-redirect", "http://127.0.0.1:1/callback", "http://127.0.0.1:2/as/authorize"}, "usage"},
		{"no redirect", []string{"-user", "dave", "http://127.0.0.1:2/as/authorize"}, "usage"},
		{"remote authorization URL", []string{"-user", "dave", "-redirect", "http://127.0.0.1:1/callback", "https://as.example.com/authorize"}, "only loopback"},
		{"remote redirect", []string{"-user", "dave", "-redirect", "https://client.example.com/cb", "http://127.0.0.1:2/as/authorize"}, "only loopback"},
		{"unknown flag", []string{"-nope"}, "not defined"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := run(tc.args, io.Discard)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err %v, want %q", err, tc.want)
			}
		})
	}
}
