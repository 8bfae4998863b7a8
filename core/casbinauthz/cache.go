package casbinauthz

import (
	"encoding/binary"
	"encoding/json"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/mcpauthz/mcpauthz/core"
)

// cacheLimits bound a decision cache.
type cacheLimits struct {
	entries  int   // ≤ 0 disables the cache
	bytes    int64 // total bytes of keys and decisions
	maxEntry int   // keys (plus decision) larger than this are never cached
}

// entryOverhead approximates the per-entry bytes of the maps beyond the key
// and the decision's strings: map bucket slot, string and slice headers.
const entryOverhead = 128

// decisionCache is a bounded map of decisions for ONE policy version,
// bounded both in entries and in bytes. It keeps two generations: when the
// current one reaches half of either bound it becomes the old one and the
// previous old one is dropped, so at most the bounds are held and recently
// inserted entries survive. Entries larger than maxEntry are not cached.
type decisionCache struct {
	mu        sync.RWMutex
	half      int
	halfBytes int64
	maxEntry  int
	curBytes  int64
	oldBytes  int64
	cur       map[string]core.Decision
	old       map[string]core.Decision
}

func newDecisionCache(l cacheLimits) *decisionCache {
	if l.entries <= 0 {
		return nil
	}
	half := max(l.entries/2, 1)
	return &decisionCache{
		half: half, halfBytes: max(l.bytes/2, 1), maxEntry: l.maxEntry,
		cur: make(map[string]core.Decision, min(half, 1024)),
	}
}

// cacheable reports whether a key of n bytes may be cached at all; the
// caller skips building and storing it otherwise.
func (c *decisionCache) cacheable(n int) bool { return c != nil && n <= c.maxEntry }

func entrySize(key string, d core.Decision) int64 {
	n := len(key) + len(d.Rule) + len(d.Reason) + len(d.PolicyDigest) + entryOverhead
	for _, s := range d.RequiredScopes {
		n += len(s) + 16
	}
	return int64(n)
}

func (c *decisionCache) get(key []byte) (core.Decision, bool) {
	if c == nil {
		return core.Decision{}, false
	}
	c.mu.RLock()
	d, ok := c.cur[string(key)]
	if !ok {
		d, ok = c.old[string(key)]
	}
	c.mu.RUnlock()
	return d, ok
}

func (c *decisionCache) put(key string, d core.Decision) {
	if c == nil {
		return
	}
	sz := entrySize(key, d)
	if sz > int64(c.maxEntry) || sz > c.halfBytes {
		return
	}
	c.mu.Lock()
	if _, ok := c.cur[key]; !ok {
		if len(c.cur) >= c.half || c.curBytes+sz > c.halfBytes {
			c.old, c.oldBytes = c.cur, c.curBytes
			c.cur, c.curBytes = make(map[string]core.Decision, min(c.half, 1024)), 0
		}
		c.curBytes += sz
	}
	c.cur[key] = d
	c.mu.Unlock()
}

func (c *decisionCache) len() int {
	if c == nil {
		return 0
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.cur) + len(c.old)
}

// size is the accounted bytes of both generations.
func (c *decisionCache) size() int64 {
	if c == nil {
		return 0
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.curBytes + c.oldBytes
}

// appendField appends a length-prefixed string, so that no two different
// requests share a key whatever bytes claim values contain.
func appendField(b []byte, s string) []byte {
	b = appendLen(b, len(s))
	b = append(b, ':')
	return append(b, s...)
}

// appendLen appends n in decimal, as strconv.AppendInt does, without its
// call for the one- and two-digit lengths of the usual key fields.
func appendLen(b []byte, n int) []byte {
	switch {
	case n >= 0 && n < 10:
		return append(b, byte('0'+n))
	case n >= 10 && n < 100:
		return append(b, byte('0'+n/10), byte('0'+n%10))
	}
	return strconv.AppendInt(b, int64(n), 10)
}

func appendList(b []byte, l []string) []byte {
	b = appendLen(b, len(l))
	b = append(b, '|')
	for _, s := range l {
		b = appendField(b, s)
	}
	return b
}

// principalKey is the cache key when subjects come from DefaultSubjects:
// it is computed from the principal's fields without expanding subjects.
func principalKey(b []byte, p *core.Principal, obj, act, dom string) []byte {
	b = append(b, 'P')
	b = appendField(b, p.Issuer)
	b = appendField(b, obj)
	b = appendField(b, act)
	b = appendField(b, string(p.Kind))
	b = appendField(b, p.Subject)
	b = appendField(b, p.ClientID)
	b = appendField(b, dom)
	b = appendList(b, p.Groups)
	b = appendList(b, p.Roles)
	return appendList(b, p.Scopes)
}

// appendObject is appendField(b, perm.Object()) without building the
// object string.
func appendObject(b []byte, perm core.Permission) []byte {
	if perm.Kind == core.ObjectServer {
		return appendField(b, "server")
	}
	b = appendLen(b, len(perm.Kind)+1+len(perm.Name))
	b = append(b, ':')
	b = append(b, perm.Kind...)
	b = append(b, ':')
	return append(b, perm.Name...)
}

// principalMemo is what Authorize keeps per verified token (with
// DefaultSubjects): the principal part of the decision-cache key and the
// subject list.
type principalMemo struct {
	prefix string
	subs   []string
	// last holds the first memoSlots decisions of the live policy cached
	// for this principal, so that the usual requests (the same few tools,
	// again and again) are answered without building their key or locking
	// the shared cache. Each holds no more than lastDecisionBytes.
	last [memoSlots]atomic.Pointer[lastDecision]
}

// memoSlots is how many decisions a principal's memo remembers: an agent's
// session typically calls a handful of tools. A principal that uses more
// objects finds the rest in the shared cache.
const memoSlots = 4

// lastDecision is a decision the shared cache holds under the key of
// (principal, object, action, domain), remembered in the principal's memo
// with what makes up that key and the policy version it came from.
type lastDecision struct {
	version uint64 // snapshot.version: unique per Authorizer
	kind    core.ObjectKind
	name    string
	action  string
	dom     string
	d       core.Decision // as cached: unstamped, RequiredScopes shared
}

// lastDecisionBytes bounds what one lastDecision holds (its strings and
// the decision's), charged once with the memo (MemoSize).
const lastDecisionBytes = 256

// lastFor returns the remembered decision for (v, perm, dom), if any.
// Otherwise full reports whether every slot held a decision of version
// (for other objects): remember would then keep nothing, and the caller
// skips it.
func (m *principalMemo) lastFor(version uint64, perm core.Permission, dom string) (d core.Decision, ok, full bool) {
	full = true
	for i := range m.last {
		ld := m.last[i].Load()
		if ld == nil {
			return core.Decision{}, false, false // slots fill in order: the rest are empty too
		}
		if ld.version != version {
			full = false
			continue
		}
		if ld.kind == perm.Kind && ld.name == perm.Name && ld.action == perm.Action && ld.dom == dom {
			return ld.d, true, false
		}
	}
	return core.Decision{}, false, full
}

// remember keeps d, the decision cached for (perm, dom) under policy
// version, in the first slot that is empty or holds a decision of another
// policy version, unless it is kept already or over lastDecisionBytes.
// When every slot holds a decision of this version, those stay: a
// principal switching between more objects allocates nothing here. Two
// requests remembering at once may both take one slot; the last one wins
// and the other decision is answered by the shared cache.
func (m *principalMemo) remember(version uint64, perm core.Permission, dom string, d core.Decision) {
	free := -1
	for i := range m.last {
		ld := m.last[i].Load()
		if ld == nil || ld.version != version {
			if free < 0 {
				free = i
			}
			if ld == nil {
				break
			}
			continue
		}
		if ld.kind == perm.Kind && ld.name == perm.Name && ld.action == perm.Action && ld.dom == dom {
			return
		}
	}
	if free < 0 {
		return
	}
	n := len(perm.Kind) + len(perm.Name) + len(perm.Action) + len(dom) + len(d.Rule) + len(d.Reason) + len(d.PolicyDigest)
	for _, s := range d.RequiredScopes {
		n += 16 + len(s)
	}
	if n > lastDecisionBytes {
		return
	}
	m.last[free].Store(&lastDecision{version: version, kind: perm.Kind, name: perm.Name, action: perm.Action, dom: dom, d: d})
}

// MemoSize is the bytes the memo holds, charged to the verified-token
// cache's byte bound (core.MemoSizer): with room for its lastDecisions.
func (m *principalMemo) MemoSize() int {
	n := 48 + len(m.prefix) + memoSlots*(160+lastDecisionBytes)
	for _, s := range m.subs {
		n += 16 + len(s)
	}
	return n
}

// newPrincipalMemo computes a principalMemo; its signature is the one
// core.Principal.Memo takes. The key prefix is 'I' and the memo's number,
// eight bytes unique within the Authorizer: the principal a memo belongs
// to never changes (core.Principal is read-only once verified), so its
// number stands for all of its fields, and a cache hit hashes ~30 bytes
// instead of the issuer, subject and every group, role and scope. No
// other key starts with 'I'.
func (a *Authorizer) newPrincipalMemo(p *core.Principal) any {
	b := make([]byte, 1, 9)
	b[0] = 'I'
	b = binary.BigEndian.AppendUint64(b, a.memoIDs.Add(1))
	return &principalMemo{prefix: string(b), subs: DefaultSubjects(p)}
}

// requestKey is the cache key over the full expanded request plus the
// granted scopes (and the attributes as sorted-key JSON when the model uses
// them). ok is false when the request cannot be keyed.
func requestKey(b []byte, q *request, scopes []string, withAttrs bool) ([]byte, bool) {
	b = append(b, 'R')
	b = appendField(b, q.obj)
	b = appendField(b, q.act)
	b = appendField(b, q.kind)
	b = appendField(b, q.dom)
	b = appendList(b, q.subs)
	b = appendList(b, scopes)
	if withAttrs {
		j, err := json.Marshal(q.attrs) // map keys are sorted: deterministic
		if err != nil {
			return b, false
		}
		b = appendField(b, string(j))
	}
	return b, true
}
