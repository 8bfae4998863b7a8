package main

import (
	"bytes"
	"strings"
	"testing"
)

// TestTour runs the whole quickstart: IdP, authorization server, MCP server
// and the scripted tour, and requires every expectation to hold.
func TestTour(t *testing.T) {
	var out, errOut bytes.Buffer
	if err := run([]string{"tour"}, &out, &errOut); err != nil {
		t.Fatalf("tour failed: %v\n%s\n%s", err, out.String(), errOut.String())
	}
	transcript := out.String()
	for _, want := range []string{
		"alice sees tools [deploy echo list_tickets]",
		"bob   sees tools [echo list_tickets]",
		"carol sees tools [delete_repo deploy echo]",
		"alice deploys web-frontend to staging    -> allowed",
		"alice deploys web-frontend to production -> denied",
		"carol deploys web-frontend to production -> allowed",
		"ci-bot deploys web-api to production -> allowed",
		"ci-bot deploys billing to staging    -> denied",
		"after 403 insufficient_scope the client obtained [mcp:deploy mcp:tools]",
		"bob's next ID-JAG request is refused by the IdP",
		"dave  (marketing, admins; logged in at the IdP through the broker) sees tools [delete_repo deploy echo list_tickets]",
		"erin  (contractors) is refused by the broker's access policy: 403 Access denied page",
		"0 failed",
	} {
		if !strings.Contains(transcript, want) {
			t.Errorf("transcript lacks %q:\n%s", want, transcript)
		}
	}
	if strings.Contains(transcript, "eyJ") {
		t.Error("the transcript must never print a token")
	}
}

func TestUsage(t *testing.T) {
	var out, errOut bytes.Buffer
	if err := run([]string{"nope"}, &out, &errOut); err == nil {
		t.Fatal("unknown command accepted")
	}
	if err := run([]string{"token", "-server", "http://127.0.0.1:1/mcp"}, &out, &errOut); err == nil {
		t.Fatal("token without -user or -client accepted")
	}
}
