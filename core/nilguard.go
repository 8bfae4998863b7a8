package core

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
)

// ErrNilGuard is the cause of every answer of a nil *Guard.
//
// A nil *Guard is a wiring mistake: core.New failed and its error was
// dropped, or a Guard field was never set. The adapters do not check for
// it themselves; the methods they call are safe on a nil *Guard and fail
// closed, so a nil Guard never panics a server and never lets a request
// through:
//
//   - [Guard.Serve] answers every request with 500 (JSON-RPC error body,
//     "server misconfigured") without calling next, and logs
//     [ErrNilGuard] at level Error.
//   - [Guard.Check] and [Guard.CheckInto] return an *Error of
//     KindInternal wrapping ErrNilGuard; [Guard.Render] answers 500 for
//     any error.
//   - [Guard.MetadataHandler] answers 500; [Guard.MetadataPaths] is
//     [WellKnownPath] and [Guard.ResourcePath] "/", so the adapters'
//     registration helpers mount a handler that answers 500 instead of
//     panicking.
//   - [Guard.Ready] and [Guard.EndSession] return ErrNilGuard.
//
// With no Guard there is no configured logger: the error is logged with
// slog.Default(). Check the error of core.New instead of relying on this.
var ErrNilGuard = errors.New("core: nil *Guard: the adapter was given no Guard (check the error of core.New); refusing the request with 500")

// nilGuardDescription is the client-safe text of a nil Guard's 500.
const nilGuardDescription = "server misconfigured"

// nilGuardError is the refusal Check returns on a nil Guard.
func nilGuardError(ctx context.Context) *Error {
	logNilGuard(ctx)
	return &Error{Kind: KindInternal, Description: nilGuardDescription, Err: ErrNilGuard}
}

func logNilGuard(ctx context.Context) {
	slog.Default().ErrorContext(ctx, ErrNilGuard.Error())
}

// nilGuardResponse is the 500 of a nil Guard.
func nilGuardResponse() *Response {
	resp := &Response{Status: http.StatusInternalServerError, Header: http.Header{}}
	resp.Header.Set("Content-Type", "application/json")
	resp.Header.Set("Cache-Control", "no-store")
	resp.Body = rpcErrorBody(nil, codeInternalError, nilGuardDescription, nil)
	return resp
}

// nilGuardHandler answers every request with the nil Guard's 500.
type nilGuardHandler struct{}

func (nilGuardHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	logNilGuard(r.Context())
	WriteResponse(w, nilGuardResponse())
}
