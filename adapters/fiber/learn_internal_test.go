package fibermcp

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// TestLearnedIndex: learnedIndex and learnedMethods agree, and any other
// method (subscriptions/listen, which always streams, a variant, a client
// string) has no slot.
func TestLearnedIndex(t *testing.T) {
	t.Parallel()
	for i, m := range learnedMethods {
		if got := learnedIndex(m); got != i {
			t.Errorf("learnedIndex(%q) = %d, want %d", m, got, i)
		}
	}
	for _, m := range []string{"", "subscriptions/listen", "Tools/call", "tools/call ", "notifications/x", "GET"} {
		if got := learnedIndex(m); got != -1 {
			t.Errorf("learnedIndex(%q) = %d, want -1", m, got)
		}
	}
	l := newLearning()
	if s := l.slot(nil); s != nil {
		t.Errorf("slot of a request without a Result: %v, want none", s)
	}
}

// TestMethodSlot: a method runs inline after exactly learnAfter
// completions without a flush, and a flush at any point, before or after
// that, makes it stream for good; concurrent completions never pass
// learnAfter.
func TestMethodSlot(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		clean   int  // completions without a flush
		flushAt int  // the completion that flushes (-1: none)
		inline  bool // at the end
	}{
		{"none yet", 0, -1, false},
		{"one short", learnAfter - 1, -1, false},
		{"learned", learnAfter, -1, true},
		{"learned long ago", 3 * learnAfter, -1, true},
		{"first completion flushed", learnAfter, 0, false},
		{"flushed before learned", 2 * learnAfter, learnAfter - 1, false},
		{"flushed once learned", 2 * learnAfter, learnAfter + 2, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := &methodSlot{name: "tools/call"}
			for i := range tc.clean {
				s.completed(i == tc.flushAt)
			}
			if got := s.inline(); got != tc.inline {
				t.Errorf("inline() = %v, want %v (state %#x)", got, tc.inline, s.state.Load())
			}
		})
	}
	t.Run("first flush reported once", func(t *testing.T) {
		s := &methodSlot{}
		if !s.flushed() || s.flushed() {
			t.Error("flushed() must report the first call only")
		}
	})
	t.Run("concurrent", func(t *testing.T) {
		s := &methodSlot{}
		var wg sync.WaitGroup
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range 100 {
					s.completed(false)
				}
			}()
		}
		wg.Wait()
		if got := s.state.Load(); got != learnAfter {
			t.Errorf("state %d after 800 completions, want %d", got, learnAfter)
		}
	})
}

// TestCancelAtShutdown: the context of a handler whose late flush started
// the watch is cancelled at server shutdown, and the watch ends with the
// request.
func TestCancelAtShutdown(t *testing.T) {
	t.Parallel()
	t.Run("shutdown", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		shutdown := make(chan struct{})
		done := make(chan struct{})
		go func() { cancelAtShutdown(ctx, shutdown, cancel); close(done) }()
		close(shutdown)
		<-done
		if ctx.Err() == nil {
			t.Error("the handler's context was not cancelled at shutdown")
		}
	})
	t.Run("request ended", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { cancelAtShutdown(ctx, make(chan struct{}), cancel); close(done) }()
		cancel()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatal("the watch outlived its request")
		}
	})
}

// TestLearnerFor: by default only the go-sdk's own handler, unwrapped,
// learns; LearnAlways learns for any handler, LearnNever and Buffered for
// none, and an unknown Learning value learns nothing.
func TestLearnerFor(t *testing.T) {
	t.Parallel()
	sdk := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return nil }, nil)
	wrapped := http.StripPrefix("/x", sdk)
	other := http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})
	for _, tc := range []struct {
		name  string
		h     http.Handler
		cfg   HandlerConfig
		learn bool
	}{
		{"sdk, default", sdk, HandlerConfig{}, true},
		{"sdk wrapped, default", wrapped, HandlerConfig{}, false},
		{"other, default", other, HandlerConfig{}, false},
		{"other, LearnAlways", other, HandlerConfig{Learning: LearnAlways}, true},
		{"sdk wrapped, LearnAlways", wrapped, HandlerConfig{Learning: LearnAlways}, true},
		{"sdk, LearnNever", sdk, HandlerConfig{Learning: LearnNever}, false},
		{"sdk, Buffered", sdk, HandlerConfig{Buffered: true}, false},
		{"other, LearnAlways, Buffered", other, HandlerConfig{Learning: LearnAlways, Buffered: true}, false},
		{"sdk, unknown mode", sdk, HandlerConfig{Learning: Learning(7)}, false},
	} {
		if got := learnerFor(tc.h, tc.cfg) != nil; got != tc.learn {
			t.Errorf("%s: learns %v, want %v", tc.name, got, tc.learn)
		}
	}
}
