package replay

import "strings"

// Key returns the key that records identifier id of owner (an IdP issuer,
// a client id) for one kind of one-time use ("idjag",
// "client_assertion"): "<kind>|<owner, escaped>|<id>". In the owner, "%"
// becomes "%25" and "|" becomes "%7C", so it never contains the separator
// and two different (owner, id) pairs never give the same key: issuer
// "a|b" with jti "c" and issuer "a" with jti "b|c" are different keys. An
// owner without "%" or "|" (every usual issuer URL and client id) is
// written as it is, so the key is the one earlier versions wrote and
// replicas of both versions see each other's marks during a rolling
// upgrade. kind must not contain "|"; id is taken as it is (it is last).
// The partition of the key ([Partition]) is "<kind>|<escaped owner>", one
// per owner.
//
// The escaped owner is at most three times as long as the owner: a
// 1024-byte owner with a 256-byte id stays under DefaultMaxKeyLength.
func Key(kind, owner, id string) string {
	if !strings.ContainsAny(owner, "%|") {
		return kind + "|" + owner + "|" + id
	}
	var b strings.Builder
	b.Grow(len(kind) + 3*len(owner) + len(id) + 2)
	b.WriteString(kind)
	b.WriteByte('|')
	for i := 0; i < len(owner); i++ {
		switch c := owner[i]; c {
		case '%':
			b.WriteString("%25")
		case '|':
			b.WriteString("%7C")
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('|')
	b.WriteString(id)
	return b.String()
}
