package instance

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// MaxLen is the longest instance name: short enough that "pad-<instance>"
// stays readable and that most labels need no shortening (a label is at
// most 63 characters).
const MaxLen = 30

// maxLabel is the longest DNS label.
const maxLabel = 63

// Check reports whether name is a valid instance name: 1 to MaxLen
// characters among [a-z0-9-], not starting or ending with '-'.
func Check(name string) error {
	switch {
	case name == "":
		return fmt.Errorf("empty instance name")
	case len(name) > MaxLen:
		return fmt.Errorf("instance name %q is longer than %d characters", name, MaxLen)
	case name[0] == '-' || name[len(name)-1] == '-':
		return fmt.Errorf("instance name %q starts or ends with '-'", name)
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-') {
			return fmt.Errorf("instance name %q has the character %q: use lower-case letters, digits and '-'", name, c)
		}
	}
	return nil
}

// FromBranch returns the instance name of a git branch: accents removed,
// lower case, every run of other characters than [a-z0-9] one '-', no '-'
// at either end ("feature/Été_2026!!" → "feature-ete-2026"). A name longer
// than MaxLen is cut and ends with a hash of the whole branch name, so
// that it is stable and two long branches that differ at the end get two
// names. It fails when nothing is left (a branch of punctuation only).
func FromBranch(branch string) (string, error) {
	var b strings.Builder
	dash := false
	for _, r := range norm.NFD.String(branch) {
		switch {
		case unicode.Is(unicode.Mn, r): // the accent of a decomposed letter
		case 'a' <= r && r <= 'z' || '0' <= r && r <= '9':
			b.WriteRune(r)
			dash = false
		case 'A' <= r && r <= 'Z':
			b.WriteRune(unicode.ToLower(r))
			dash = false
		default:
			if !dash && b.Len() > 0 {
				b.WriteByte('-')
				dash = true
			}
		}
	}
	name := strings.TrimRight(b.String(), "-")
	if name == "" {
		return "", fmt.Errorf("branch %q gives no instance name (no letter or digit): name the instance with --instance NAME", branch)
	}
	if len(name) > MaxLen {
		name = shorten(name, branch, MaxLen)
	}
	return name, nil
}

// shorten cuts s to fit in max characters, ending with "-" and a hash of
// key (8 hexadecimal digits).
func shorten(s, key string, max int) string {
	sum := sha256.Sum256([]byte(key))
	h := hex.EncodeToString(sum[:4])
	return strings.TrimRight(s[:max-len(h)-1], "-") + "-" + h
}

// ProjectName is the Compose project name of instance inst of project.
func ProjectName(project, inst string) string {
	return project + "-" + inst
}

// Suffixed returns name with the instance suffix: "name-<instance>".
func Suffixed(name, inst string) string {
	return name + "-" + inst
}

// label is the DNS label next to the test domain with the instance
// suffix, shortened with a hash of the label when it would pass 63
// characters.
func label(l, inst string) string {
	s := Suffixed(l, inst)
	if len(s) <= maxLabel {
		return s
	}
	return Suffixed(shorten(l, l, maxLabel-len(inst)-1), inst)
}
