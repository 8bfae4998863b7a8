// Package postgres keeps the casbinauthz policy in PostgreSQL and pushes
// changes to every replica.
//
// The policy rows live in Casbin's own table through the official
// gorm-adapter ([NewSource] wraps it in a casbinauthz.AdapterSource), so
// Casbin tooling that writes through gorm-adapter edits the same policy.
// [Watcher] is a Casbin persist.Watcher over PostgreSQL LISTEN/NOTIFY
// (pgx): a replica that changed the policy calls Update, every replica's
// Authorizer reloads (casbinauthz.Authorizer.SetWatcher), validates and
// swaps the new policy in, and reports the same Digest.
//
// This is its own Go module so that gorm and pgx never reach the root
// module.
//
// # Failure modes
//
//   - PostgreSQL down when a replica starts: NewSource succeeds (the table
//     is created by the first load that reaches the database); with
//     casbinauthz Config.LastGoodPath the Authorizer starts from the last
//     policy accepted before, degraded and not ready until PostgreSQL is
//     reached, then converges through the watcher or the poll.
//   - PostgreSQL down or slow: a reload fails at the AdapterSource timeout,
//     the last good policy stays in force and decisions continue; the
//     failure is logged and counted (casbinauthz Stats.ReloadErrors).
//   - Garbage rows (unknown policy type, wrong field count, invalid glob,
//     empty table): the load is rejected as for a broken file; the last
//     good policy stays.
//   - The watcher's connection drops: it reconnects with capped backoff
//     and, once listening again, fires one callback so that changes made
//     while it was away are loaded. Run casbinauthz Authorizer.Watch as
//     well, with a slow poll, as a backstop.
package postgres
