package browser_test

import (
	"context"
	"fmt"
	"time"

	"github.com/mcpauthz/mcpauthz/interop/browser"
)

// Example logs dave in through a running `quickstart serve` in a headless
// Chromium, as the browser of an MCP client whose redirect listener is at
// redirectURI. (Not run by go test: it needs the servers.)
func Example() {
	authorizeURL := "http://127.0.0.1:8080/as/authorize?..." // built by the MCP client
	redirectURI := "http://127.0.0.1:9999/callback"          // the client's loopback listener

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	b, stop, err := browser.Start(ctx, browser.Config{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer stop()
	tab, rec, closeTab, err := browser.NewTab(b, browser.TabConfig{Name: "example", ArtifactDir: "/tmp/shots"})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer closeTab()
	out, err := browser.Login(tab, rec, authorizeURL, browser.LoginOptions{
		User: "dave", Password: "demo-password", RedirectURI: redirectURI, Decision: "allow",
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("consent shown:", out.ConsentShown, "code received:", out.Callback.Get("code") != "")
	fmt.Println("URLs visited:", len(rec.URLs()), "screenshots:", rec.Screenshots())
}
