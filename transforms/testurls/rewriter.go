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
	keep    []string // hosts never rewritten, lower case
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
		if m.escaped {
			b.WriteString(r.testEsc)
		} else {
			b.WriteString(r.test)
		}
		last = m.end
		m, ok = r.next(s, m.end)
	}
	b.WriteString(s[last:])
	return b.String(), true
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
		if host, ok := r.accept(s, i, end); ok {
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
// found at s[i:end]. It returns the start of the full host.
func (r *Rewriter) accept(s string, i, end int) (int, bool) {
	// Boundary before: a dot (possibly escaped) or a non-hostname character.
	if i > 0 && hostChar[s[i-1]] {
		return 0, false
	}
	// Boundary after: not a hostname character, and not a dot that goes on
	// with another label.
	if end < len(s) {
		switch c := s[end]; {
		case hostChar[c]:
			return 0, false
		case c == '.' && end+1 < len(s) && hostChar[s[end+1]]:
			return 0, false
		case c == '\\' && end+2 < len(s) && s[end+1] == '.' && hostChar[s[end+2]]:
			return 0, false
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
	if h > 0 {
		switch s[h-1] {
		case '@': // e-mail address
			return 0, false
		case '/': // path segment, unless it follows "//"
			if h < 2 || s[h-2] != '/' {
				return 0, false
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
		return 0, false
	}
	for _, k := range r.keep {
		if rest, ok := trimHostSuffix(host, k); ok && rest == "" {
			return 0, false
		}
	}
	return h, true
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
