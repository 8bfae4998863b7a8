package redisstore

import (
	"net"
	"strings"
	"testing"
)

// FuzzParseFileOptions: whatever the options hold, parsing never panics,
// and what it accepts names exactly one Redis, with host:port addresses
// only, and a hash-tagged prefix for a cluster.
func FuzzParseFileOptions(f *testing.F) {
	f.Add(uint8(0), "redis://127.0.0.1:6379/0", "m", "s1:26379", "{p}:")
	f.Add(uint8(1), "", "mymaster", "10.0.0.1:26379", "")
	f.Add(uint8(2), "", "", "n1:6379", "{acme}:")
	f.Add(uint8(7), "redis://r", "m", "[::1]:1", "acme:")
	f.Add(uint8(255), "${X}", "", ":", "{}")
	f.Fuzz(func(t *testing.T, shape uint8, url, master, addr, prefix string) {
		o := map[string]any{}
		if shape&1 != 0 {
			o["url"] = url
		}
		if shape&2 != 0 {
			o["sentinel"] = map[string]any{"master": master, "addrs": []any{addr, url}}
		}
		if shape&4 != 0 {
			o["cluster"] = map[string]any{"addrs": []any{addr}}
		}
		if shape&8 != 0 {
			o["prefix"] = prefix
		}
		if shape&16 != 0 {
			o["db"] = int(shape >> 5)
		}
		if shape&32 != 0 {
			o["password"] = master
		}
		if shape&64 != 0 {
			o["timeout"] = prefix
		}
		if shape&128 != 0 {
			o["sentinel"] = addr // wrong type
		}
		for _, use := range []fileUse{useGuard, useAS, useWatcher} {
			p, err := parseFileOptions(o, use, "x")
			if err != nil {
				continue
			}
			modes := 0
			if p.URL != "" {
				modes++
			}
			if p.SentinelMaster != "" {
				modes++
				if len(p.SentinelAddrs) == 0 {
					t.Fatal("sentinel without addrs accepted")
				}
			}
			if len(p.ClusterAddrs) > 0 {
				modes++
				if p.Prefix != "" && !strings.Contains(p.Prefix, "{") {
					t.Fatalf("cluster prefix %q accepted", p.Prefix)
				}
			}
			if modes != 1 {
				t.Fatalf("%d modes accepted: %+v", modes, p)
			}
			for _, a := range append(p.SentinelAddrs, p.ClusterAddrs...) {
				if _, _, err := net.SplitHostPort(a); err != nil {
					t.Fatalf("address %q accepted", a)
				}
			}
		}
	})
}
