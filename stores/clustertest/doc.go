// Package clustertest is a test-only module: the multi-instance proof of
// issue 12 with every shared dependency at once. Three authorization server
// replicas keep their replay data and rate limits in Redis (stores/redis),
// three Guard replicas take their Casbin policy from PostgreSQL
// (stores/postgres: gorm-adapter, LISTEN/NOTIFY watcher) and share session
// bindings in Redis; round-robin proxies sit in front. The tests start a
// real redis-server and a real PostgreSQL (as the postgres user) on
// loopback with throwaway data directories.
//
// It is its own module so that neither store module depends on the other.
package clustertest
