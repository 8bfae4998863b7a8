package replay

import "net/url"

// Key returns the key that records identifier id of owner (an IdP issuer,
// a client id) for one kind of one-time use ("idjag",
// "client_assertion"): "<kind>|<owner, percent-encoded>|<id>". The owner
// is encoded with url.QueryEscape ("|", ":" and "%" among the bytes
// encoded), so it never contains a separator and two different (owner, id)
// pairs never give the same key: issuer "a|b" with jti "c" and issuer "a"
// with jti "b|c" are different keys, as are "a:b" with "c" and "a" with
// "b:c". kind must not contain "|"; id is taken as it is (it is last). The
// partition of the key ([Partition]) is "<kind>|<encoded owner>", one per
// owner.
//
// The encoded owner is at most three times as long as the owner: a
// 1024-byte owner with a 256-byte id stays under DefaultMaxKeyLength.
func Key(kind, owner, id string) string {
	return kind + "|" + url.QueryEscape(owner) + "|" + id
}
