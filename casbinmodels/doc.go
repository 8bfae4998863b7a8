// Package casbinmodels ships Casbin models and sample policies for MCP
// authorization, embedded in the binary.
//
// Every model comes as a pair: <name>.conf (the Casbin model) and <name>.csv
// (a sample policy that its tests exercise). The names are:
//
//   - rbac: RBAC on IdP groups and roles, glob objects, deny overrides allow;
//   - scopes: rbac plus per-operation scope requirements (p2 rules) that
//     drive step-up (403 insufficient_scope with the complete scope set);
//   - abac: conditions over claims (department, acr, amr), e.g. MFA for
//     destructive tools;
//   - tenant_rbac: RBAC with domains, the tenant being the "tid" claim or
//     the issuer;
//   - machine: machine clients (client:<client_id>) and users as separate
//     principal kinds;
//   - quickstart: the scopes model with the policy of the quickstart.
//
// # Request shape
//
// The authorizer in core/casbinauthz builds every request the same way:
// r.sub is the list of the caller's typed subjects ("user:<sub>" or
// "client:<client_id>", "group:<g>", "role:<r>", "scope:<s>" and "*" for
// every authenticated caller), r.obj is "tool:<name>", "resource:<uri>",
// "prompt:<name>" or "server", and r.act is one of call, read, get, list,
// subscribe, complete, connect. Models may also declare r.kind ("user" or
// "client"), r.dom (tenant) and r.attrs (attribute map).
//
// Objects in policies are globs with doublestar syntax (Casbin's globMatch):
// "*" matches within one "/"-separated segment, "**" as a whole segment
// crosses segments, and a pattern without metacharacters matches only itself
// (a rule for "tool:a" never matches "tool:ab").
//
// # Security
//
// Subjects are compared with "in" against a list built in Go; claim values
// are never written into policy text, so a group named
// "x, tool:*, call, allow" is just an unusual group name. All models are
// deny by default: no matching allow rule means deny.
package casbinmodels
