package authserver

import (
	"net/http"
	"net/netip"
)

// Default prefix lengths of a source address in per-source limits.
const (
	// DefaultSourcePrefixIPv4 keys an IPv4 source by its address.
	DefaultSourcePrefixIPv4 = 32
	// DefaultSourcePrefixIPv6 keys an IPv6 source by its /64: one host or
	// site commonly holds a whole /64 (SLAAC, privacy addresses, a /64 per
	// customer), so a bucket per address would give it 2^64 buckets.
	DefaultSourcePrefixIPv6 = 64
)

// sourceOf returns the key of r's source in per-source limits and
// lockouts: Config.ClientAddress, an IP address reduced to its prefix of
// RateLimit.SourcePrefixIPv4/IPv6 bits (an IPv4-mapped IPv6 address counts
// as IPv4; a zone is dropped). A value that is not an IP address (a custom
// ClientAddress may return any key) is used as it is, cut to 256 bytes.
func (s *Server) sourceOf(r *http.Request) string {
	return sourceKey(s.clientAddr(r), s.srcBits4, s.srcBits6)
}

func sourceKey(addr string, bits4, bits6 int) string {
	a, err := netip.ParseAddr(addr)
	if err != nil {
		if len(addr) > 256 {
			addr = addr[:256]
		}
		return addr
	}
	a = a.WithZone("").Unmap()
	bits := bits6
	if a.Is4() {
		bits = bits4
	}
	if bits >= a.BitLen() {
		return a.String()
	}
	p, err := a.Prefix(bits)
	if err != nil { // not reached: bits is validated by New
		return a.String()
	}
	return p.String()
}
