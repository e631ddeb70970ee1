package instance

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzInstance checks the naming rules and the host rule on any input
// (branch names and Compose strings are user input): no panic; a branch
// gives a valid instance name or an error, the same every time; a string
// without the test domain is unchanged; a changed string names the
// instance, and every host label it made is a valid length.
func FuzzInstance(f *testing.F) {
	for _, s := range []string{"feature/Été_2026!!", "Host(`pad.test.picasoft.net`)", `^(www\.)?test\.picasoft\.net$`, "admin@test.picasoft.net", strings.Repeat("a", 70) + ".test.picasoft.net"} {
		f.Add(s)
	}
	r, err := NewRewriter("test.picasoft.net", "b2")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if name, err := FromBranch(s); err == nil {
			if err := Check(name); err != nil {
				t.Fatalf("FromBranch(%q) = %q: %v", s, name, err)
			}
			if again, _ := FromBranch(s); again != name {
				t.Fatalf("FromBranch(%q) not stable: %q, %q", s, name, again)
			}
		}
		out, changed := r.Rewrite(s)
		if !changed {
			if out != s {
				t.Fatalf("Rewrite(%q) = %q but reports no change", s, out)
			}
			return
		}
		if !strings.Contains(strings.ToLower(strings.ReplaceAll(s, `\.`, ".")), "test.picasoft.net") {
			t.Fatalf("Rewrite(%q) = %q without the test domain in the input", s, out)
		}
		if !strings.Contains(out, "b2") {
			t.Fatalf("Rewrite(%q) = %q does not name the instance", s, out)
		}
		if utf8.ValidString(s) && !utf8.ValidString(out) {
			t.Fatalf("Rewrite(%q) = %q is not UTF-8", s, out)
		}
		for _, h := range strings.FieldsFunc(out, func(c rune) bool { return !(hostChar(byte(c)) && c < 128 || c == '.') }) {
			for l := range strings.SplitSeq(h, ".") {
				if strings.HasSuffix(l, "-b2") && len(l) > 63 {
					t.Fatalf("Rewrite(%q) = %q: label %q longer than 63", s, out, l)
				}
			}
		}
	})
}
