package httpmcp

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"

	"github.com/modelcontextprotocol/go-sdk/auth"
)

// This file holds Middleware's per-request state, kept to one allocation
// on the hot path: the restored body (with the bytes of a small body), the
// context node that makes the state reachable from the request context,
// and the storage of the go-sdk TokenInfo.

// smallBodyBytes is the largest body stored inside the reqState itself.
const smallBodyBytes = 256

// reqState is the per-request allocation of Middleware.
type reqState struct {
	body   restoredBody
	ctx    stateCtx
	ti     auth.TokenInfo
	tiUsed bool // ti was handed to the go-sdk
	buf    [smallBodyBytes]byte
}

// restoredBody is the body next sees: a bytes.Reader over the bytes the
// Guard inspected, whose Close does nothing (net/http closes the original
// body).
type restoredBody struct {
	bytes.Reader
	b []byte
}

// Close does nothing; net/http closes the original body.
func (*restoredBody) Close() error { return nil }

// stateKey is the context key of the *reqState.
type stateKey struct{}

// stateCtx is the request context node carrying the *reqState.
type stateCtx struct {
	context.Context
	st *reqState
}

// Value answers stateKey and asks the parent for everything else.
func (c *stateCtx) Value(key any) any {
	if _, ok := key.(stateKey); ok {
		return c.st
	}
	return c.Context.Value(key)
}

// String names the node without printing the state.
func (c *stateCtx) String() string { return "httpmcp.state" }

// bytes returns the whole body (nil for no state or no body).
func (st *reqState) bytes() []byte {
	if st == nil {
		return nil
	}
	return st.body.b
}

// newTokenInfo returns zeroed TokenInfo storage: the request state's when
// Middleware's context carries one not yet used, else a new allocation.
func newTokenInfo(ctx context.Context) *auth.TokenInfo {
	if st, ok := ctx.Value(stateKey{}).(*reqState); ok && st != nil && !st.tiUsed {
		st.tiUsed = true
		return &st.ti
	}
	return new(auth.TokenInfo)
}

// readBody reads the whole body with limit max into a new reqState (nil
// when the body is too large or unreadable). tooLarge reports a body over
// the limit (the connection is then closed by net/http). A body with a
// known length is read into an exactly sized buffer, inside the state when
// it is small.
func readBody(w http.ResponseWriter, r *http.Request, max int64) (st *reqState, tooLarge bool, err error) {
	if r.Body == nil || r.Body == http.NoBody {
		return newState(nil), false, nil
	}
	if r.ContentLength > max {
		return nil, true, nil
	}
	if r.ContentLength > 0 {
		// net/http's body reader stops at Content-Length, which is ≤ max.
		st := &reqState{}
		n := int(r.ContentLength)
		var buf []byte
		if n <= smallBodyBytes {
			buf = st.buf[:n:n]
		} else {
			buf = make([]byte, n)
		}
		if _, err := io.ReadFull(r.Body, buf); err != nil {
			return nil, false, err
		}
		st.setBody(buf)
		return st, false, nil
	}
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, max))
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return nil, true, nil
	}
	if err != nil {
		return nil, false, err
	}
	return newState(b), false, nil
}

func newState(b []byte) *reqState {
	st := &reqState{}
	st.setBody(b)
	return st
}

func (st *reqState) setBody(b []byte) {
	st.body.b = b
	st.body.Reset(b)
}
