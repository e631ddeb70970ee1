package traefik

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// The rule syntaxes Traefik v3 runs: its own (the default) and Traefik v2's,
// with --core.defaultRuleSyntax=v2 or the router label ruleSyntax=v2. They
// share the grammar (matchers, &&, ||, !, parentheses) and differ in the
// matchers: v2 has Host(`a`, `b`), Headers, HostRegexp(`{name:regexp}.x`)
// templates and several values per matcher; v3 has one value per matcher,
// Header, and Go regular expressions in the ...Regexp matchers.
const (
	SyntaxV2 = "v2"
	SyntaxV3 = "v3"
)

// RuleSyntax is the syntax Traefik reads a router's rule in, as far as the
// labels tell: the router's label <router>.ruleSyntax (v2 or v3,
// case-insensitive), else what only one syntax accepts in the rule (v2:
// Headers, HeadersRegexp, HostHeader, several values in Host, HostRegexp,
// Path, PathPrefix, Method or ClientIP; v3: Header, HeaderRegexp,
// PathRegexp, QueryRegexp), else "": Traefik's --core.defaultRuleSyntax
// decides, which the labels do not show. router is the label prefix of the
// router, e.g. "traefik.http.routers.pad".
func RuleSyntax(labels map[string]string, router, rule string) string {
	key := strings.ToLower(router) + ".rulesyntax"
	for k, v := range labels {
		if strings.ToLower(k) != key {
			continue
		}
		switch s := strings.ToLower(strings.TrimSpace(v)); s {
		case SyntaxV2, SyntaxV3:
			return s
		}
	}
	n, err := parseRule(rule)
	if err != nil {
		return ""
	}
	v2, v3 := false, false
	n.walk(func(m *node) {
		switch strings.ToLower(m.name) {
		case "headers", "headersregexp", "hostheader":
			v2 = true
		case "header", "headerregexp", "pathregexp", "queryregexp":
			v3 = true
		case "host", "hostregexp", "path", "pathprefix", "method", "clientip":
			if len(m.args) != 1 {
				v2 = true
			}
		}
	})
	switch {
	case v2 && !v3:
		return SyntaxV2
	case v3 && !v2:
		return SyntaxV3
	}
	return ""
}

// Request is one request a router rule routes, as the smoke checks send
// it.
type Request struct {
	// Host is the host of the request, lower case.
	Host string
	// Path is "/" unless the rule asks for a path (PathPrefix, Path,
	// PathRegexp): then one it matches.
	Path string
	// Headers are the headers the rule asks for (Header, Headers,
	// HeaderRegexp, HeadersRegexp) with a value it matches; nil when none.
	Headers map[string]string
	// Pattern is the HostRegexp pattern Host was derived from; "" when Host
	// is written in the rule (Host, HostHeader, a v1 Host:).
	Pattern string
}

// Unresolved is a HostRegexp pattern no host could be derived from.
type Unresolved struct {
	Pattern string
	Reason  string
}

// RuleRequests returns the requests a Traefik HTTP router rule routes, in
// syntax (see RuleSyntax; "" reads each HostRegexp pattern both ways, see
// PatternHost): one for every host of every alternative of the rule
// (each side of ||, each host of a v2 Host(`a`, `b`)), with the path and
// the headers that alternative asks for besides the host. A HostRegexp
// gives the host PatternHost derives, or an Unresolved. Matchers under !
// are left out (the request does not send what they exclude); an
// alternative without a host matcher gives no request. A rule that does
// not parse (a v1 rule Host:a,b;PathPrefix:/x) gives its RuleHosts with
// path "/". Requests are deduplicated, in the order of the rule.
func RuleRequests(rule, syntax string) ([]Request, []Unresolved) {
	n, err := parseRule(rule)
	if err != nil {
		var out []Request
		for _, h := range RuleHosts(rule) {
			out = append(out, Request{Host: h, Path: "/"})
		}
		return out, nil
	}
	var reqs []Request
	var unresolved []Unresolved
	for _, c := range n.conjunctions(false) {
		path, headers := "/", map[string]string(nil)
		var hostTerm *term
		for i := range c {
			t := &c[i]
			if t.not {
				continue
			}
			switch strings.ToLower(t.name) {
			case "host", "hostheader", "hostregexp":
				if hostTerm == nil {
					hostTerm = t
				}
			case "path", "pathprefix", "pathregexp":
				if path == "/" && len(t.args) > 0 {
					path = requestPath(strings.ToLower(t.name), t.args[0], syntax)
				}
			case "header", "headers", "headerregexp", "headersregexp":
				regexp := strings.HasSuffix(strings.ToLower(t.name), "regexp")
				for i := 0; i+1 < len(t.args); i += 2 {
					if v, ok := headerValue(t.args[i+1], regexp); ok && !strings.EqualFold(t.args[i], "Host") {
						if headers == nil {
							headers = map[string]string{}
						}
						headers[t.args[i]] = v
					}
				}
			}
		}
		if hostTerm == nil {
			continue
		}
		for _, arg := range hostTerm.args {
			r := Request{Path: path, Headers: headers}
			if strings.EqualFold(hostTerm.name, "hostregexp") {
				h, reason := PatternHost(arg, syntax)
				if h == "" {
					u := Unresolved{Pattern: arg, Reason: reason}
					if !slices.Contains(unresolved, u) {
						unresolved = append(unresolved, u)
					}
					continue
				}
				r.Host, r.Pattern = h, arg
			} else if r.Host = strings.ToLower(strings.TrimSpace(arg)); r.Host == "" || r.Host == "*" {
				continue
			}
			if !slices.ContainsFunc(reqs, r.equal) {
				reqs = append(reqs, r)
			}
		}
	}
	return reqs, unresolved
}

func (r Request) equal(o Request) bool {
	if r.Host != o.Host || r.Path != o.Path || r.Pattern != o.Pattern || len(r.Headers) != len(o.Headers) {
		return false
	}
	for k, v := range r.Headers {
		if w, ok := o.Headers[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// HostPatterns returns the patterns of every HostRegexp matcher of a rule
// (under ! too), in order; none when the rule does not parse.
func HostPatterns(rule string) []string {
	n, err := parseRule(rule)
	if err != nil {
		return nil
	}
	var out []string
	n.walk(func(m *node) {
		if strings.EqualFold(m.name, "hostregexp") {
			out = append(out, m.args...)
		}
	})
	return out
}

// node is a parsed rule: a matcher (op 0) or an operator over l (and r).
type node struct {
	op   byte // 0: matcher; '&', '|'; '!' (over l)
	name string
	args []string
	l, r *node
}

// walk calls f on every matcher of n.
func (n *node) walk(f func(*node)) {
	switch n.op {
	case 0:
		f(n)
	case '!':
		n.l.walk(f)
	default:
		n.l.walk(f)
		n.r.walk(f)
	}
}

// term is a matcher in a conjunction, negated or not.
type term struct {
	name string
	args []string
	not  bool
}

// maxConjunctions bounds the alternatives of a rule (its disjunctive normal
// form can grow exponentially).
const maxConjunctions = 64

// conjunctions returns n (negated when not) as alternatives, each the
// matchers that must all hold (! pushed down to the matchers).
func (n *node) conjunctions(not bool) [][]term {
	switch {
	case n.op == 0:
		return [][]term{{{name: n.name, args: n.args, not: not}}}
	case n.op == '!':
		return n.l.conjunctions(!not)
	case (n.op == '|') != not: // a || b, or !(a && b)
		out := n.l.conjunctions(not)
		out = append(out, n.r.conjunctions(not)...)
		return out[:min(len(out), maxConjunctions)]
	default: // a && b, or !(a || b)
		var out [][]term
		for _, a := range n.l.conjunctions(not) {
			for _, b := range n.r.conjunctions(not) {
				if len(out) < maxConjunctions {
					out = append(out, append(slices.Clip(a), b...))
				}
			}
		}
		return out
	}
}

// parseRule parses the grammar both syntaxes share: matchers Name(`value`,
// "value", ...) combined with &&, || (&& binds tighter), ! and parentheses.
// Values are Go string literals: back-quoted (raw) or double-quoted.
func parseRule(rule string) (*node, error) {
	p := &ruleParser{s: rule}
	n, err := p.or()
	if err != nil {
		return nil, err
	}
	if p.skip(); p.i < len(p.s) {
		return nil, fmt.Errorf("unexpected %q at offset %d", p.s[p.i:], p.i)
	}
	return n, nil
}

type ruleParser struct {
	s string
	i int
}

func (p *ruleParser) skip() {
	for p.i < len(p.s) && strings.IndexByte(" \t\r\n", p.s[p.i]) >= 0 {
		p.i++
	}
}

// eat consumes tok after spaces.
func (p *ruleParser) eat(tok string) bool {
	p.skip()
	if strings.HasPrefix(p.s[p.i:], tok) {
		p.i += len(tok)
		return true
	}
	return false
}

func (p *ruleParser) or() (*node, error) { return p.binary("||", '|', p.and) }

func (p *ruleParser) and() (*node, error) { return p.binary("&&", '&', p.unary) }

// binary parses operands joined by tok, left-associative.
func (p *ruleParser) binary(tok string, op byte, operand func() (*node, error)) (*node, error) {
	l, err := operand()
	for err == nil && p.eat(tok) {
		var r *node
		if r, err = operand(); err == nil {
			l = &node{op: op, l: l, r: r}
		}
	}
	return l, err
}

func (p *ruleParser) unary() (*node, error) {
	switch {
	case p.eat("!"):
		n, err := p.unary()
		if err != nil {
			return nil, err
		}
		return &node{op: '!', l: n}, nil
	case p.eat("("):
		n, err := p.or()
		if err != nil {
			return nil, err
		}
		if !p.eat(")") {
			return nil, fmt.Errorf("missing ) at offset %d", p.i)
		}
		return n, nil
	}
	return p.matcher()
}

func (p *ruleParser) matcher() (*node, error) {
	p.skip()
	start := p.i
	for p.i < len(p.s) && isIdentChar(p.s[p.i], p.i == start) {
		p.i++
	}
	if p.i == start {
		return nil, fmt.Errorf("expected a matcher at offset %d", start)
	}
	n := &node{name: p.s[start:p.i]}
	if !p.eat("(") {
		return nil, fmt.Errorf("expected ( after %s", n.name)
	}
	if p.eat(")") {
		return n, nil
	}
	for {
		v, err := p.value()
		if err != nil {
			return nil, err
		}
		n.args = append(n.args, v)
		if p.eat(")") {
			return n, nil
		}
		if !p.eat(",") {
			return nil, fmt.Errorf("expected , or ) in %s at offset %d", n.name, p.i)
		}
	}
}

func isIdentChar(c byte, first bool) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '_' || !first && '0' <= c && c <= '9'
}

// value reads a back-quoted or double-quoted Go string literal.
func (p *ruleParser) value() (string, error) {
	p.skip()
	if p.i >= len(p.s) {
		return "", errors.New("missing value")
	}
	switch p.s[p.i] {
	case '`':
		end := strings.IndexByte(p.s[p.i+1:], '`')
		if end < 0 {
			return "", errors.New("unterminated `")
		}
		v := p.s[p.i+1 : p.i+1+end]
		p.i += end + 2
		return v, nil
	case '"':
		for j := p.i + 1; j < len(p.s); j++ {
			switch p.s[j] {
			case '\\':
				j++
			case '"':
				v, err := strconv.Unquote(p.s[p.i : j+1])
				p.i = j + 1
				return v, err
			}
		}
		return "", errors.New(`unterminated "`)
	}
	return "", fmt.Errorf("expected a quoted value at offset %d", p.i)
}
