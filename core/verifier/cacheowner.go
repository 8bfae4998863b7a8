package verifier

import "github.com/mcpauthz/mcpauthz/core"

// CacheOwner implements core.CachedVerifier: the verifier whose cache
// VerifyCached answers from is v itself. A type that embeds *Verifier
// inherits this method, which then names the embedded Verifier, not the
// embedding type, so a Guard configured with that type does not answer
// from v's cache without calling the type's own Verify.
func (v *Verifier) CacheOwner() core.TokenVerifier { return v }
