package instance

import (
	"fmt"
	"strings"

	"github.com/picasoft/docker-picatest/transforms"
)

// Rewriter gives the test hosts in a string the instance suffix: the label
// next to the test domain gets "-<instance>", or, for the test domain
// itself, the instance becomes that label. It is immutable and safe for
// concurrent use.
type Rewriter struct {
	inst   string
	labels []string // of the test domain, lower case
}

var _ transforms.Rewriter = (*Rewriter)(nil)

// NewRewriter returns the host rule of instance inst under testDomain
// (e.g. "test.picasoft.net").
func NewRewriter(testDomain, inst string) (*Rewriter, error) {
	if err := Check(inst); err != nil {
		return nil, err
	}
	d := strings.ToLower(strings.TrimSuffix(testDomain, "."))
	if d == "" {
		return nil, fmt.Errorf("instance: empty test domain")
	}
	return &Rewriter{inst: inst, labels: strings.Split(d, ".")}, nil
}

// Instance returns the instance name.
func (r *Rewriter) Instance() string { return r.inst }

// Rewrite returns s with every host under the test domain given the
// instance suffix, and whether anything changed. Hosts are found on label
// boundaries, with plain or regexp-escaped dots (HostRegexp), matching the
// test domain case-insensitively; e-mail domains and path segments are
// left alone, as the test-URL rule leaves them. It implements
// transforms.Rewriter.
func (r *Rewriter) Rewrite(s string) (string, bool) {
	var b strings.Builder
	last, changed := 0, false
	for i := 0; i < len(s); i++ {
		end, ok := r.domainAt(s, i)
		if !ok {
			continue
		}
		at, ins, repl, ok := r.insertion(s, i, end)
		if !ok {
			i = end - 1
			continue
		}
		b.WriteString(s[last:at])
		b.WriteString(ins)
		last = at + repl
		changed = true
		i = end - 1
	}
	if !changed {
		return s, false
	}
	b.WriteString(s[last:])
	return b.String(), true
}

// domainAt reports whether the test domain starts at s[i] on a label
// boundary after it, and where it ends.
func (r *Rewriter) domainAt(s string, i int) (int, bool) {
	p := i
	for n, l := range r.labels {
		if n > 0 {
			switch {
			case p < len(s) && s[p] == '.':
				p++
			case p+1 < len(s) && s[p] == '\\' && s[p+1] == '.':
				p += 2
			default:
				return 0, false
			}
		}
		if len(s)-p < len(l) || !strings.EqualFold(s[p:p+len(l)], l) {
			return 0, false
		}
		p += len(l)
	}
	if p < len(s) {
		switch c := s[p]; {
		case hostChar(c):
			return 0, false
		case c == '.' && p+1 < len(s) && hostChar(s[p+1]):
			return 0, false
		case c == '\\' && p+2 < len(s) && s[p+1] == '.' && hostChar(s[p+2]):
			return 0, false
		}
	}
	return p, true
}

// insertion is what Rewrite does to the test domain at s[i:end]: write
// ins in place of the repl bytes at s[at:].
func (r *Rewriter) insertion(s string, i, end int) (at int, ins string, repl int, ok bool) {
	if i > 0 && hostChar(s[i-1]) {
		return 0, "", 0, false // "mytest.picasoft.net"
	}
	sep := 0 // length of the separator before the test domain
	switch {
	case i >= 2 && s[i-1] == '.' && s[i-2] == '\\':
		sep = 2
	case i >= 1 && s[i-1] == '.':
		sep = 1
	}
	// The full host: back over host characters and (escaped) dots.
	h := i
	for h > 0 {
		if c := s[h-1]; hostChar(c) || c == '.' {
			h--
		} else if c == '\\' && h < len(s) && s[h] == '.' {
			h--
		} else {
			break
		}
	}
	if h > 0 && (s[h-1] == '@' || s[h-1] == '/' && (h < 2 || s[h-2] != '/')) {
		return 0, "", 0, false // e-mail domain, path segment
	}
	if sep == 0 {
		dot := "."
		if strings.Contains(s[i:end], `\.`) {
			dot = `\.`
		}
		return i, r.inst + dot, 0, true
	}
	// The label before the separator, when it is a plain one.
	at = i - sep
	l := at
	for l > 0 && hostChar(s[l-1]) {
		l--
	}
	if at > l {
		if nl := label(s[l:at], r.inst); nl != Suffixed(s[l:at], r.inst) {
			return l, nl, at - l, true
		}
	}
	return at, "-" + r.inst, 0, true
}

// hostChar reports the characters of a hostname label: [A-Za-z0-9_-].
func hostChar(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_'
}

// Host returns the instance host of a test host (unchanged when it is not
// under the test domain).
func (r *Rewriter) Host(h string) string {
	n, _ := r.Rewrite(h)
	return n
}
