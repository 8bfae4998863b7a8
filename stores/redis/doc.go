// Package redisstore keeps the state that mcpauthz replicas must share in
// Redis: the embedded authorization server's replay store and rate limits
// ([GrantStore], both in one value and an authserver.GrantSteps, so a token
// request costs one round trip; or [ReplayStore] and [Limiter] apart), its
// refresh token families ([RefreshStore]), the registry its replicas compare
// their signing keys in ([KeyRegistry], an authserver.KeyRegistry), the
// Guard's session bindings and
// per-principal session count ([SessionBindings], a core.SessionBindings
// and core.SessionCounter), and a Casbin policy watcher over Redis pub/sub
// ([Watcher], a persist.Watcher). Every type has Ready (a bounded PING; the
// replay and grant stores also report their quarantine), which
// Guard.Ready and authserver.Server.Ready call.
//
// It is a separate Go module so that deployments without Redis never
// download a Redis client. It needs Redis 6.2 or later (the grant script
// sets absolute expiries with SET … PXAT); the tests run Redis 7.
//
// # Why go-redis v9, and rueidis for the grant script
//
// The client is github.com/redis/go-redis/v9. Every operation here is one
// short command or one Lua script per request, so rueidis's strengths
// (automatic pipelining, client-side caching) buy little; go-redis's
// per-command context deadlines, its pub/sub with automatic
// resubscription, its UniversalClient over single node, Sentinel and
// Cluster, and its Script helper (EVALSHA with EVAL fallback) are what this
// package relies on, and it is the client most operators already
// configure.
//
// One call is the exception: the grant script, on the token endpoint's
// critical path. go-redis writes a command and reads its reply in one call,
// so its round trip (28–52 µs at p50 for a PING on the loaded 2-vCPU
// benchmark VM: system calls of 2–4 µs each and CPU wake-ups, see
// BenchmarkRoundTripFloor) adds to the signature.
// rueidis's DoStream writes the command on the caller's goroutine and
// leaves the read to the caller, so the server writes the script, signs
// the access token, then reads the answer, on one goroutine (a second
// goroutine costs more than it hides on small machines). That is
// ReplayConfig.Sender, an optional rueidis client used for nothing else.
//
// # Failure mode (the contract)
//
//   - Every operation runs under Config.Timeout (default 1 s) on top of
//     the client's own dial/read/write timeouts ([ClientOptions] sets
//     bounded ones: dial 1 s, read/write 500 ms, pool wait 500 ms, no dial
//     retry, one command retry).
//   - Any error (unreachable, timeout, garbage reply) is returned wrapped
//     with core.ErrStoreUnavailable. The authorization server answers 503
//     temporarily_unavailable to every grant while its replay store or
//     limiter fails: a replay is never accepted. The Guard answers 503 only
//     for requests that need a session binding and keeps serving the others.
//   - Nothing is cached across a failure and no connection state is kept
//     beyond go-redis's pool, so everything recovers on the first request
//     after Redis is back, without a restart. The watcher resubscribes by
//     itself and triggers one policy reload after each reconnection, because
//     updates published during the outage were lost.
//   - A failover (Sentinel or Cluster), a restart (empty or from an old
//     snapshot) or a flush can lose recorded identifiers. The replay and
//     grant stores keep the master's replication id (INFO replication) in
//     "<prefix>epoch:replid"; on a new one they refuse one-time uses for
//     ReplayConfig.Quarantine ([QuarantineError], 503), while rate limits
//     and grants without a one-time identifier go on. The refresh store
//     answers the same during the quarantine, and then refuses and revokes
//     every family last written under an earlier replication id (a lost
//     rotation would make a spent token current again). Their Redis user
//     needs the INFO command (ACL +info).
//
// # Keys
//
// Every key starts with Config.Prefix (default "{mcpauthz}:"). The braces
// are a Redis Cluster hash tag: all keys of one deployment live in one slot,
// so the multi-key session scripts work on Cluster too. Key material that
// comes from requests (jti values, session ids, principal ids) is hashed
// with SHA-256, so keys have a fixed size. Size Redis with maxmemory and
// the noeviction policy: an eviction would forget a jti early.
package redisstore
