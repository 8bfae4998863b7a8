package config

import "time"

// FileProxy is the proxy: section, read by "mcpauthz proxy" only (the
// Guard ignores it). Command-line flags override it. Every field is
// OPTIONAL unless marked REQUIRED; docs/proxy.md explains each one.
type FileProxy struct {
	// Upstream is the MCP endpoint of the protected server
	// ("http://127.0.0.1:3000/mcp"). REQUIRED (here or -upstream).
	Upstream string `yaml:"upstream"`
	// Listen is the address the proxy serves on. Default "127.0.0.1:8443".
	Listen string `yaml:"listen"`
	// HealthListen, when set, is a separate address for /readyz and
	// /livez (keep it internal: readiness errors name components and
	// URLs). Default "": both are served on Listen.
	HealthListen string `yaml:"health_listen"`
	// TLSCertFile and TLSKeyFile (PEM) make Listen serve HTTPS; both or
	// neither. Default: plain HTTP (TLS terminated in front).
	TLSCertFile string `yaml:"tls_cert_file"`
	// TLSKeyFile is refused at start-up when group or others may read or
	// write it (mode checked after symbolic links; fix: chmod 600).
	TLSKeyFile string `yaml:"tls_key_file"`
	// TLSKeyAllowGroupRead accepts a tls_key_file its group may read
	// (0640, 0440), for a Kubernetes secret volume with a pod fsGroup.
	// Group write and any access for others are still refused. Default
	// false.
	TLSKeyAllowGroupRead bool `yaml:"tls_key_allow_group_read"`
	// DialTimeout bounds connecting to the upstream. Default 5s.
	DialTimeout time.Duration `yaml:"dial_timeout"`
	// ResponseHeaderTimeout bounds the wait for the upstream's response
	// header (with a JSON-mode server, the whole tool call). Default 60s.
	ResponseHeaderTimeout time.Duration `yaml:"response_header_timeout"`
	// StreamIdleTimeout closes an upstream response body (an SSE stream)
	// after this long without a byte; there is no limit on its total
	// duration. Default 5m.
	StreamIdleTimeout time.Duration `yaml:"stream_idle_timeout"`
	// ForwardPrincipal sends the principal upstream in X-Mcpauthz-*
	// headers. Default false.
	ForwardPrincipal bool `yaml:"forward_principal"`
	// ForwardToken passes the client's Authorization header upstream.
	// Default false.
	ForwardToken bool `yaml:"forward_token"`
	// ForwardQuery passes a query string on the MCP endpoint to the
	// upstream. Default false: such a request is refused with 400.
	ForwardQuery bool `yaml:"forward_query"`
	// ReadHeaderTimeout bounds reading a request header. Default 10s.
	// Request bodies are bounded by core.BodyReadTimeout (30s); the server
	// has no ReadTimeout or WriteTimeout, which would cut event streams.
	ReadHeaderTimeout time.Duration `yaml:"read_header_timeout"`
	// MaxHeaderBytes bounds the request line and headers of every request,
	// authenticated or not (http.Server.MaxHeaderBytes; net/http reads up
	// to 4 KiB more before it refuses with 431): what an unauthenticated
	// request can make the proxy hold. Default proxy.HeaderBudget of
	// max_token_bytes (12 KiB with the default 8 KiB token cap); between
	// 4 KiB and 64 KiB, and room for a token of max_token_bytes.
	MaxHeaderBytes int `yaml:"max_header_bytes"`
	// IdleTimeout closes an idle keep-alive connection. Default 2m.
	IdleTimeout time.Duration `yaml:"idle_timeout"`
	// ShutdownTimeout is how long SIGINT/SIGTERM lets requests in progress
	// finish before they are cut. Default 30s.
	ShutdownTimeout time.Duration `yaml:"shutdown_timeout"`
}
