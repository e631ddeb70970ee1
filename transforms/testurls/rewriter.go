package testurls

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/picasoft/docker-picatest/transforms"
)

// Rewriter rewrites production hostnames to test hostnames in strings. It is
// immutable once built by New and safe for concurrent use.
type Rewriter struct {
	prod    string   // production domain, lower case
	labels  []string // labels of prod, lower case
	test    string   // test domain, lower case
	testEsc string   // test domain with regexp-escaped dots
	// prefix is the labels the test domain adds in front of the
	// production domain ("test" for test.picasoft.net), "" when the test
	// domain does not end with "."+prod.
	prefix string
	keep   []string // hosts never rewritten, lower case
	// paths: hosts inside a path are rewritten too (WithPaths).
	paths bool
}

var _ transforms.Rewriter = (*Rewriter)(nil)

// New returns a Rewriter from production domain prod (e.g. "picasoft.net")
// to test domain test (e.g. "test.picasoft.net"); keep lists hosts never
// rewritten (e.g. "registry.picasoft.net"). Domains are case-insensitive.
// A keep entry may carry a port ("registry.picasoft.net:5000"), which is
// ignored; empty keep entries are ignored.
//
// New fails on an empty or invalid domain, when prod and test are equal, and
// when prod lies under test (every production host would then already count
// as a test host).
func New(prod, test string, keep ...string) (*Rewriter, error) {
	p, err := checkDomain("production", prod)
	if err != nil {
		return nil, err
	}
	t, err := checkDomain("test", test)
	if err != nil {
		return nil, err
	}
	if p == t {
		return nil, fmt.Errorf("testurls: production and test domains are both %q: choose a different test domain", p)
	}
	if strings.HasSuffix(p, "."+t) {
		return nil, fmt.Errorf("testurls: production domain %q lies under test domain %q: choose a test domain outside the production domain, e.g. %q", p, t, "test."+p)
	}
	r := &Rewriter{
		prod:    p,
		labels:  strings.Split(p, "."),
		test:    t,
		testEsc: strings.ReplaceAll(t, ".", `\.`),
	}
	if pre, ok := strings.CutSuffix(t, "."+p); ok {
		r.prefix = pre
	}
	for _, k := range keep {
		k = strings.ToLower(strings.TrimSpace(k))
		if i := strings.LastIndexByte(k, ':'); i >= 0 && isDigits(k[i+1:]) {
			k = k[:i]
		}
		k = strings.TrimSuffix(k, ".")
		if k == "" {
			continue
		}
		if err := validHost(k); err != nil {
			return nil, fmt.Errorf("testurls: invalid host to keep %q: %w", k, err)
		}
		if !slices.Contains(r.keep, k) {
			r.keep = append(r.keep, k)
		}
	}
	return r, nil
}

// Prod returns the production domain, in lower case.
func (r *Rewriter) Prod() string { return r.prod }

// Test returns the test domain, in lower case.
func (r *Rewriter) Test() string { return r.test }

func checkDomain(what, d string) (string, error) {
	if d == "" {
		return "", fmt.Errorf("testurls: empty %s domain", what)
	}
	l := strings.ToLower(d)
	if err := validHost(l); err != nil {
		return "", fmt.Errorf("testurls: invalid %s domain %q: %w", what, d, err)
	}
	return l, nil
}

// validHost checks a lower-case hostname: dot-separated labels of 1 to 63
// characters among [a-z0-9-], not starting or ending with "-".
func validHost(h string) error {
	if len(h) > 253 {
		return errors.New("longer than 253 characters")
	}
	for label := range strings.SplitSeq(h, ".") {
		switch {
		case label == "":
			return errors.New("empty label")
		case len(label) > 63:
			return fmt.Errorf("label %q longer than 63 characters", label)
		case label[0] == '-' || label[len(label)-1] == '-':
			return fmt.Errorf("label %q starts or ends with '-'", label)
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-') {
				return fmt.Errorf("invalid character %q", c)
			}
		}
	}
	return nil
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// WithPaths returns a copy of r that also rewrites a host inside a path
// ("/srv/sites/pad.picasoft.net/"): for the services that derive paths
// from their host name (x-picatest: {rewrite-paths: true}).
func (r *Rewriter) WithPaths() *Rewriter {
	c := *r
	c.paths = true
	return &c
}

// ForRules returns a copy of r for Traefik rules: a rule claims its hosts,
// so every production host in it gets its test host, the never-rewritten
// ones (the registry, the keep-hosts) included.
func (r *Rewriter) ForRules() *Rewriter {
	c := *r
	c.keep = nil
	return &c
}

// Rewrite returns s with every production hostname replaced by its test
// counterpart, and whether anything changed. It implements
// transforms.Rewriter.
func (r *Rewriter) Rewrite(s string) (string, bool) {
	m, ok := r.next(s, 0)
	if !ok {
		return s, false
	}
	var b strings.Builder
	b.Grow(len(s) + 2*len(r.testEsc))
	last := 0
	for ok {
		b.WriteString(s[last:m.start])
		r.writeTest(&b, s[m.start:m.end], m.escaped)
		last = m.end
		m, ok = r.next(s, m.end)
	}
	b.WriteString(s[last:])
	return b.String(), true
}

// writeTest writes the test counterpart of the production domain written
// dom in s, keeping its case: when the test domain ends with the
// production domain, dom is kept as written and the labels of the test
// domain are inserted before it; otherwise dom is replaced by the whole
// test domain. What is inserted is in upper case when every letter of dom
// is, in lower case otherwise (mixed case included).
func (r *Rewriter) writeTest(b *strings.Builder, dom string, escaped bool) {
	upper := isUpper(dom)
	add := r.test
	if r.prefix != "" {
		add = r.prefix
	}
	for i := 0; i < len(add); i++ {
		c := add[i]
		switch {
		case c == '.' && escaped:
			b.WriteString(`\.`)
			continue
		case upper && 'a' <= c && c <= 'z':
			c -= 'a' - 'A'
		}
		b.WriteByte(c)
	}
	if r.prefix != "" {
		if escaped {
			b.WriteString(`\.`)
		} else {
			b.WriteByte('.')
		}
		b.WriteString(dom)
	}
}

// isUpper reports whether s has letters, all in upper case.
func isUpper(s string) bool {
	letters := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case 'a' <= c && c <= 'z':
			return false
		case 'A' <= c && c <= 'Z':
			letters = true
		}
	}
	return letters
}

// ProdHosts returns the production hostnames in s that Rewrite would change,
// as written in s (including case and regexp escapes, without leading dots),
// deduplicated, in order of appearance. It returns nil when there are none.
func (r *Rewriter) ProdHosts(s string) []string {
	var hosts []string
	for m, ok := r.next(s, 0); ok; m, ok = r.next(s, m.end) {
		if h := s[m.host:m.end]; !slices.Contains(hosts, h) {
			hosts = append(hosts, h)
		}
	}
	return hosts
}

// Reason says why a production host is kept.
type Reason string

// The reasons a production host is kept (see the package documentation).
const (
	// KeptEmail: the domain of an e-mail address.
	KeptEmail Reason = "e-mail address"
	// KeptPath: a segment of a path.
	KeptPath Reason = "inside a path"
	// KeptNeverRewritten: the registry or a keep-host.
	KeptNeverRewritten Reason = "never rewritten: the registry or a keep-host"
)

// Kept is a production host that Rewrite leaves in a string on purpose.
type Kept struct {
	// Host is the host as written (without leading dots).
	Host string `json:"host"`
	// Reason is the rule that keeps it.
	Reason Reason `json:"reason"`
}

// Kept returns the production hosts in s that Rewrite leaves unchanged on
// purpose, with the rule that keeps each, deduplicated, in order of
// appearance. Hosts already under the test domain and text that is not a
// host ("notpicasoft.net") are not production hosts.
func (r *Rewriter) Kept(s string) []Kept {
	var out []Kept
	first := r.labels[0]
	for i := 0; i < len(s); i++ {
		k := indexFold(s[i:], first)
		if k < 0 {
			break
		}
		i += k
		end, _, ok := r.domainAt(s, i)
		if !ok {
			continue
		}
		if h, why := r.accept(s, i, end); why != "" && why != notProd {
			if k := (Kept{Host: s[h:end], Reason: why}); !slices.Contains(out, k) {
				out = append(out, k)
			}
		}
	}
	return out
}

// notProd is the reason accept gives for text that is no production host
// (no label boundary, or a test host).
const notProd Reason = "-"

// match is an occurrence of the production domain that Rewrite changes.
type match struct {
	host       int  // start of the full host (leading dots skipped)
	start, end int  // the production domain is s[start:end]
	escaped    bool // the matched domain has a regexp-escaped dot
}

// next returns the first occurrence of the production domain at or after
// from that Rewrite changes.
func (r *Rewriter) next(s string, from int) (match, bool) {
	first := r.labels[0]
	for i := from; i < len(s); i++ {
		k := indexFold(s[i:], first)
		if k < 0 {
			return match{}, false
		}
		i += k
		end, escaped, ok := r.domainAt(s, i)
		if !ok {
			continue
		}
		if host, why := r.accept(s, i, end); why == "" {
			return match{host: host, start: i, end: end, escaped: escaped}, true
		}
	}
	return match{}, false
}

// domainAt reports whether the production domain starts at s[i] (its first
// label is known to be there), and where it ends.
func (r *Rewriter) domainAt(s string, i int) (end int, escaped, ok bool) {
	p := i + len(r.labels[0])
	for _, label := range r.labels[1:] {
		switch {
		case p < len(s) && s[p] == '.':
			p++
		case p+1 < len(s) && s[p] == '\\' && s[p+1] == '.':
			p += 2
			escaped = true
		default:
			return 0, false, false
		}
		if !hasPrefixFold(s[p:], label) {
			return 0, false, false
		}
		p += len(label)
	}
	return p, escaped, true
}

// accept applies the boundary and exclusion rules to the production domain
// found at s[i:end]. It returns the start of the full host, and why the host
// is kept: "" when Rewrite changes it, notProd when it is no production host.
func (r *Rewriter) accept(s string, i, end int) (int, Reason) {
	// Boundary before: a dot (possibly escaped) or a non-hostname character.
	if i > 0 && hostChar[s[i-1]] {
		return 0, notProd
	}
	// Boundary after: not a hostname character, and not a dot that goes on
	// with another label.
	if end < len(s) {
		switch c := s[end]; {
		case hostChar[c]:
			return 0, notProd
		case c == '.' && end+1 < len(s) && hostChar[s[end+1]]:
			return 0, notProd
		case c == '\\' && end+2 < len(s) && s[end+1] == '.' && hostChar[s[end+2]]:
			return 0, notProd
		}
	}
	// Full host: extend backwards over hostname characters and dots.
	h := i
	for h > 0 {
		c := s[h-1]
		if hostChar[c] {
			h--
			continue
		}
		if c != '.' {
			break
		}
		h--
		if h > 0 && s[h-1] == '\\' {
			h--
		}
	}
	var why Reason
	if h > 0 {
		switch s[h-1] {
		case '@':
			if !urlUserinfo(s, h-1) && !connectionAfter(s, end) {
				why = KeptEmail
			}
		case '/': // path segment, unless it follows "//"
			if (h < 2 || s[h-2] != '/') && !r.paths {
				why = KeptPath
			}
		}
	}
	// Skip leading dots: ".picasoft.net" in `{sub:[a-z]+}.picasoft.net`.
	for h < i {
		if s[h] == '.' {
			h++
		} else if s[h] == '\\' {
			h += 2
		} else {
			break
		}
	}
	host := s[h:end]
	// Already under the test domain?
	if rest, ok := trimHostSuffix(host, r.test); ok && (rest == "" || strings.HasSuffix(rest, ".")) {
		return h, notProd
	}
	if why != "" {
		return h, why
	}
	for _, k := range r.keep {
		if rest, ok := trimHostSuffix(host, k); ok && rest == "" {
			return h, KeptNeverRewritten
		}
	}
	return h, ""
}

// urlUserinfo reports whether the "@" at s[at] ends the user information of
// a URL ("scheme://user:password@host"): going back from it over anything
// but spaces, quotes, brackets and "/" (a password may hold "@" or ":")
// reaches "//".
func urlUserinfo(s string, at int) bool {
	for j := at - 1; j >= 0; j-- {
		switch s[j] {
		case '/':
			return j > 0 && s[j-1] == '/'
		case ' ', '\t', '\n', '\r', '\v', '\f', '"', '\'', '`', '<', '>', '(', ')', '[', ']', '{', '}':
			return false
		}
	}
	return false
}

// connectionAfter reports whether what follows a host written after an "@"
// at s[end:] makes "user@host" a connection rather than an e-mail address:
// a path ("user@host/path"), or the scp and rsync forms ("user@host:/path",
// "user@host:~/path", "user@host:dir/file", "user@host:repo.git",
// "user@host::module") and a port ("user@host:22"). A colon followed by
// anything else ("admin@picasoft.net: ..." in a text,
// "admin@picasoft.net:{SHA512-CRYPT}..." in a password file) is not one.
func connectionAfter(s string, end int) bool {
	if end >= len(s) {
		return false
	}
	switch s[end] {
	case '/':
		return true
	case ':':
	default:
		return false
	}
	t := s[end+1:]
	if t == "" {
		return false
	}
	if t[0] == '/' || t[0] == '~' || t[0] == ':' {
		return true
	}
	k := 0
	digits := true
	for k < len(t) && (hostChar[t[k]] || t[k] == '.') {
		if t[k] < '0' || t[k] > '9' {
			digits = false
		}
		k++
	}
	if k == 0 {
		return false
	}
	if k < len(t) && t[k] == '/' {
		return true // a relative path
	}
	return digits || strings.HasSuffix(t[:k], ".git")
}

// trimHostSuffix reports whether host ends with suffix, comparing ASCII
// case-insensitively and reading `\.` in host as ".", and returns the rest of
// host before the suffix.
func trimHostSuffix(host, suffix string) (string, bool) {
	p := len(host)
	for q := len(suffix) - 1; q >= 0; q-- {
		if p == 0 || lower(host[p-1]) != suffix[q] {
			return "", false
		}
		p--
		if host[p] == '.' && p > 0 && host[p-1] == '\\' {
			p--
		}
	}
	return host[:p], true
}

// hostChar reports the characters of a hostname label: [A-Za-z0-9_-].
var hostChar = func() (t [256]bool) {
	for c := 'a'; c <= 'z'; c++ {
		t[c] = true
		t[c-'a'+'A'] = true
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	t['-'] = true
	t['_'] = true
	return t
}()

func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// hasPrefixFold reports whether s starts with the lower-case ASCII prefix,
// ignoring ASCII case.
func hasPrefixFold(s, prefix string) bool {
	if len(s) < len(prefix) {
		return false
	}
	for i := 0; i < len(prefix); i++ {
		if lower(s[i]) != prefix[i] {
			return false
		}
	}
	return true
}

// indexFold returns the index of the first occurrence of the lower-case
// ASCII pattern in s, ignoring ASCII case, or -1.
func indexFold(s, pat string) int {
	c0, mask := pat[0], byte(0)
	if 'a' <= c0 && c0 <= 'z' {
		mask = 0x20 // c|0x20 == c0 matches both cases of a letter
	}
	for i := 0; i+len(pat) <= len(s); i++ {
		if s[i]|mask == c0 && hasPrefixFold(s[i+1:], pat[1:]) {
			return i
		}
	}
	return -1
}
