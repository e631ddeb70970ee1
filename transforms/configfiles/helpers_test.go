package configfiles_test

import (
	"strings"
	"sync/atomic"
)

// fakeRewriter stands for testurls: it replaces picasoft.net by
// test.picasoft.net unless already preceded by "test.".
type fakeRewriter struct{}

func (fakeRewriter) Rewrite(s string) (string, bool) {
	const prod, test = "picasoft.net", "test.picasoft.net"
	if !strings.Contains(s, prod) {
		return s, false
	}
	var b strings.Builder
	b.Grow(len(s) + 64)
	changed := false
	for {
		i := strings.Index(s, prod)
		if i < 0 {
			b.WriteString(s)
			break
		}
		b.WriteString(s[:i])
		if strings.HasSuffix(s[:i], "test.") {
			b.WriteString(prod)
		} else {
			b.WriteString(test)
			changed = true
		}
		s = s[i+len(prod):]
	}
	return b.String(), changed
}

// countingRewriter is fakeRewriter that counts its calls: the scanner calls
// Rewrite once per text file it reads.
type countingRewriter struct{ calls *atomic.Int64 }

func (c countingRewriter) Rewrite(s string) (string, bool) {
	c.calls.Add(1)
	return fakeRewriter{}.Rewrite(s)
}
