package authserver

import "time"

// ReplayMarkLifetime is the longest time a one-time identifier that a
// [Server] built from c records stays in its ReplayStore. Each mark is
// kept until the identifier's expiry + Leeway + ReplayClockSkew (so that a
// replica whose clock is behind still finds it), by the clock of the
// replica that records it:
//   - an ID-JAG or a client assertion is accepted with "exp" up to
//     MaxAssertionLifetime + Leeway after now ("iat" and "nbf" may be
//     Leeway ahead), so its mark lives at most MaxAssertionLifetime +
//     2×Leeway + ReplayClockSkew (defaults: 6 min 30 s);
//   - with a Broker, a login step (the upstream callback, the consent
//     form) is marked until the login's expiry, LoginLifetime after
//     /authorize at a replica whose clock may be ReplayClockSkew ahead,
//     so its mark lives at most LoginLifetime + Leeway + 2×ReplayClockSkew
//     (defaults: 11 min 30 s, the longest mark of a broker), and an
//     authorization code's, likewise, DefaultCodeLifetime + Leeway +
//     2×ReplayClockSkew.
//
// A replay store that can lose marks ([replay.Quarantiner], such as
// stores/redis after a failover) must refuse one-time uses for at least
// this long; [New] refuses a shorter quarantine. Zero fields count as
// their defaults; c is not otherwise validated.
func (c *Config) ReplayMarkLifetime() time.Duration {
	leeway := orDefault(c.Leeway, DefaultLeeway)
	skew := orDefault(c.ReplayClockSkew, DefaultReplayClockSkew)
	d := orDefault(c.MaxAssertionLifetime, DefaultMaxAssertionLifetime) + 2*leeway + skew
	if c.Broker != nil {
		login := orDefault(c.Broker.LoginLifetime, DefaultLoginLifetime)
		d = max(d, max(login, DefaultCodeLifetime)+leeway+2*skew)
	}
	return d
}
