package traefik

import (
	"fmt"
	"regexp"
	"regexp/syntax"
	"strings"
)

// PatternHost returns a host that Traefik's HostRegexp(`pattern`) matches,
// read in syntax syn:
//   - "v2": a template of literal text and {name} or {name:regexp}
//     placeholders, anchored at both ends ({sub:[a-z]+}.example.org; a
//     placeholder without a regexp matches one label);
//   - "v3": a Go regular expression, unanchored, matched against the lower
//     case host (^.+\.example\.org$);
//   - "" (the labels do not say): the v2 reading, then the v3 one; the
//     first that gives a host wins. The two readings give the same host for
//     a literal host, and no host name can match the other reading of a
//     pattern written for one (a v2 placeholder's braces, a v3 regexp's
//     metacharacters taken literally).
//
// The host is a lower-case host name (labels of letters, digits, '-' and
// '_'), built from the pattern: its literal text, the first alternative of
// a choice, the label "picatest" for a repeated character class that
// allows it (else the fewest repetitions), and checked against the
// compiled pattern. Without one, host is "" and reason says why.
func PatternHost(pattern, syn string) (host, reason string) {
	readings := []string{syn}
	if syn != SyntaxV2 && syn != SyntaxV3 {
		readings = []string{SyntaxV2, SyntaxV3}
	}
	var why []string
	for _, s := range readings {
		re, err := compilePattern(pattern, s, "[^.]+", true)
		if err == nil {
			if h, ok := sample(re, isHostName, true); ok {
				return h, ""
			}
			err = fmt.Errorf("no host name matches it")
		}
		why = append(why, "as a "+s+" pattern: "+err.Error())
	}
	return "", strings.Join(why, "; ")
}

// compiled is a pattern parsed for sampling and compiled for checking.
type compiled struct {
	tree *syntax.Regexp
	re   *regexp.Regexp
}

// compilePattern reads pattern as a v3 Go regexp or, for v2, as a gorilla
// mux template whose placeholders without a regexp match def; a v2
// template is anchored at its start, and at its end when whole (false: a
// PathPrefix).
func compilePattern(pattern, syn, def string, whole bool) (compiled, error) {
	expr := pattern
	if syn == SyntaxV2 {
		var err error
		if expr, err = templateRegexp(pattern, def, whole); err != nil {
			return compiled{}, err
		}
	}
	tree, err := syntax.Parse(expr, syntax.Perl)
	if err != nil {
		return compiled{}, err
	}
	re, err := regexp.Compile(expr)
	if err != nil {
		return compiled{}, err
	}
	return compiled{tree: tree, re: re}, nil
}

// templateRegexp turns a v2 template into a Go regexp: literal text quoted,
// {name:regexp} its regexp, {name} def.
func templateRegexp(tpl, def string, whole bool) (string, error) {
	var b strings.Builder
	b.WriteByte('^')
	level, open, last := 0, 0, 0
	for i := 0; i < len(tpl); i++ {
		switch tpl[i] {
		case '{':
			if level++; level == 1 {
				open = i
			}
		case '}':
			if level--; level < 0 {
				return "", fmt.Errorf("unbalanced braces in %q", tpl)
			}
			if level > 0 {
				continue
			}
			name, expr, ok := strings.Cut(tpl[open+1:i], ":")
			if !ok {
				expr = def
			}
			if name == "" || expr == "" {
				return "", fmt.Errorf("missing name or pattern in %q", tpl[open:i+1])
			}
			b.WriteString(regexp.QuoteMeta(tpl[last:open]) + "(?:" + expr + ")")
			last = i + 1
		}
	}
	if level != 0 {
		return "", fmt.Errorf("unbalanced braces in %q", tpl)
	}
	b.WriteString(regexp.QuoteMeta(tpl[last:]))
	if whole {
		b.WriteByte('$')
	}
	return b.String(), nil
}

// sample returns the first candidate string of c (lower-cased when lower)
// that ok accepts and c matches.
func sample(c compiled, ok func(string) bool, lower bool) (string, bool) {
	for _, s := range candidates(c.tree) {
		if lower {
			s = strings.ToLower(s)
		}
		if ok(s) && c.re.MatchString(s) {
			return s, true
		}
	}
	return "", false
}

// maxCandidates bounds the strings candidates tries.
const maxCandidates = 16

// word is the label a repeated character class gives when it allows it.
const word = "picatest"

// candidates returns strings that re may match, likeliest first: literal
// text as written, the first alternatives of a choice, for "." a dot then a
// letter, for a repeated character class "picatest" when it allows it, then
// the fewest repetitions. Empty-width assertions (^, $, \b) give "": the
// caller checks each candidate against the compiled pattern.
func candidates(re *syntax.Regexp) []string {
	switch re.Op {
	case syntax.OpNoMatch:
		return nil
	case syntax.OpLiteral:
		return []string{string(re.Rune)}
	case syntax.OpCharClass:
		if c, ok := pickRune(re); ok {
			return []string{string(c)}
		}
		return nil
	case syntax.OpAnyCharNotNL, syntax.OpAnyChar:
		return []string{".", "a"}
	case syntax.OpCapture:
		return candidates(re.Sub[0])
	case syntax.OpStar:
		return repeat(re.Sub[0], 0, -1)
	case syntax.OpPlus:
		return repeat(re.Sub[0], 1, -1)
	case syntax.OpQuest:
		return repeat(re.Sub[0], 0, 1)
	case syntax.OpRepeat:
		return repeat(re.Sub[0], re.Min, re.Max)
	case syntax.OpConcat:
		out := []string{""}
		for _, sub := range re.Sub {
			out = product(out, candidates(sub))
		}
		return out
	case syntax.OpAlternate:
		var out []string
		for _, sub := range re.Sub {
			out = append(out, candidates(sub)...)
		}
		return out[:min(len(out), maxCandidates)]
	}
	// OpEmptyMatch and the empty-width assertions.
	return []string{""}
}

// product is every a followed by every b, at most maxCandidates.
func product(a, b []string) []string {
	var out []string
	for _, x := range a {
		for _, y := range b {
			if len(out) < maxCandidates {
				out = append(out, x+y)
			}
		}
	}
	return out
}

// repeat is the candidates of sub repeated between lo and hi (-1: no
// bound) times.
func repeat(sub *syntax.Regexp, lo, hi int) []string {
	var out []string
	single := sub.Op == syntax.OpCharClass || sub.Op == syntax.OpAnyChar || sub.Op == syntax.OpAnyCharNotNL ||
		sub.Op == syntax.OpLiteral && len(sub.Rune) == 1
	n := lo
	if single {
		if lo <= len(word) && (hi < 0 || hi >= len(word)) && allRunes(sub, word) {
			out = append(out, word)
		}
		if n == 0 && hi != 0 {
			n = 1
		}
	}
	one := candidates(sub)
	parts := []string{""}
	for range n {
		parts = product(parts, one)
	}
	out = append(out, parts...)
	if lo == 0 && n > 0 {
		out = append(out, "")
	} else if lo == 0 && hi != 0 {
		out = append(out, one...)
	}
	return out[:min(len(out), maxCandidates)]
}

// allRunes reports whether the one-character expression sub matches each
// character of s.
func allRunes(sub *syntax.Regexp, s string) bool {
	for _, c := range s {
		switch sub.Op {
		case syntax.OpLiteral:
			if sub.Rune[0] != c {
				return false
			}
		case syntax.OpCharClass:
			if !inClass(sub.Rune, c) {
				return false
			}
		}
	}
	return true
}

func inClass(ranges []rune, c rune) bool {
	for i := 0; i+1 < len(ranges); i += 2 {
		if ranges[i] <= c && c <= ranges[i+1] {
			return true
		}
	}
	return false
}

// pickRune chooses a character of a class: a lower-case letter, a digit,
// '-', '.', '/', else its first printable ASCII character.
func pickRune(re *syntax.Regexp) (rune, bool) {
	for _, c := range "abcdefghijklmnopqrstuvwxyz0123456789-./" {
		if inClass(re.Rune, c) {
			return c, true
		}
	}
	for c := rune('!'); c <= '~'; c++ {
		if inClass(re.Rune, c) {
			return c, true
		}
	}
	return 0, false
}

// isHostName: dot-separated labels of lower-case letters, digits, '-' and
// '_', none empty.
func isHostName(s string) bool {
	if s == "" || len(s) > 253 {
		return false
	}
	for label := range strings.SplitSeq(s, ".") {
		if label == "" || len(label) > 63 {
			return false
		}
		for i := 0; i < len(label); i++ {
			if c := label[i]; !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
				return false
			}
		}
	}
	return true
}

// isURLPath: an absolute path of characters a URL carries unescaped.
func isURLPath(s string) bool {
	if !strings.HasPrefix(s, "/") {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("-._~/!$&'()*+,;=:@", c) >= 0) {
			return false
		}
	}
	return true
}

// isHeaderValue: printable ASCII (spaces included).
func isHeaderValue(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < ' ' || s[i] > '~' {
			return false
		}
	}
	return true
}

// requestPath is a path that matcher (path, pathprefix or pathregexp) with
// value v matches in syntax, "/" when none is found: v itself for a v3
// Path or PathPrefix (and a v2 one without placeholders), a sample of a v2
// template or of a PathRegexp.
func requestPath(matcher, v, syn string) string {
	var c compiled
	var err error
	switch {
	case matcher == "pathregexp":
		c, err = compilePattern(v, SyntaxV3, "", true)
	case syn != SyntaxV3 && strings.Contains(v, "{"):
		c, err = compilePattern(v, SyntaxV2, "[^/]+", matcher == "path")
	default:
		if isURLPath(v) {
			return v
		}
		return "/"
	}
	if err == nil {
		if p, ok := sample(c, isURLPath, false); ok {
			return p
		}
	}
	return "/"
}

// headerValue is a value that a header matcher's value v accepts: v itself,
// or a sample of the regexp v (HeaderRegexp, HeadersRegexp: unanchored Go
// regexps in both syntaxes).
func headerValue(v string, isRegexp bool) (string, bool) {
	if !isRegexp {
		return v, isHeaderValue(v)
	}
	c, err := compilePattern(v, SyntaxV3, "", true)
	if err != nil {
		return "", false
	}
	return sample(c, isHeaderValue, false)
}
