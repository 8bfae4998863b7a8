// Package replay detects the reuse of one-time identifiers, such as the
// "jti" of a client assertion or of an ID-JAG, for the embedded
// authorization server.
//
// A [Store] records a key until its expiry and refuses a second insert of the
// same key while the first is unexpired. [Memory] is a bounded in-process
// implementation: it sweeps expired entries on every call, and caps the
// entries of each issuer or client (partition) as well as the total entries
// and bytes. Deployments with several server instances need a shared Store
// (the stores/redis module has one) so that an assertion accepted by one
// instance is refused by the others.
//
// # Security
//
// A replay store must fail closed: when it cannot record a key it returns an
// error and the caller denies the request. [Memory] never evicts an
// unexpired entry to make room: when it is full it returns [ErrFull], so an
// attacker who floods it can cause denials but never a successful replay,
// and since keys are only recorded after the assertion's signature verified,
// only a registered client or trusted IdP can fill its own partition.
// Keys are compared exactly; callers namespace them with [Key] ("idjag",
// issuer, jti), which escapes "%" and "|" in the issuer or client id, so that
// identifiers from different issuers never collide, whatever bytes the
// issuer and the jti hold.
package replay
