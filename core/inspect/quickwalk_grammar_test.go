package inspect

import (
	"strings"
	"testing"
)

// A grammar-driven generator of JSON-RPC bodies for the quick walk: the
// fuzzer's bytes choose keys, values, whitespace and framing from lists of
// the spellings that matter (envelope keys and their case, escape and
// Unicode-fold variants, plain and non-plain strings, odd numbers, odd
// whitespace, BOM, NUL, trailing data), so that nearly every input is a
// JSON-RPC-shaped body that reaches quickWalk's branches, rather than the
// random bytes FuzzQuickWalk mostly feeds the walker.

// Each list is split in what quickWalk may take and what it must leave to
// the walker (or what is refused); the second is chosen one time in eight.
var (
	gramKeys = [2][]string{{
		`jsonrpc`, `id`, `method`, `params`, `result`, `error`,
		`name`, `uri`, `_meta`, `ref`, `arguments`, `type`,
		`JSONRPC`, `Id`, `ID`, `Method`, `PARAMS`, `Name`, `NAME`, `Uri`, `_META`, `Arguments`, `Ref`,
		`io.modelcontextprotocol/protocolVersion`, `io.modelcontextprotocol/protocolversion`,
		`progressToken`, `ProgressToken`, `progresstoken`, `progressToke`, `progressTokens`,
		`a`, `b`, `c`, `d`, `e`, `f`, `g`, `h`, `k`, `K`,
		`@`, "`", `[`, `{`, `_`, "\x7f", `~`, `^`,
		`nameXXXXXXXXXXXX`, `NAMEXXXXXXXXXXXX`, `jsonrpcjsonrpc`, `method `, ` method`, ``,
	}, {
		`\u006dethod`, `n\u0061me`, `N\u0041ME`, `param\u017f`, `paramſ`, `\u212Aey`, `ke\u0079`, `K`,
		`method\u0000`, "meth\x00od", "métho", "\xffkey", `progre\u0073sToken`, `progreſsToken`,
	}}
	gramStrings = [2][]string{{
		`2.0`, `2.0 `, `tools/call`, `tools/list`, `resources/read`, `prompts/get`, `completion/complete`,
		`ping`, `initialize`, `notifications/initialized`, `ls`, `rm`, `file:///a`, `file:///a/../b`,
		`2025-11-25`, `2026-07-28`, `ref/prompt`, `ref/resource`, ``, "\x7f", `K`, strings.Repeat("x", 70),
	}, {
		`r\u006d`, `caf\u00e9`, `café`, `\ud83d\ude00`, `\ud800`, `\udc00\ud800`, "r\xffm", "a\x00b", "a\tb",
		`tools\/call`, `\"`, `\\`, `l\u0455`,
	}}
	gramScalars = [2][]string{{
		`0`, `1`, `-0`, `-1`, `42`, `1.5`, `1e400`, `-1e400`, `1E+2`, `9007199254740993`, strings.Repeat("9", 320),
		`null`, `true`, `false`, `[]`, `{}`, `[1,2]`, `[[[[[[]]]]]]`, `{"a":{"b":{"c":{}}}}`, `[{"name":"rm"}]`,
	}, {
		`01`, `1.`, `.5`, `+1`, `0x10`, `nul`, `NaN`, `Infinity`,
	}}
	gramWS = [2][]string{{" ", "\t", "\n", "\r\n", "  "}, {"\f", "\v", "\u00a0", "\x00", "\u2028"}}
)

// gram reads choices from the fuzzer's bytes; past their end every choice
// is 0 (the common spelling), so that every input makes a finite body.
type gram struct {
	in    []byte
	out   strings.Builder
	steps int
}

func (g *gram) pick(n int) int {
	if len(g.in) == 0 || n <= 1 {
		return 0
	}
	c := int(g.in[0])
	g.in = g.in[1:]
	return c % n
}

func (g *gram) ws() {
	if g.pick(4) == 0 { // mostly compact text
		return
	}
	g.out.WriteString(g.choose(gramWS))
}

// choose picks from lists[0], or one time in eight from lists[1].
func (g *gram) choose(lists [2][]string) string {
	l := lists[0]
	if g.pick(8) == 7 {
		l = lists[1]
	}
	return l[g.pick(len(l))]
}

func (g *gram) str(lists [2][]string) {
	g.out.WriteByte('"')
	g.out.WriteString(g.choose(lists))
	g.out.WriteByte('"')
}

// value writes a value; depth bounds the nesting the generator builds.
func (g *gram) value(depth int) {
	g.steps++
	switch c := g.pick(8); {
	case depth < 5 && g.steps < 200 && c <= 1:
		g.object(depth + 1)
	case depth < 5 && g.steps < 200 && c == 2:
		g.out.WriteByte('[')
		for n := g.pick(3); n > 0; n-- {
			g.ws()
			g.value(depth + 1)
			g.ws()
			if n > 1 {
				g.out.WriteByte(',')
			}
		}
		g.out.WriteByte(']')
	case c <= 5:
		g.str(gramStrings)
	default:
		g.out.WriteString(g.choose(gramScalars))
	}
}

func (g *gram) object(depth int) {
	g.out.WriteByte('{')
	n := g.pick(10)
	for k := 0; k < n; k++ {
		g.ws()
		g.str(gramKeys)
		g.ws()
		g.out.WriteByte(':')
		g.ws()
		g.value(depth)
		g.ws()
		switch {
		case k < n-1:
			g.out.WriteByte(',')
		case g.pick(16) == 15:
			g.out.WriteByte(',') // a trailing comma
		}
	}
	g.out.WriteByte('}')
}

// member is one "key":value of a generated object.
type member struct{ key, val string }

// members writes ms in an order the input chooses, with extra members
// from the grammar's lists mixed in, as the object at depth.
func (g *gram) members(ms []member, depth int) {
	for n := g.pick(4); n > 0; n-- {
		var v gram
		v.in, v.steps = g.in, g.steps
		v.value(depth)
		g.in, g.steps = v.in, v.steps
		ms = append(ms, member{g.choose(gramKeys), v.out.String()})
	}
	for i := len(ms) - 1; i > 0; i-- { // shuffle
		j := g.pick(i + 1)
		ms[i], ms[j] = ms[j], ms[i]
	}
	g.out.WriteByte('{')
	for k, m := range ms {
		g.ws()
		g.out.WriteString(`"` + m.key + `"`)
		g.ws()
		g.out.WriteByte(':')
		g.ws()
		g.out.WriteString(m.val)
		g.ws()
		if k < len(ms)-1 || g.pick(32) == 31 {
			g.out.WriteByte(',')
		}
	}
	g.out.WriteByte('}')
}

// spell returns key, or one time in eight a variant of it from variants
// (a case variant, an escaped spelling, a Unicode fold variant).
func (g *gram) spell(key string, variants ...string) string {
	if len(variants) == 0 || g.pick(8) != 7 {
		return key
	}
	return variants[g.pick(len(variants))]
}

// opt returns a value chosen from vals, or "" (the member is absent) one
// time in eight.
func (g *gram) opt(vals ...string) string {
	if g.pick(8) == 7 {
		return ""
	}
	return vals[g.pick(len(vals))]
}

var (
	gramMethods = []string{`"tools/call"`, `"resources/read"`, `"prompts/get"`, `"completion/complete"`,
		`"resources/subscribe"`, `"tools/list"`, `"ping"`, `"initialize"`, `"notifications/initialized"`,
		`"tools\/call"`, `"tools/c\u0061ll"`, `"Tools/call"`, `""`, `null`, `1`, `["tools/call"]`}
	gramIDs   = []string{`1`, `42`, `"x"`, `""`, `null`, `0`, `-1`, `1.5`, `1e400`, `1E2`, `9007199254740993`, `{}`, `[]`, `true`, `1 `}
	gramNames = []string{`"ls"`, `"rm"`, `"r\u006d"`, `"file:///a"`, `"file:///etc/passwd"`, `"caf\u00e9"`, `"café"`,
		`""`, `"\u0000"`, `"\ud83d\ude00"`, `null`, `1`, `{}`}
)

// params writes a params object: name, uri, arguments, _meta and ref, each
// present or not and spelled as the input chooses.
func (g *gram) params(depth int) {
	var ms []member
	add := func(key string, val string, variants ...string) {
		if val != "" {
			ms = append(ms, member{g.spell(key, variants...), val})
		}
	}
	add("name", g.opt(gramNames...), "Name", "NAME", `n\u0061me`, `N\u0061ME`)
	if g.pick(2) == 1 {
		add("uri", g.opt(gramNames...), "URI", "Uri", `ur\u0069`, "url")
	}
	if g.pick(2) == 1 {
		var v gram
		v.in = g.in
		v.value(depth + 1)
		g.in = v.in
		add("arguments", v.out.String(), "Arguments", "ARGUMENTS", `\u0061rguments`)
	}
	if g.pick(2) == 1 {
		meta := `{"io.modelcontextprotocol/protocolVersion":` + []string{`"2026-07-28"`, `"2025-11-25"`, `1`, `""`}[g.pick(4)] + `}`
		add("_meta", g.opt(meta, `{"progressToken":"p-1"}`, `{}`, `{"a":{"b":{}}}`, `null`, `[]`,
			`{"progressToken":1,`+meta[1:]), "_Meta", "_META", `\u005fmeta`)
	}
	if g.pick(4) == 3 {
		add("ref", g.opt(`{"type":"ref/prompt","name":"p"}`, `{"type":"ref/resource","uri":"file:///a"}`), "Ref", "REF")
	}
	g.members(ms, depth+1)
}

// message writes one JSON-RPC message object at depth.
func (g *gram) message(depth int) {
	var ms []member
	add := func(key string, val string, variants ...string) {
		if val != "" {
			ms = append(ms, member{g.spell(key, variants...), val})
		}
	}
	add("jsonrpc", g.opt(`"2.0"`, `"2.0"`, `"2.0"`, `"2.1"`, `"2\u002e0"`, `2`, `null`), "JSONRPC", "Jsonrpc", `j\u0073onrpc`)
	add("id", g.opt(gramIDs...), "ID", "Id", `\u0069d`)
	add("method", g.opt(gramMethods...), "Method", "METHOD", `\u006dethod`, `m\u0065thod`)
	if g.pick(8) != 7 {
		var p gram
		p.in = g.in
		p.params(depth + 1)
		g.in = p.in
		add("params", p.out.String(), "Params", "PARAMS", `param\u017f`, "paramſ", `p\u0061rams`)
	} else {
		add("params", g.opt(`null`, `[]`, `[{"name":"rm"}]`, `"x"`), "Params")
	}
	if g.pick(16) == 15 {
		add("result", g.opt(`{}`, `null`), "Result")
	}
	g.members(ms, depth+1)
}

// gramBody builds one body from in.
func gramBody(in []byte) []byte {
	g := gram{in: in}
	if g.pick(64) == 63 {
		g.out.WriteString("\xEF\xBB\xBF")
	}
	g.ws()
	if g.pick(8) == 7 {
		g.out.WriteByte('[')
		for n := g.pick(3) + 1; n > 0; n-- {
			g.message(1)
			if n > 1 {
				g.out.WriteByte(',')
			}
		}
		g.out.WriteByte(']')
	} else {
		g.message(0)
	}
	g.ws()
	switch g.pick(32) {
	case 29:
		g.out.WriteString("x")
	case 30:
		g.out.WriteString("\x00")
	case 31:
		g.out.WriteString("{}")
	}
	return []byte(g.out.String())
}

// gramSeeds: the zero input is the plain tools/call; the others vary it.
var gramSeeds = [][]byte{
	nil,
	{0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1},
	{0, 0, 0, 0, 0, 0, 0, 7, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3},
	{3, 1, 2, 0, 1, 0, 2, 0, 3, 0, 1, 0, 1, 0, 0, 0, 0, 1, 2, 0, 1, 0, 1, 2, 3},
	[]byte("the quick walk of a json-rpc body, case variants and escapes in keys"),
}

// FuzzQuickWalkGrammar checks quickWalk against the walker, and Inspect
// against the go-sdk and encoding/json (checkDifferential), on generated
// JSON-RPC bodies:
// go test -run XXX -fuzz FuzzQuickWalkGrammar -parallel 1 ./core/inspect
func FuzzQuickWalkGrammar(f *testing.F) {
	for _, s := range gramSeeds {
		f.Add(s, "")
	}
	f.Add(gramSeeds[1], "2026-07-28")
	f.Fuzz(func(t *testing.T, in []byte, version string) {
		if len(in) > 512 {
			return
		}
		body := gramBody(in)
		for _, max := range []int{0, 4, 5} {
			checkQuickWalk(t, body, max)
		}
		checkDifferential(t, body, version)
	})
}

// TestQuickWalkGrammarReaches checks that the generator reaches the quick
// walk: a good share of what it builds is taken by quickWalk.
func TestQuickWalkGrammarReaches(t *testing.T) {
	t.Parallel()
	took, n := 0, 0
	seed := uint32(1)
	in := make([]byte, 256)
	for ; n < 3000; n++ {
		for i := range in {
			// Mostly zero (the common choice), as the fuzzer's
			// mutations of the seeds are.
			if seed = seed*1664525 + 1013904223; seed>>30 == 0 {
				in[i] = byte(seed >> 16)
			} else {
				in[i] = 0
			}
		}
		if checkQuickWalk(t, gramBody(in), 0) {
			took++
		}
	}
	t.Logf("quickWalk took %d of %d generated bodies", took, n)
	if took < n/5 {
		t.Fatalf("quickWalk took only %d of %d generated bodies", took, n)
	}
}

// TestQuickWalkPlacements puts every key spelling of the grammar, with
// a few value kinds, first, between and after the envelope members at the
// message, params and params._meta levels, and checks each body with
// checkQuickWalk (at three depth limits) and checkDifferential.
func TestQuickWalkPlacements(t *testing.T) {
	t.Parallel()
	const meta = `"_meta":{"progressToken":1}`
	bases := []struct{ head, mid, tail string }{
		{`{`, `"jsonrpc":"2.0","id":1,"method":"tools/call",`, `"params":{"name":"ls","arguments":{"a":1},` + meta + `}}`},
		{`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{`, `"name":"ls",`, `"arguments":{"a":1},` + meta + `}}`},
		{`{"jsonrpc":"2.0","id":"x","method":"resources/read","params":{"_meta":{`, `"a":1,`, `"b":2},"uri":"file:///a"}}`},
		{`{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"ls","_meta":{`, `"progressToken":"p",`, `"b":2}}}`},
		{`{"jsonrpc":"2.0","method":"notifications/initialized","params":{`, ``, `"x":1}}`},
	}
	keys := append(append([]string(nil), gramKeys[0]...), gramKeys[1]...)
	vals := []string{`"rm"`, `"\u0072m"`, `"caf\u00e9"`, `1`, `1e400`, `null`, `01`, `{}`, `[{"name":"rm"}]`, `{"a":{"b":{"c":{}}}}`}
	taken, dispatched := 0, 0
	for _, b := range bases {
		for _, k := range keys {
			for _, v := range vals {
				m := `"` + k + `":` + v + `,`
				for _, body := range []string{
					b.head + m + b.mid + b.tail,
					b.head + b.mid + m + b.tail,
					b.head + b.mid + strings.TrimSuffix(b.tail, "}}") + `,` + strings.TrimSuffix(m, ",") + `}}`,
				} {
					for _, max := range []int{0, 4, 5} {
						if checkQuickWalk(t, []byte(body), max) && max == 0 {
							taken++
						}
					}
					dispatched += len(checkDifferential(t, []byte(body), ""))
				}
			}
		}
	}
	t.Logf("quickWalk took %d bodies; the go-sdk dispatched %d calls", taken, dispatched)
	if taken < 1000 || dispatched < 1000 {
		t.Fatalf("quickWalk took %d bodies, the go-sdk dispatched %d calls: the placements miss the common body", taken, dispatched)
	}
}
