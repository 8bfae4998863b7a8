package casbinauthz

import (
	"encoding/json"
	"strconv"
	"sync"

	"github.com/mcpauthz/mcpauthz/core"
)

// decisionCache is a bounded map of decisions for ONE policy version. It
// keeps two generations: when the current one reaches half the bound it
// becomes the old one and the previous old one is dropped, so at most
// max entries are held and recently inserted entries survive.
type decisionCache struct {
	mu   sync.RWMutex
	half int
	cur  map[string]core.Decision
	old  map[string]core.Decision
}

func newDecisionCache(size int) *decisionCache {
	if size <= 0 {
		return nil
	}
	half := max(size/2, 1)
	return &decisionCache{half: half, cur: make(map[string]core.Decision, half)}
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
	c.mu.Lock()
	if len(c.cur) >= c.half {
		c.old = c.cur
		c.cur = make(map[string]core.Decision, c.half)
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

// appendField appends a length-prefixed string, so that no two different
// requests share a key whatever bytes claim values contain.
func appendField(b []byte, s string) []byte {
	b = strconv.AppendInt(b, int64(len(s)), 10)
	b = append(b, ':')
	return append(b, s...)
}

func appendList(b []byte, l []string) []byte {
	b = strconv.AppendInt(b, int64(len(l)), 10)
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
	b = strconv.AppendInt(b, int64(len(perm.Kind)+1+len(perm.Name)), 10)
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
}

// newPrincipalMemo computes a principalMemo; its signature is the one
// core.Principal.Memo takes.
func newPrincipalMemo(p *core.Principal) any {
	b := append([]byte(nil), 'M')
	b = appendField(b, string(p.Kind))
	b = appendField(b, p.Subject)
	b = appendField(b, p.ClientID)
	b = appendField(b, Domain(p))
	b = appendList(b, p.Groups)
	b = appendList(b, p.Roles)
	b = appendList(b, p.Scopes)
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
