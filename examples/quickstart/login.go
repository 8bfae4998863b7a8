package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"time"
)

// runLogin is a scripted browser for the broker's authorization code flow:
// it opens an authorization URL of the quickstart's authorization server,
// logs a demo user in at the development IdP, answers the consent page and
// follows the final redirect to the client (whose callback server must be
// running). Used by interop/run-as-conformance.sh and the tests.
func runLogin(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("login", flag.ContinueOnError)
	user := fs.String("user", "alice", "demo user (alice, bob, carol)")
	decision := fs.String("consent", "allow", "consent decision: allow or deny")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return errors.New("login needs the authorization URL as its argument")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	final, err := browserLogin(ctx, fs.Arg(0), *user, demoPassword, *decision)
	if err != nil {
		return err
	}
	// Never print the code: name the target and the outcome only.
	u, err := url.Parse(final)
	if err != nil {
		return err
	}
	q := u.Query()
	outcome := "no code"
	switch {
	case q.Get("error") != "":
		outcome = "error=" + q.Get("error")
	case q.Get("code") != "":
		outcome = "code issued"
	}
	fmt.Fprintf(stdout, "redirected to %s://%s%s (%s)\n", u.Scheme, u.Host, u.Path, outcome)
	return nil
}

var (
	formRE  = regexp.MustCompile(`(?s)<form method="post" action="([^"]+)">(.*?)</form>`)
	inputRE = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)
)

// browserLogin walks authorize → IdP login form → AS callback → consent →
// client redirect with a cookie jar, like a browser. It returns the client
// redirect URL (with the code or error) after the client answered it.
func browserLogin(ctx context.Context, authorizeURL, user, password, decision string) (string, error) {
	u, err := url.Parse(authorizeURL)
	if err != nil || (u.Hostname() != "127.0.0.1" && u.Hostname() != "localhost") {
		return "", errors.New("the authorization URL must be a loopback URL of the quickstart")
	}
	jar, _ := cookiejar.New(nil)
	var last string
	hc := &http.Client{Jar: jar, Timeout: 10 * time.Second, CheckRedirect: func(r *http.Request, via []*http.Request) error {
		if len(via) > 10 {
			return errors.New("too many redirects")
		}
		last = r.URL.String()
		return nil
	}}
	page, err := fetch(ctx, hc, http.MethodGet, authorizeURL, nil)
	if err != nil {
		return "", err
	}
	// The IdP's login page.
	form, err := parseForm(page)
	if err != nil {
		return "", fmt.Errorf("login page: %w", err)
	}
	form.values.Set("username", user)
	form.values.Set("password", password)
	page, err = fetch(ctx, hc, http.MethodPost, form.action, form.values)
	if err != nil {
		return "", err
	}
	// The authorization server's consent page (absent when remembered).
	if strings.Contains(page, `name="csrf"`) {
		form, err := parseForm(page)
		if err != nil {
			return "", fmt.Errorf("consent page: %w", err)
		}
		action := form.action
		if strings.HasPrefix(action, "/") {
			action = u.Scheme + "://" + u.Host + action
		}
		form.values.Set("decision", decision)
		if _, err := fetch(ctx, hc, http.MethodPost, action, form.values); err != nil {
			return "", err
		}
	}
	return last, nil
}

type htmlForm struct {
	action string
	values url.Values
}

func parseForm(page string) (*htmlForm, error) {
	m := formRE.FindStringSubmatch(page)
	if m == nil {
		return nil, fmt.Errorf("no form in page: %.200s", page)
	}
	f := &htmlForm{action: html.UnescapeString(m[1]), values: url.Values{}}
	for _, in := range inputRE.FindAllStringSubmatch(m[2], -1) {
		f.values.Set(html.UnescapeString(in[1]), html.UnescapeString(in[2]))
	}
	return f, nil
}

func fetch(ctx context.Context, hc *http.Client, method, target string, form url.Values) (string, error) {
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(ctx, method, target, body)
	if err != nil {
		return "", err
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := hc.Do(req)
	if err != nil {
		// The URL of a failed hop may be the client's redirect URI with the
		// authorization code: keep its query out of the error.
		var ue *url.Error
		if errors.As(err, &ue) {
			if u, perr := url.Parse(ue.URL); perr == nil {
				u.RawQuery = ""
				ue.URL = u.String() + "?(query omitted)"
			}
		}
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return "", err
	}
	if resp.StatusCode >= 400 {
		return "", fmt.Errorf("%s %s: %d %.300s", method, resp.Request.URL.Path, resp.StatusCode, string(b))
	}
	return string(b), nil
}
