package inspect

// Protocol versions known to Inspect.
const (
	Version20260728 = "2026-07-28"
	Version20251125 = "2025-11-25"
	Version20250618 = "2025-06-18"
	Version20250326 = "2025-03-26"
)

// DefaultSupportedVersions is used when Options.SupportedVersions is empty.
// Callers must not modify it.
var DefaultSupportedVersions = []string{Version20260728, Version20251125, Version20250618, Version20250326}

// DefaultMaxBodyBytes is the body limit used when Options.MaxBodyBytes is
// zero: the go-sdk's default request body limit (4 MiB).
const DefaultMaxBodyBytes = 4 << 20

// Options tunes Inspect. The zero value is ready to use.
type Options struct {
	// MaxDepth limits JSON nesting. OPTIONAL; default 64.
	MaxDepth int

	// MaxBodyBytes is checked against len(body) (the adapter should also stop
	// reading at this limit). OPTIONAL; default DefaultMaxBodyBytes. Negative
	// disables the check.
	MaxBodyBytes int

	// AllowUnknownMethods makes methods without a known target (custom
	// methods, tasks/*) inspect as connection-level traffic
	// (Target{Kind:"server", Action:"connect"}; Message.Method still names
	// the method so a policy can tell them apart). OPTIONAL; default false:
	// Inspect returns ErrUnknownMethod and the Guard denies.
	AllowUnknownMethods bool

	// SupportedVersions lists the accepted MCP-Protocol-Version values.
	// OPTIONAL; default DefaultSupportedVersions. When it does not contain
	// "2025-03-26", a request without the header is refused
	// (ErrHeaderMismatch), since the spec defines an absent header as
	// 2025-03-26.
	SupportedVersions []string
}

func (o *Options) versions() []string {
	if len(o.SupportedVersions) == 0 {
		return DefaultSupportedVersions
	}
	return o.SupportedVersions
}

func (o *Options) maxBody() int {
	if o.MaxBodyBytes == 0 {
		return DefaultMaxBodyBytes
	}
	return o.MaxBodyBytes
}
