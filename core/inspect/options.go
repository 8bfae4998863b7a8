package inspect

// Protocol versions known to Inspect.
const (
	Version20260728 = "2026-07-28"
	Version20251125 = "2025-11-25"
	Version20250618 = "2025-06-18"
	Version20250326 = "2025-03-26"
)

// atLeast20260728 reports version >= Version20260728 (the strings'
// order), without comparing the common 2025 versions byte by byte.
func atLeast20260728(version string) bool {
	if len(version) >= 4 && version[:4] == "2025" {
		return false // "2025" sorts before "2026"
	}
	return version >= Version20260728
}

// defaultVersions is used when Options.SupportedVersions is empty.
var defaultVersions = [...]string{Version20260728, Version20251125, Version20250618, Version20250326}

// DefaultSupportedVersions returns (a new slice each call) the versions
// used when Options.SupportedVersions is empty.
func DefaultSupportedVersions() []string { return append([]string(nil), defaultVersions[:]...) }

// DefaultMaxBodyBytes is the body limit used when Options.MaxBodyBytes is
// zero: the go-sdk's default request body limit (4 MiB).
const DefaultMaxBodyBytes = 4 << 20

// Limits on targets, checked by Inspect before the target is decoded (so an
// oversized name costs no allocation) and refused with a JSON-RPC -32602
// error.
const (
	// DefaultMaxNameLength is the longest tool or prompt name, in
	// characters (Unicode code points): MCP 2025-11-25 names are 1 to 128
	// characters.
	DefaultMaxNameLength = 128
	// DefaultMaxURIBytes is the longest resource URI, in bytes (8 KiB, the
	// request-target limit of common HTTP servers).
	DefaultMaxURIBytes = 8 << 10
)

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
	// OPTIONAL; default DefaultSupportedVersions(). When it does not contain
	// "2025-03-26", a request without the header is refused
	// (ErrHeaderMismatch), since the spec defines an absent header as
	// 2025-03-26.
	SupportedVersions []string

	// MaxNameLength bounds tool and prompt names (tools/call, prompts/get,
	// completion/complete ref/prompt), in characters; an empty name is
	// refused too. OPTIONAL; default DefaultMaxNameLength (128); negative
	// disables the upper bound.
	MaxNameLength int
	// MaxURIBytes bounds resource URIs (resources/read, subscribe,
	// unsubscribe, completion/complete ref/resource), in bytes. OPTIONAL;
	// default DefaultMaxURIBytes (8 KiB); negative disables it.
	MaxURIBytes int

	// Args declares the tools/call arguments and the resource URI-template
	// variables (resources/read, subscribe, unsubscribe) the policy may see
	// (see NewArgDecls, ResourceArgs): they are read in the same strict pass
	// and returned in Message.Args. OPTIONAL; nil exposes no argument.
	Args *ArgDecls
}

func (o *Options) maxName() int {
	if o.MaxNameLength == 0 {
		return DefaultMaxNameLength
	}
	return o.MaxNameLength
}

func (o *Options) maxURI() int {
	if o.MaxURIBytes == 0 {
		return DefaultMaxURIBytes
	}
	return o.MaxURIBytes
}

func (o *Options) versions() []string {
	if len(o.SupportedVersions) == 0 {
		return defaultVersions[:]
	}
	return o.SupportedVersions
}

func (o *Options) maxBody() int {
	if o.MaxBodyBytes == 0 {
		return DefaultMaxBodyBytes
	}
	return o.MaxBodyBytes
}
