// Package inspect is the MCP-aware part of the authorization pipeline: it
// parses one HTTP request to an MCP Streamable HTTP endpoint exactly as the
// MCP Go SDK (v1.8.0) will execute it, and names what each JSON-RPC message
// acts on (a [Target]) so that a policy can decide; it also filters list
// responses ([FilterJSON], [NewSSEFilter]) so that a principal only sees the
// tools, resources and prompts it may use.
//
// # Inspection rules
//
//   - HTTP methods: POST carries messages. GET and DELETE are accepted
//     before 2026-07-28 with zero messages (authenticated-only traffic) and
//     refused with 405 on 2026-07-28. Every other method, including HEAD and
//     OPTIONS, is 405 (CORS preflight must be answered before the Guard).
//   - MCP-Protocol-Version: at most one value, OWS-trimmed, one of
//     Options.SupportedVersions (else 400, -32022); absent means 2025-03-26.
//   - POST: exactly one Content-Type, application/json with an optional
//     charset=utf-8 (else 415); Content-Encoding absent or identity (else 415,
//     nothing is decompressed); a body that is non-empty, has no BOM and
//     passes jsonscan.Validate: no duplicate or case-variant keys at any
//     depth, no trailing data, valid UTF-8, no lone surrogates, bounded depth
//     (else 400, -32700).
//   - Values are decoded after unescaping ("tools\u002fcall" is tools/call).
//     Members a case-insensitive decoder would bind to a protocol member
//     ("Method", "naKme" with a KELVIN SIGN) are refused, so no decoder
//     behind the Guard can see a different message.
//   - "jsonrpc" must be "2.0"; "method", when present, a non-empty string;
//     "id" a string, number or null (null is a notification, as in the SDK).
//   - Batches (arrays) are refused from 2025-06-18 on; before, every element
//     is inspected and returned; [] is refused.
//   - Client responses (no method, an id) are connection-level on legacy
//     versions and refused on 2026-07-28.
//   - On 2026-07-28, requests must carry Mcp-Method equal to the body method
//     and, for tools/call, resources/read and prompts/get, Mcp-Name equal to
//     params.name / params.uri (after OWS trimming and =?base64?...?=
//     decoding), and params._meta["io.modelcontextprotocol/protocolVersion"]
//     equal to the header. On every version a present Mcp-Method or Mcp-Name
//     must match. Mismatch: 400, -32020. Notifications need no Mcp-Method.
//
// # Targets
//
// tools/call → tool name (call); resources/read → URI (read);
// resources/subscribe and resources/unsubscribe → URI (subscribe);
// prompts/get → prompt name (get); completion/complete → the prompt
// (ref/prompt) or the resource URI template (ref/resource) (complete);
// tools/list, resources/list, resources/templates/list, prompts/list → server
// list with Target.List set (filter the response); initialize, ping,
// server/discover, logging/setLevel, subscriptions/listen and notifications/*
// → server connect. Every other method (custom methods, tasks/*, which this
// version does not bind to their creator) is ErrUnknownMethod unless
// Options.AllowUnknownMethods makes it server connect.
//
// # List filtering
//
// [FilterJSON] (and [Filter.JSON]) rewrites a JSON list response and
// [NewSSEFilter] (and [Filter.NewSSE]) an event stream, keeping only the items
// an [Allow] function accepts and leaving every other byte as the server sent
// it. Both fail closed: a list response that cannot be parsed strictly, or
// whose members are ambiguously spelled ("Tools"), is replaced by a JSON-RPC
// -32603 error (the original is never forwarded).
//
// # Performance
//
// Messages are located while internal/jsonscan validates the body, in one
// pass: a walker specialised for the JSON-RPC envelope (message, params,
// params._meta, params.ref) drives a jsonscan.Scanner, which applies
// exactly jsonscan.Validate's rules to every byte, records where the
// method, id, name and uri values end, and skips everything else
// (arguments are validated, and decoded only for declared ArgDecls). The
// values it skips go through jsonscan's fast skipper, one tight loop that
// leaves anything unusual (an escaped or non-ASCII key, an error, keys whose
// fold bits keep clashing) to the general scanner, so that what is accepted
// and every error stay exactly the general scanner's.
// Inspect of a typical 300-byte tools/call makes one allocation: the
// Request and, for a target of up to 48 unescaped bytes, the target name's
// bytes, which nothing writes after the name is made. InspectInto
// allocates only the target name. Header keys are looked up once each, and
// not at all once every key of the header map has been found.
//
// # Security
//
// Decisions must use Request.Messages, never the Mcp-Method/Mcp-Name headers.
// Every refusal is an *Error whose Status, Code and Message are safe to send;
// no header or body value longer than a version string is echoed. A
// subscriptions/listen request is connection-level: it can subscribe to
// update notifications (URIs only, not contents) for any resource; a policy
// that must hide URIs should deny subscriptions/listen via Message.Method.
package inspect
