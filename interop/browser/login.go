package browser

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/chromedp/chromedp"
)

// LoginOptions drive one login through the quickstart's broker.
type LoginOptions struct {
	User     string // demo user to pick on the development IdP's login page (REQUIRED)
	Password string // the demo password (REQUIRED)
	// Decision is the button pressed on the consent page: "allow" or "deny".
	// Default "allow".
	Decision string
	// RedirectURI is the client's redirect URI (without query): the login is
	// done when the browser arrives there (REQUIRED).
	RedirectURI string
	// TamperState changes the state parameter the IdP hands back to the
	// authorization server (the hidden field of the IdP's login form), as an
	// attacker forging the callback would.
	TamperState bool
	// StopAtConsent returns as soon as the consent page is shown, without
	// answering it.
	StopAtConsent bool
	// StepTimeout bounds each page step. Default 15 s.
	StepTimeout time.Duration
}

// Outcome is where a login ended.
type Outcome struct {
	// Final is the URL of the last page.
	Final string
	// Callback is the query the client's redirect URI received (code, state,
	// iss or error), nil when the login ended elsewhere.
	Callback url.Values
	// ConsentShown reports whether the consent page was displayed; CSRF is
	// the token of its form.
	ConsentShown bool
	CSRF         string
	// ConsentText is the visible text of the consent page.
	ConsentText string
	// ErrorTitle and ErrorMessage are the heading and the alert of an error
	// page the login ended on.
	ErrorTitle, ErrorMessage string
	// Status is the HTTP status of the last document.
	Status int
}

// Login opens authorizeURL in the tab and plays the user: picks opts.User on
// the development IdP's login page, types the password, submits, then answers
// the authorization server's consent page (when shown) with opts.Decision.
// It stops at the client's redirect URI or at an error page, taking a
// screenshot of every page.
func Login(tab context.Context, rec *Recorder, authorizeURL string, opts LoginOptions) (*Outcome, error) {
	if opts.User == "" || opts.Password == "" || opts.RedirectURI == "" {
		return nil, errors.New("browser: Login needs User, Password and RedirectURI")
	}
	if opts.Decision == "" {
		opts.Decision = "allow"
	}
	if opts.Decision != "allow" && opts.Decision != "deny" {
		return nil, fmt.Errorf("browser: unknown decision %q", opts.Decision)
	}
	if opts.StepTimeout <= 0 {
		opts.StepTimeout = 15 * time.Second
	}
	step := func(name string, actions ...chromedp.Action[chromedp.Void]) (int, error) {
		ctx, cancel := context.WithTimeout(tab, opts.StepTimeout)
		defer cancel()
		resp, err := chromedp.RunResponse(ctx, actions...)
		if err != nil {
			return 0, fmt.Errorf("browser: %s: %w", name, err)
		}
		if err := rec.Screenshot(ctx, name); err != nil {
			return 0, err
		}
		return int(resp.Status), nil
	}
	bounded := func() (context.Context, context.CancelFunc) { return context.WithTimeout(tab, opts.StepTimeout) }

	// 1. The authorization server redirects to the IdP's login page.
	status, err := step("idp-login", chromedp.Navigate(authorizeURL))
	if err != nil {
		return nil, err
	}
	out := &Outcome{Status: status}
	// Each page gets its own deadline for the reads and inputs on it.
	ctx, cancel := bounded()
	defer func() { cancel() }()
	if has, err := present(ctx, `input[name=password]`); err != nil || !has {
		return finish(tab, out, opts, err)
	}
	user := chromedp.CSS(fmt.Sprintf(`input[name=username][value=%q]`, opts.User))
	if err := chromedp.Do(ctx, chromedp.Click(user), chromedp.SendKeys(chromedp.CSS(`input[name=password]`), opts.Password)); err != nil {
		return nil, fmt.Errorf("browser: fill the login form: %w", err)
	}
	if opts.TamperState {
		state, err := chromedp.Run(ctx, chromedp.Value(chromedp.CSS(`input[name=state]`)))
		if err != nil {
			return nil, fmt.Errorf("browser: read state: %w", err)
		}
		if err := chromedp.Do(ctx, chromedp.SetValue(chromedp.CSS(`input[name=state]`), tamper(state))); err != nil {
			return nil, fmt.Errorf("browser: tamper state: %w", err)
		}
	}
	// 2. Log in: the IdP redirects to the authorization server, which shows
	// the consent page, an error page, or (consent remembered) redirects on.
	if out.Status, err = step("after-login", chromedp.Click(chromedp.CSS(`button[type=submit]`))); err != nil {
		return nil, err
	}
	cancel()
	ctx, cancel = bounded()
	if has, err := present(ctx, `button[name=decision]`); err != nil || !has {
		return finish(tab, out, opts, err)
	}
	out.ConsentShown = true
	if out.CSRF, err = chromedp.Run(ctx, chromedp.Value(chromedp.CSS(`input[name=csrf]`))); err != nil {
		return nil, fmt.Errorf("browser: read the consent form: %w", err)
	}
	if out.ConsentText, err = chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`main`))); err != nil {
		return nil, fmt.Errorf("browser: read the consent page: %w", err)
	}
	if opts.StopAtConsent {
		return finish(tab, out, opts, nil)
	}
	// 3. Answer the consent page.
	button := chromedp.CSS(fmt.Sprintf(`button[name=decision][value=%q]`, opts.Decision))
	if out.Status, err = step("after-consent-"+opts.Decision, chromedp.Click(button)); err != nil {
		return nil, err
	}
	return finish(tab, out, opts, nil)
}

// finish reads where the tab is: the client's redirect URI or an error page.
func finish(tab context.Context, out *Outcome, opts LoginOptions, err error) (*Outcome, error) {
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(tab, opts.StepTimeout)
	defer cancel()
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		return nil, fmt.Errorf("browser: location: %w", err)
	}
	out.Final = loc
	if rest, ok := strings.CutPrefix(loc, opts.RedirectURI); ok && (rest == "" || rest[0] == '?') {
		u, err := url.Parse(loc)
		if err != nil {
			return nil, err
		}
		out.Callback = u.Query()
		return out, nil
	}
	if has, err := present(ctx, `p[role=alert]`); err != nil {
		return nil, err
	} else if has {
		if out.ErrorTitle, err = chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`h1`))); err != nil {
			return nil, err
		}
		if out.ErrorMessage, err = chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`p[role=alert]`))); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// present reports whether the loaded page has an element matching sel,
// without waiting for one to appear.
func present(ctx context.Context, sel string) (bool, error) {
	nodes, err := chromedp.Run(ctx, chromedp.Nodes(chromedp.CSS(sel), chromedp.AtLeast(0)))
	if err != nil {
		return false, fmt.Errorf("browser: query %s: %w", sel, err)
	}
	return len(nodes) > 0, nil
}

// tamper changes a state value into another one of the same length.
func tamper(s string) string {
	if s == "" {
		return "tampered"
	}
	b := []byte(s)
	if b[0] == 'A' {
		b[0] = 'B'
	} else {
		b[0] = 'A'
	}
	return string(b)
}
