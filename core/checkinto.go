package core

import "context"

// CheckInto is [Guard.Check] with the Result stored in *res, which the
// caller owns: an adapter that makes one allocation per request anyway
// embeds the Result in it and saves Check's own (Serve does the same).
// CheckInto first zeroes *res; it returns res when the request is allowed,
// and after a refusal *res holds nothing usable. A nil res is Check.
//
// The Result, and the context [Result.Context] derives from it, may be
// kept by whatever the request starts (a handler's goroutine), exactly as
// Check's own Result may: res must not be reused for another request.
func (g *Guard) CheckInto(ctx context.Context, r *Request, res *Result) (*Result, error) {
	if res != nil {
		*res = Result{}
	}
	if g == nil {
		return nil, nilGuardError(ctx)
	}
	return g.checkIn(ctx, r, res, nil, nil)
}

// remoteAddr is r.RemoteAddr, or the String form of r.Peer when
// RemoteAddr is empty (see Request.Peer).
func (r *Request) remoteAddr() string {
	if r.RemoteAddr == "" && r.Peer != nil {
		return r.Peer.String()
	}
	return r.RemoteAddr
}
