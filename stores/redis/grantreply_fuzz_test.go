package redisstore

import (
	"errors"
	"testing"

	"github.com/mcpauthz/mcpauthz/core"
)

// FuzzGrantReply: any reply decodes to a result whose refused index is a
// step of the batch, or to ErrStoreUnavailable; it never panics, and a
// pass is only "0:-1:0:…".
func FuzzGrantReply(f *testing.F) {
	for _, s := range []string{"0:-1:0:abc", "1:0:1500:abc", "1:2:0:", "2:1:300:e", "0:0:0:x", "1:-1:0:x", "1:0:-5:x", "9:0:0:x", "", ":::", "0:-1:0", "1:1:99999999999999999999:x", "0:-01:0:x", "0:-1:x:x", "1:0:-0:x", "1:+0:5:x", "0:-1:5:x", "0:-1:-0:x"} {
		f.Add(s, 3)
	}
	g := &GrantStore{ReplayStore: &ReplayStore{}}
	f.Fuzz(func(t *testing.T, reply string, n int) {
		if n < 1 || n > 64 {
			return
		}
		res, err := g.grantReply(reply, n)
		if err != nil {
			if !errors.Is(err, core.ErrStoreUnavailable) {
				t.Fatalf("%q: %v", reply, err)
			}
			return
		}
		if res.Refused < -1 || res.Refused >= n || res.RetryAfter < 0 {
			t.Fatalf("%q: %+v", reply, res)
		}
		if res.Refused == -1 && (len(reply) < 7 || reply[:7] != "0:-1:0:") {
			t.Fatalf("%q read as a pass", reply)
		}
	})
}
