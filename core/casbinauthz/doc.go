// Package casbinauthz is a [core.Authorizer] backed by Casbin, with policy
// hot reload, a bounded decision cache and a compiled index that answers the
// shipped model families without calling Casbin per request.
//
// # Requests
//
// Each (principal, permission) pair becomes one Casbin request. The model's
// request tokens are filled by name:
//
//   - sub: the caller's typed subjects as a list (see [DefaultSubjects]):
//     "*", "user:<sub>" or "client:<client_id>", "group:<g>", "role:<r>",
//     "scope:<s>";
//   - obj: [core.Permission.Object] ("tool:deploy", "resource:docs://x",
//     "prompt:p", "server");
//   - act: the MCP action (call, read, get, list, subscribe, complete,
//     connect);
//   - kind: "user" or "client";
//   - dom: the tenant (Principal.Tenant, or the issuer when it is empty);
//   - attrs: a map of attributes for ABAC (see [Attributes]).
//
// Because sub is a list, matchers must use it only as "p.sub in r.sub";
// New rejects any other use (Casbin functions such as keyMatch() would
// receive the list spread into arguments). The exception is a classic
// Casbin role model, whose matcher passes r.sub to role functions only
// (g(r.sub, p.sub), g2(r.sub, p.sub, r.dom)): there r.sub is one subject,
// each of the caller's subjects is asked in turn and the answers are
// combined as the effect would combine them (deny-override or
// allow-override only); g lines link subjects to roles and roles to roles,
// g2 lines do so within one domain (casbinmodels "rbac_roles",
// "tenant_rbac_roles"). New also evaluates one probe request through Casbin
// and rejects a model that cannot evaluate it.
//
// A model whose p2 section is present must use it for scope requirements
// ("p2 = scope, obj, act", see casbinmodels "scopes"): every matching p2
// rule adds its scope to the set the operation requires. The decision is
// Allow only when the p rules allow AND the principal holds every required
// scope; when only scopes are missing, Decision.RequiredScopes carries the
// complete set (step-up). A p-rule denial never reveals scopes.
//
// # Index
//
// When the model is one of the shipped families (rbac, scopes, machine,
// tenant_rbac, rbac_roles, tenant_rbac_roles; detected from the model text,
// not its name), the policy is compiled at load time into an index keyed by
// subject and literal object. Glob rules are bucketed by literal prefix and
// suffix, the common shapes ("p*", "*s", "p*s", "p/**", "*") are tested
// as plain string operations, and the set of glob rules an object matches
// is cached per policy version (Config.MatchCacheBytes). Role families
// expand the caller's subjects through the g/g2 links first. Casbin's Enforce remains the oracle:
// differential tests over random requests prove that both agree, including
// the rule reported in Decision.Rule. Other models (abac, custom ones) are
// evaluated with Enforce.
//
// # Reload
//
// [Authorizer.Reload] and [Authorizer.Watch] build a NEW enforcer from the
// [Source], validate it with the one validator that [LintWith] (and
// `mcpauthz lint`) reports from (strict parse, field counts, effects other
// than allow/deny, glob syntax, unknown object prefixes, condition syntax,
// undeclared attributes, non-empty policy), check the canary decisions and
// swap it in atomically. Watch loads a change only after it has been stable
// for Config.SettleWindow; with FileSource.RequireSeal only a file whose
// seal (a "# sha256:" trailer or a ".sha256" sidecar) matches is loaded.
// Every decision carries the policy version and digest (Decision.PolicyVersion,
// Decision.PolicyDigest) for audit. The
// live enforcer is never reloaded in place: a broken, missing or truncated
// policy keeps the last good one, logs an error and increments
// Stats.ReloadErrors. Each policy version has its own decision cache, so a
// reload invalidates cached decisions at once and no decision mixes two
// policies.
//
// # Several issuers
//
// With Config.Issuers listing more than one issuer (or a "{tenantid}"
// template), subjects and domains are namespaced by the issuer's alias and
// the trusted tenant ("corp/group:eng", "entra/<tid>/role:admin", domain
// "corp" or "partner/acme"); a tenant claim counts only from an issuer with
// Issuer.AssertsTenant. core.New refuses a verifier that trusts several
// issuers unless the Authorizer isolates them (see
// [Authorizer.IsolatesIssuers]).
//
// # Security
//
// Deny by default: no matching allow, an unknown object kind or action, a
// nil principal or an unknown principal kind all deny. An evaluation error
// is returned wrapping [core.ErrUnavailable] (503), never an allow. Claim
// values are passed to Casbin as Go values and compared with "in"; they are
// never written into policy or matcher text, so commas, quotes and newlines
// in claims cannot inject rules.
package casbinauthz
