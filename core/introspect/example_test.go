package introspect_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/mcpauthz/mcpauthz/core"
	"github.com/mcpauthz/mcpauthz/core/introspect"
)

func ExampleNew() {
	// A stand-in authorization server: one active token, everything else
	// inactive.
	as := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.PostFormValue("token") == "2YotnFZFEjr1zCsicMWpAA" {
			fmt.Fprint(w, `{"active":true,"iss":"https://as.example.com","aud":"https://mcp.example.com/mcp",
				"sub":"U019488227","client_id":"f53f191f9311af35","scope":"mcp:tools","exp":4102444800}`)
			return
		}
		fmt.Fprint(w, `{"active":false}`)
	}))
	defer as.Close()

	v, err := introspect.New(introspect.Config{
		Endpoint:     as.URL, // http is allowed for loopback only
		ClientID:     "mcp-server",
		ClientSecret: "secret",
		Issuer:       "https://as.example.com",
		Audience:     []string{"https://mcp.example.com/mcp"},
		PositiveTTL:  15 * time.Second, // revocation takes effect within 15s
	})
	if err != nil {
		panic(err)
	}
	c, err := v.Verify(context.Background(), "2YotnFZFEjr1zCsicMWpAA")
	if err != nil {
		panic(err)
	}
	fmt.Println(c.Subject, c.ClientID, c.Scopes)

	_, err = v.Verify(context.Background(), "revoked-token")
	fmt.Println(errors.Is(err, core.ErrInactiveToken))
	// Output:
	// U019488227 f53f191f9311af35 [mcp:tools]
	// true
}

func ExampleVerifier_Ready() {
	// An endpoint that knows no token, then one that refuses the resource
	// server's credentials.
	refuse := false
	as := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if refuse {
			http.Error(w, `{"error":"invalid_client"}`, http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"active":false}`)
	}))
	defer as.Close()
	v, err := introspect.New(introspect.Config{
		Endpoint: as.URL, ClientID: "mcp-server", ClientSecret: "secret",
		Issuer: "https://as.example.com", Audience: []string{"https://mcp.example.com/mcp"},
		BackoffInitial: -1, // probe on every call, for the example
	})
	if err != nil {
		panic(err)
	}
	fmt.Println(v.Ready(context.Background()))
	refuse = true
	err = v.Ready(context.Background())
	fmt.Println(errors.Is(err, core.ErrUnavailable))
	// Output:
	// <nil>
	// true
}
