package authserver

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/mcpauthz/mcpauthz/authserver/replay"
)

// GrantStepKind names what a [GrantStep] asks of the shared store.
type GrantStepKind uint8

// The kinds of [GrantStep].
const (
	// StepCheckFailures refuses when the failure bucket Key has no room
	// under Limit; when that bucket is not idle (full), it also refuses
	// when GlobalKey has no room under GlobalLimit. It charges nothing.
	StepCheckFailures GrantStepKind = iota + 1
	// StepCharge charges one event to Key under Limit and refuses when it
	// does not fit.
	StepCharge
	// StepConsume records the one-time identifier Key until Exp and refuses
	// a Key recorded before (a replay). A Key whose Exp is not in the
	// future is accepted without being recorded, as replay.Store does.
	StepConsume
)

// GrantStep is one rate-limit or replay step of a token request.
type GrantStep struct {
	Kind        GrantStepKind
	Key         string
	Limit       Limit
	GlobalKey   string // StepCheckFailures only
	GlobalLimit Limit  // StepCheckFailures only
	Exp         time.Time
}

// GrantStepsResult is the answer of [GrantSteps.RunGrantSteps].
type GrantStepsResult struct {
	// Refused is the index of the step that refused, or -1 when every
	// step passed. Steps after a refused one were not run.
	Refused int
	// RetryAfter is how long until a refused rate-limit step would pass.
	RetryAfter time.Duration
}

// GrantSteps is implemented by a shared store that is both the server's
// [Limiter] and its replay.Store and can run the steps of one token request
// in one round trip (stores/redis's GrantStore does, in one Lua script).
// The server uses it when Config.RateLimiter and Config.ReplayStore are the
// same value implementing GrantSteps; it then sends a request's steps in one
// call once the request is verified (and signs meanwhile with
// Config.SignWhileStoring), and answers only once they are in.
//
// RunGrantSteps runs steps in order, atomically with respect to other
// calls, and stops at the first refusal, exactly as if each step were made
// on its own through Limiter and replay.Store; a call its client sends
// again charges and consumes once. An error means nothing is
// known (the server answers 503 temporarily_unavailable); it must wrap
// core.ErrStoreUnavailable when the backend fails and replay.ErrInvalidKey
// for a key the store does not accept.
type GrantSteps interface {
	Limiter
	replay.Store
	RunGrantSteps(ctx context.Context, steps []GrantStep) (GrantStepsResult, error)
}

// GrantStepsSender is a [GrantSteps] store that can send a batch without
// waiting for its answer (stores/redis's GrantStore does with
// ReplayConfig.Sender). The server then signs the access token on the same
// goroutine while the store works, and collects the answer before it
// returns anything: the store's round trip is hidden behind the signature
// without a second goroutine (see Config.SignWhileStoring for why that
// matters on small machines). A token signed for a refused or failed batch
// is dropped, as with SignWhileStoring.
type GrantStepsSender interface {
	GrantSteps
	// SendGrantSteps sends steps and returns the function that waits for
	// their answer, with RunGrantSteps's contract. The caller calls it
	// exactly once; until then the store may hold a connection for it.
	SendGrantSteps(ctx context.Context, steps []GrantStep) (wait func() (GrantStepsResult, error))
}

// A stepsKey carries the request's *admission in its context.
type stepsKey struct{}

// admission gathers the rate-limit and replay steps of one token request.
// Without a GrantSteps store (or once immediate is set) each step runs when
// it is added, through Limiter and replay.Store. With one, steps are
// gathered and sent as one batch (flush) when the request has been
// verified, or as soon as it failed, so the order and the outcome are those
// of running the steps one by one. With Config.SignWhileStoring the access
// token is signed on another goroutine while the batch is under way
// (issueChecked); handleToken flushes before it answers, so nothing is
// returned before the store.
type admission struct {
	s         *Server
	runner    GrantSteps
	immediate bool
	pending   []GrantStep
	refusals  []func(GrantStepsResult) *oauthError
	failed    *oauthError
}

func (s *Server) newAdmission(ctx context.Context) (context.Context, *admission) {
	a := &admission{s: s, runner: s.steps, immediate: s.steps == nil}
	return context.WithValue(ctx, stepsKey{}, a), a
}

func admissionFrom(ctx context.Context) *admission {
	a, _ := ctx.Value(stepsKey{}).(*admission)
	return a
}

// step runs st now, or queues it: refuse maps a refusal to the answer. It
// returns the answer of a step run now, or of an earlier batch that was
// refused.
func (s *Server) step(ctx context.Context, st GrantStep, refuse func(GrantStepsResult) *oauthError) *oauthError {
	a := admissionFrom(ctx)
	if a == nil || a.immediate {
		return s.runStep(ctx, st, refuse)
	}
	if a.failed != nil {
		return a.failed
	}
	a.pending = append(a.pending, st)
	a.refusals = append(a.refusals, refuse)
	return nil
}

// runStep runs one step through Limiter or replay.Store.
func (s *Server) runStep(ctx context.Context, st GrantStep, refuse func(GrantStepsResult) *oauthError) *oauthError {
	switch st.Kind {
	case StepCheckFailures:
		d, err := s.limits.failStore.Peek(ctx, st.Key, st.Limit)
		if err != nil {
			return limiterDown(err)
		}
		if !d.Allowed {
			return refuse(GrantStepsResult{RetryAfter: d.RetryAfter})
		}
		if d.Idle {
			return nil
		}
		g, err := s.limits.failStore.Peek(ctx, st.GlobalKey, st.GlobalLimit)
		if err != nil {
			return limiterDown(err)
		}
		if !g.Allowed {
			return refuse(GrantStepsResult{RetryAfter: g.RetryAfter})
		}
	case StepCharge:
		d, err := s.limits.store.Allow(ctx, st.Key, st.Limit)
		if err != nil {
			return limiterDown(err)
		}
		if !d.Allowed {
			return refuse(GrantStepsResult{RetryAfter: d.RetryAfter})
		}
	case StepConsume:
		err := s.replay.CheckAndStore(ctx, st.Key, st.Exp)
		switch {
		case errors.Is(err, replay.ErrReplay):
			return refuse(GrantStepsResult{})
		case err != nil:
			return replayDown(err)
		}
	}
	return nil
}

// flush sends what is pending as one batch and returns the first refusal
// (of this batch or an earlier one).
func (a *admission) flush(ctx context.Context) *oauthError {
	if a.failed != nil || len(a.pending) == 0 {
		return a.failed
	}
	steps, refusals := a.pending, a.refusals
	a.pending, a.refusals = nil, nil
	res, err := a.runner.RunGrantSteps(ctx, steps)
	a.settle(steps, refusals, res, err)
	return a.failed
}

// send sends what is pending without waiting when the store is a
// GrantStepsSender, and returns the function that collects the answer
// (the first refusal, of this batch or an earlier one). ok is false when
// there is nothing to send or the store cannot split the call.
func (a *admission) send(ctx context.Context) (wait func() *oauthError, ok bool) {
	snd, isSender := a.runner.(GrantStepsSender)
	if !isSender || !a.queued() {
		return nil, false
	}
	steps, refusals := a.pending, a.refusals
	a.pending, a.refusals = nil, nil
	w := snd.SendGrantSteps(ctx, steps)
	return func() *oauthError {
		res, err := w()
		a.settle(steps, refusals, res, err)
		return a.failed
	}, true
}

// settle records the answer to one batch in a.failed.
func (a *admission) settle(steps []GrantStep, refusals []func(GrantStepsResult) *oauthError, res GrantStepsResult, err error) {
	switch {
	case err != nil:
		// The first step decides which dependency is reported down.
		if steps[0].Kind == StepConsume {
			a.failed = replayDown(err)
		} else {
			a.failed = limiterDown(err)
		}
	case res.Refused >= len(steps):
		a.failed = limiterDown(fmt.Errorf("grant steps: refused step %d of %d", res.Refused, len(steps)))
	case res.Refused >= 0:
		a.failed = refusals[res.Refused](res)
	}
}

// queued reports whether steps wait to be sent as a batch.
func (a *admission) queued() bool { return a.failed == nil && len(a.pending) > 0 }

// flushNow sends what is pending and runs every later step at once: for
// grants whose next steps depend on the store's answers.
func (a *admission) flushNow(ctx context.Context) *oauthError {
	oe := a.flush(ctx)
	a.immediate = true
	return oe
}

func replayDown(err error) *oauthError {
	oe := errUnavailable(http.StatusServiceUnavailable, "replay protection unavailable", err)
	oe.retryAfter = 5
	return oe
}
