package browser

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// EnvChromium names the browser binary; it overrides the PATH lookup.
const EnvChromium = "MCPAUTHZ_CHROMIUM"

// EnvArtifacts names the directory that receives screenshots (CI keeps it).
const EnvArtifacts = "MCPAUTHZ_ARTIFACTS"

// ErrNoBrowser is returned by [Start] when no Chromium binary is found.
var ErrNoBrowser = errors.New("browser: chromium not found (install Debian's chromium package or set " + EnvChromium + ")")

// Config configures [Start].
type Config struct {
	// ExecPath is the Chromium binary. Default: $MCPAUTHZ_CHROMIUM, else the
	// first of chromium, chromium-browser, google-chrome found in PATH.
	ExecPath string
	// StartTimeout bounds the browser's start-up. Default 30 s.
	StartTimeout time.Duration
	// Logger receives chromedp's diagnostics at debug level. Default: discarded.
	Logger *slog.Logger
}

// FindChromium returns the browser binary [Start] would use, or
// [ErrNoBrowser].
func FindChromium() (string, error) {
	if p := os.Getenv(EnvChromium); p != "" {
		return exec.LookPath(p)
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", ErrNoBrowser
}

// Start launches a headless Chromium with a throwaway profile. It returns
// the browser's chromedp context, to pass to [NewTab], and a function that
// stops the browser and removes its profile. ctx bounds the browser's whole
// life: do not give it a short deadline (per-step deadlines are derived from
// the tabs).
//
// The browser talks to chromedp over a pipe (no DevTools port is opened) and
// resolves no host name other than localhost and the loopback addresses:
// every page it loads must be on loopback. It runs with --no-sandbox,
// because CI runs as root in a container where Chromium's sandbox cannot
// start; it only ever visits the loopback servers of the test.
func Start(ctx context.Context, cfg Config) (context.Context, context.CancelFunc, error) {
	if cfg.ExecPath == "" {
		p, err := FindChromium()
		if err != nil {
			return nil, nil, err
		}
		cfg.ExecPath = p
	}
	if cfg.StartTimeout <= 0 {
		cfg.StartTimeout = 30 * time.Second
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	profile, err := os.MkdirTemp("", "mcpauthz-chromium-")
	if err != nil {
		return nil, nil, fmt.Errorf("browser: profile directory: %w", err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(cfg.ExecPath),
		chromedp.UserDataDir(profile),
		chromedp.NoSandbox,
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-domain-reliability", true),
		chromedp.Flag("no-pings", true),
		chromedp.Flag("window-size", "1000,800"),
		// Loopback only: every other host name fails to resolve.
		chromedp.Flag("host-resolver-rules", "MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1, EXCLUDE [::1]"),
	)
	actx, acancel := chromedp.NewExecAllocator(ctx, opts...)
	bctx, bcancel := chromedp.NewContext(actx, chromedp.WithLogf(func(f string, a ...any) {
		logger.Debug(fmt.Sprintf(f, a...))
	}))
	stop := func() {
		bcancel()
		acancel()
		_ = os.RemoveAll(profile)
	}
	if err := firstRun(bctx, cfg.StartTimeout); err != nil {
		stop()
		return nil, nil, fmt.Errorf("browser: start %s: %w", cfg.ExecPath, err)
	}
	return bctx, stop, nil
}

// TabConfig configures [NewTab].
type TabConfig struct {
	// Name prefixes the screenshot files, e.g. the test name. Default "tab".
	Name string
	// ArtifactDir receives the screenshots taken by [Recorder.Screenshot].
	// Default: "" (screenshots are taken but not written).
	ArtifactDir string
}

// NewTab opens a tab in a new browser context of the browser [Start]
// returned: its own cookies and storage, like a fresh private window. It
// returns the tab's chromedp context, a [Recorder] that sees every request and
// document of the tab from its start, and a function that closes the tab and
// its browser context.
func NewTab(browserCtx context.Context, cfg TabConfig) (context.Context, *Recorder, context.CancelFunc, error) {
	if cfg.Name == "" {
		cfg.Name = "tab"
	}
	rec := &Recorder{dir: cfg.ArtifactDir, name: sanitize(cfg.Name)}
	tab, cancel := chromedp.NewContext(browserCtx, chromedp.WithNewBrowserContext(), chromedp.WithListener(rec.observe))
	if err := firstRun(tab, 30*time.Second); err != nil {
		cancel()
		return nil, nil, nil, fmt.Errorf("browser: open a tab: %w", err)
	}
	return tab, rec, cancel, nil
}

// firstRun runs nothing on a new chromedp context, which starts its browser
// or opens its tab. The target lives as long as the context of that first
// Run, so that context must not carry a deadline: the wait is bounded from
// outside instead.
func firstRun(ctx context.Context, timeout time.Duration) error {
	done := make(chan error, 1)
	go func() { done <- chromedp.Do(ctx) }()
	select {
	case err := <-done:
		return err
	case <-time.After(timeout):
		return fmt.Errorf("no answer after %s", timeout)
	}
}

// Document is a main-frame HTML response the browser received.
type Document struct {
	URL     string
	Status  int
	Headers http.Header
}

// Recorder sees the tab's network traffic: every URL requested (including
// each hop of a redirect chain) and every document response. It is safe for
// concurrent use.
type Recorder struct {
	dir, name string

	mu      sync.Mutex
	urls    []string
	docs    []Document
	shots   []string
	counter int
}

const maxRecorded = 10000 // a test visits a few dozen URLs

// observe runs on chromedp's event loop: it only copies under the lock.
func (r *Recorder) observe(ev any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch ev := ev.(type) {
	case *network.EventRequestWillBeSent:
		if ev.Request != nil && len(r.urls) < maxRecorded {
			r.urls = append(r.urls, ev.Request.URL+ev.Request.URLFragment)
		}
	case *network.EventResponseReceived:
		if ev.Type == network.ResourceTypeDocument && ev.Response != nil && len(r.docs) < maxRecorded {
			h := http.Header{}
			for k, v := range ev.Response.Headers {
				// Chromium joins repeated headers with "\n".
				for _, line := range strings.Split(fmt.Sprint(v), "\n") {
					h.Add(k, line)
				}
			}
			r.docs = append(r.docs, Document{URL: ev.Response.URL, Status: int(ev.Response.Status), Headers: h})
		}
	}
}

// URLs returns every URL the tab requested so far, in order.
func (r *Recorder) URLs() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.urls...)
}

// Documents returns every document response the tab received so far.
func (r *Recorder) Documents() []Document {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Document(nil), r.docs...)
}

// LastDocument returns the most recent document response whose URL starts
// with prefix.
func (r *Recorder) LastDocument(prefix string) (Document, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := len(r.docs) - 1; i >= 0; i-- {
		if strings.HasPrefix(r.docs[i].URL, prefix) {
			return r.docs[i], true
		}
	}
	return Document{}, false
}

// Screenshots returns the files written so far.
func (r *Recorder) Screenshots() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.shots...)
}

// Screenshot captures the tab as a PNG named "<name>-NN-<step>.png" in the
// artifact directory (nothing is written without one).
func (r *Recorder) Screenshot(ctx context.Context, step string) error {
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		return fmt.Errorf("browser: screenshot %s: %w", step, err)
	}
	if r.dir == "" {
		return nil
	}
	r.mu.Lock()
	r.counter++
	file := filepath.Join(r.dir, fmt.Sprintf("%s-%02d-%s.png", r.name, r.counter, sanitize(step)))
	r.mu.Unlock()
	if err := os.MkdirAll(r.dir, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(file, png, 0o644); err != nil {
		return err
	}
	r.mu.Lock()
	r.shots = append(r.shots, file)
	r.mu.Unlock()
	return nil
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

func sanitize(s string) string {
	s = unsafeName.ReplaceAllString(s, "_")
	if len(s) > 80 {
		s = s[:80]
	}
	return s
}
