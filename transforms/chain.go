package transforms

// Chain is a Rewriter that applies its rewriters in order, each to the
// result of the previous one: the test-URL rule then the instance suffix,
// so that a file's production host becomes the instance's test host.
type Chain []Rewriter

// Rewrite implements Rewriter.
func (c Chain) Rewrite(s string) (string, bool) {
	changed := false
	for _, r := range c {
		var ok bool
		if s, ok = r.Rewrite(s); ok {
			changed = true
		}
	}
	return s, changed
}
