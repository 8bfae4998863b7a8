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

// CheckIntoName is [Guard.CheckInto] that may keep the request's target
// name (a single tools/call, prompts/get or completion's name without
// escapes that fits) in name's spare capacity, name[:cap(name)], instead
// of a string of its own: Serve's technique, for an adapter whose own
// per-request allocation has room to spare next to the Result. The caller
// hands that memory over for good, exactly as with res: nothing may write
// it again or pass it to another call, because Permission.Name, audit
// events and whatever the Authorizer or the handler keeps point into it
// for as long as they live. Memory of a per-request object that is never
// reused qualifies (the same object as res, typically); a pooled or reused
// buffer does not. A nil or full name is CheckInto.
func (g *Guard) CheckIntoName(ctx context.Context, r *Request, res *Result, name []byte) (*Result, error) {
	if res != nil {
		*res = Result{}
	}
	if g == nil {
		return nil, nilGuardError(ctx)
	}
	return g.checkIn(ctx, r, res, nil, name) // res nil: Check's own allocation has room
}

// remoteAddr is r.RemoteAddr, or the String form of r.Peer when
// RemoteAddr is empty (see Request.Peer).
func (r *Request) remoteAddr() string {
	if r.RemoteAddr == "" && r.Peer != nil {
		return r.Peer.String()
	}
	return r.RemoteAddr
}
