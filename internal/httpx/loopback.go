package httpx

import (
	"net"
	"strings"
)

// IsLoopbackHost reports whether h, a URL's Hostname(), names the local
// machine: "localhost" in any case, or a loopback IP literal (127.0.0.0/8,
// ::1, an IPv4-mapped loopback). Names are not resolved. It is the one rule
// behind "plain http only for loopback hosts".
func IsLoopbackHost(h string) bool {
	if strings.EqualFold(h, "localhost") {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}
