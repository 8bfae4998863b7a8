// Command browser-login plays a user of a standard MCP client in a real,
// headless Chromium: it opens an authorization URL of the quickstart's
// authorization server, logs a demo user in at the development IdP, answers
// the consent page and stops when the browser reaches the client's redirect
// URI (the client's own listener receives the code there). It prints the
// outcome, never the code. interop/node/ts-authcode.mjs uses it as the
// browser of the TypeScript SDK's OAuth provider.
//
//	browser-login -user dave -redirect http://127.0.0.1:PORT/callback 'http://127.0.0.1:8080/as/authorize?...'
//
// Exit status 0 only when the browser reached the redirect URI.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"time"

	"github.com/mcpauthz/mcpauthz/interop/browser"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "browser-login:", err)
		os.Exit(1)
	}
}

func run(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("browser-login", flag.ContinueOnError)
	user := fs.String("user", "", "demo user to log in (REQUIRED)")
	password := fs.String("password", "demo-password", "the development IdP's demo password")
	decision := fs.String("consent", "allow", "consent decision: allow or deny")
	redirect := fs.String("redirect", "", "the client's redirect URI, where the login ends (REQUIRED)")
	artifacts := fs.String("artifacts", os.Getenv(browser.EnvArtifacts), "directory for screenshots (default $"+browser.EnvArtifacts+"; none when empty)")
	name := fs.String("name", "browser-login", "screenshot file prefix")
	timeout := fs.Duration("timeout", 60*time.Second, "bound of the whole run")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 || *user == "" || *redirect == "" {
		return errors.New("usage: browser-login -user NAME -redirect URI AUTHORIZATION_URL")
	}
	for _, u := range []string{fs.Arg(0), *redirect} {
		p, err := url.Parse(u)
		if err != nil || (p.Hostname() != "127.0.0.1" && p.Hostname() != "localhost" && p.Hostname() != "::1") {
			return fmt.Errorf("%.80s: only loopback URLs", u)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	b, stop, err := browser.Start(ctx, browser.Config{})
	if err != nil {
		return err
	}
	defer stop()
	tab, rec, closeTab, err := browser.NewTab(b, browser.TabConfig{Name: *name, ArtifactDir: *artifacts})
	if err != nil {
		return err
	}
	defer closeTab()
	out, err := browser.Login(tab, rec, fs.Arg(0), browser.LoginOptions{
		User: *user, Password: *password, Decision: *decision, RedirectURI: *redirect,
	})
	if err != nil {
		return err
	}
	if out.Callback == nil {
		final := out.Final
		if u, err := url.Parse(final); err == nil {
			final = u.Scheme + "://" + u.Host + u.Path // the query may carry the IdP's code
		}
		return fmt.Errorf("the login ended on %s (HTTP %d): %s %s", final, out.Status, out.ErrorTitle, out.ErrorMessage)
	}
	result := "code issued"
	if e := out.Callback.Get("error"); e != "" {
		result = "error=" + e
	}
	fmt.Fprintf(stdout, "browser reached the client's redirect URI (%s; consent page shown: %v; %d screenshots)\n",
		result, out.ConsentShown, len(rec.Screenshots()))
	return nil
}
