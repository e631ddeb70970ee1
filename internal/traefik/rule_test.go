package traefik

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"
)

func TestRuleSyntax(t *testing.T) {
	const r = "traefik.http.routers.r"
	for _, tc := range []struct {
		name   string
		labels map[string]string
		rule   string
		want   string
	}{
		{"label v2", map[string]string{r + ".ruleSyntax": "v2"}, "Host(`a.x`)", SyntaxV2},
		{"label v3, case-insensitive", map[string]string{"Traefik.HTTP.Routers.R.RULESYNTAX": " V3 "}, "Host(`a.x`, `b.x`)", SyntaxV3},
		{"label of another router", map[string]string{"traefik.http.routers.other.ruleSyntax": "v2"}, "Host(`a.x`)", ""},
		{"unknown label value: the rule decides", map[string]string{r + ".ruleSyntax": "default"}, "Host(`a.x`, `b.x`)", SyntaxV2},
		{"several hosts", nil, "Host(`a.x`, `b.x`)", SyntaxV2},
		{"Headers", nil, "Host(`a.x`) && Headers(`X-A`, `1`)", SyntaxV2},
		{"several path prefixes", nil, "Host(`a.x`) && PathPrefix(`/a`, `/b`)", SyntaxV2},
		{"Header", nil, "Host(`a.x`) && Header(`X-A`, `1`)", SyntaxV3},
		{"PathRegexp", nil, "Host(`a.x`) && PathRegexp(`^/a`)", SyntaxV3},
		{"both: Traefik refuses it either way", nil, "Headers(`X-A`, `1`) && Header(`X-A`, `1`)", ""},
		{"one host", nil, "Host(`a.x`)", ""},
		{"a HostRegexp reads both ways", nil, "HostRegexp(`{sub:[a-z]+}.x`)", ""},
		{"v1", nil, "Host:a.x,b.x", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, RuleSyntax(tc.labels, r, tc.rule), tc.want)
		})
	}
}

func TestPatternHost(t *testing.T) {
	for _, tc := range []struct {
		pattern, syntax string
		want            string // "" with a reason containing why
		why             string
	}{
		// v2 templates.
		{"{sub:[a-z]+}.pad.test.picasoft.net", "", "picatest.pad.test.picasoft.net", ""},
		{"{sub:[a-z]+}.pad.test.picasoft.net", SyntaxV2, "picatest.pad.test.picasoft.net", ""},
		{"{sub}.pad.test.picasoft.net", SyntaxV2, "picatest.pad.test.picasoft.net", ""},
		{"{sub:(pad|wiki)}.test.picasoft.net", "", "pad.test.picasoft.net", ""},
		{"{a:[a-z]+}.{n:[0-9]+}.example.org", "", "picatest.0.example.org", ""},
		{"{sub:[a-z]{2,3}}.example.org", SyntaxV2, "aa.example.org", ""},
		{"{host:.+}", "", "picatest", ""},
		{"pad.test.picasoft.net", SyntaxV2, "pad.test.picasoft.net", ""},
		{"{sub:[a-z]+}.pad.test.picasoft.net", SyntaxV3, "", "no host name matches it"},
		{"^.+\\.test\\.picasoft\\.net$", SyntaxV2, "", "no host name matches it"},
		{"{sub:[a-z]+.example.org", SyntaxV2, "", "unbalanced braces"},
		{"{:[a-z]+}.example.org", SyntaxV2, "", "missing name or pattern"},
		// v3 regexps.
		{"^.+\\.test\\.picasoft\\.net$", "", "picatest.test.picasoft.net", ""},
		{"^.+\\.test\\.picasoft\\.net$", SyntaxV3, "picatest.test.picasoft.net", ""},
		{"^.*\\.test\\.picasoft\\.net$", SyntaxV3, "picatest.test.picasoft.net", ""},
		{"pad.test.picasoft.net", SyntaxV3, "pad.test.picasoft.net", ""},
		{"^(www\\.)?pad\\.test\\.picasoft\\.net$", SyntaxV3, "pad.test.picasoft.net", ""},
		{"^(?:pad|wiki)\\.test\\.picasoft\\.net$", SyntaxV3, "pad.test.picasoft.net", ""},
		{"^[a-z]{3}\\.test\\.picasoft\\.net$", "", "aaa.test.picasoft.net", ""},
		{"^[0-9]+\\.test\\.picasoft\\.net$", SyntaxV3, "0.test.picasoft.net", ""},
		{"^[^.]+\\.test\\.picasoft\\.net$", SyntaxV3, "picatest.test.picasoft.net", ""},
		{"^pad[.]test[.]picasoft[.]net$", SyntaxV3, "pad.test.picasoft.net", ""},
		{"^.\\.test\\.picasoft\\.net$", SyntaxV3, "a.test.picasoft.net", ""},
		{"(?i)^PAD\\.Test\\.picasoft\\.net$", SyntaxV3, "pad.test.picasoft.net", ""},
		{"\\bpad\\.test\\.picasoft\\.net$", SyntaxV3, "pad.test.picasoft.net", ""},
		{".+", "", "picatest", ""},
		{"^PAD\\.test\\.picasoft\\.net$", SyntaxV3, "", "no host name matches it"},
		{"^a$b", SyntaxV3, "", "no host name matches it"},
		{"[a-", SyntaxV3, "", "missing closing ]"},
		{"[a-", "", "", "as a v2 pattern: no host name matches it; as a v3 pattern: error parsing regexp"},
	} {
		t.Run(tc.syntax+" "+tc.pattern, func(t *testing.T) {
			got, why := PatternHost(tc.pattern, tc.syntax)
			assert.Equal(t, got, tc.want)
			if tc.want == "" {
				assert.Check(t, is.Contains(why, tc.why))
			} else {
				assert.Equal(t, why, "")
			}
		})
	}
}

func TestRuleRequests(t *testing.T) {
	for _, tc := range []struct {
		rule, syntax string
		want         string // host path [headers] [<- pattern], " | " between
		unresolved   string
	}{
		{"Host(`a.x`, `B.x`)", "", "a.x / | b.x /", ""},
		{"Host(`a.x`) || (Host(`b.x`) && PathPrefix(`/api`))", "", "a.x / | b.x /api", ""},
		{"(Host(`a.x`) || Host(`b.x`)) && Method(`GET`)", "", "a.x / | b.x /", ""},
		{"Host(`a.x`) && Headers(`X-Test`, `yes`, `X-Other`, ``)", SyntaxV2, "a.x / X-Other= X-Test=yes", ""},
		{"Host(`a.x`) && Header(`X-Test`, `yes`)", "", "a.x / X-Test=yes", ""},
		{"Host(`a.x`) && HeaderRegexp(`X-Test`, `^v[0-9]+$`)", "", "a.x / X-Test=v0", ""},
		{"Host(`a.x`) && HeadersRegexp(`X-Test`, `^(dev|prod)$`)", SyntaxV2, "a.x / X-Test=dev", ""},
		{"Host(`a.x`) && Header(`Host`, `b.x`)", "", "a.x /", ""},
		{"Host(`a.x`) && Path(`/exact`)", "", "a.x /exact", ""},
		{"Host(`a.x`) && PathPrefix(`/v{n:[0-9]+}`)", SyntaxV2, "a.x /v0", ""},
		{"Host(`a.x`) && PathPrefix(`/{page}`)", "", "a.x /picatest", ""},
		{"Host(`a.x`) && PathPrefix(`/v{n:[0-9]+}`)", SyntaxV3, "a.x /", ""},
		{"Host(`a.x`) && PathRegexp(`^/api/v[0-9]+/`)", "", "a.x /api/v0/", ""},
		{"Host(`a.x`) && PathPrefix(`/a b`)", "", "a.x /", ""},
		{"Host(`a.x`) && PathPrefix(`/a`, `/b`)", SyntaxV2, "a.x /a", ""},
		{"Host(`a.x`) && !PathPrefix(`/admin`)", "", "a.x /", ""},
		{"!Host(`a.x`)", "", "", ""},
		{"!(Host(`a.x`) || Host(`b.x`))", "", "", ""},
		{"!(!Host(`a.x`) || PathPrefix(`/no`))", "", "a.x /", ""},
		{"PathPrefix(`/`)", "", "", ""},
		{"HostRegexp(`{sub:[a-z]+}.x.org`, `x.org`)", "", "picatest.x.org / <- {sub:[a-z]+}.x.org | x.org / <- x.org", ""},
		{"HostRegexp(`^.+\\.x\\.org$`) && PathPrefix(`/p`)", SyntaxV3, "picatest.x.org /p <- ^.+\\.x\\.org$", ""},
		{"HostRegexp(`{sub:[a-z]+}.x.org`)", SyntaxV3, "", "{sub:[a-z]+}.x.org"},
		{"Host(`a.x`) || Host(`a.x`)", "", "a.x /", ""},
		{"host(`a.x`) || HOST(\"b.x\") || Host(\"c\\x2ex\")", "", "a.x / | b.x / | c.x /", ""},
		{"Host:a.x,b.x;PathPrefix:/p", "", "a.x / | b.x /", ""},
		{"Host(`a.x`) &&", "", "a.x /", ""},
		{"", "", "", ""},
	} {
		t.Run(tc.rule, func(t *testing.T) {
			reqs, unresolved := RuleRequests(tc.rule, tc.syntax)
			var got []string
			for _, r := range reqs {
				s := r.Host + " " + r.Path
				var hs []string
				for k, v := range r.Headers {
					hs = append(hs, k+"="+v)
				}
				if len(hs) > 0 {
					slices.Sort(hs)
					s += " " + strings.Join(hs, " ")
				}
				if r.Pattern != "" {
					s += " <- " + r.Pattern
				}
				got = append(got, s)
			}
			assert.Equal(t, strings.Join(got, " | "), tc.want)
			var u []string
			for _, x := range unresolved {
				u = append(u, x.Pattern)
				assert.Check(t, x.Reason != "")
			}
			assert.Equal(t, strings.Join(u, " | "), tc.unresolved)
		})
	}
}

func TestHostPatterns(t *testing.T) {
	assert.DeepEqual(t, HostPatterns("HostRegexp(`a`, `b`) || !HostRegexp(`^(c|d)\\.x$`) && Host(`e`)"), []string{"a", "b", `^(c|d)\.x$`})
	assert.Check(t, is.Len(HostPatterns("Host(`a`)"), 0))
	assert.Check(t, is.Len(HostPatterns("HostRegexp(`a`"), 0))
}

func TestParseRuleLimits(t *testing.T) {
	// 2^10 alternatives in normal form: bounded.
	rule := strings.Repeat("(Host(`a.x`) || Host(`b.x`)) && ", 9) + "(Host(`a.x`) || Host(`b.x`))"
	n, err := parseRule(rule)
	assert.NilError(t, err)
	assert.Check(t, len(n.conjunctions(false)) <= maxConjunctions)
	for _, bad := range []string{"Host", "Host(`a`", "Host(a)", "Host(`a`) Host(`b`)", "(Host(`a`)", "Host(\"a)", "Host(`a`,", "&& Host(`a`)", "Host(`a`) ||"} {
		_, err := parseRule(bad)
		assert.Check(t, err != nil, bad)
	}
}

func ExamplePatternHost() {
	// A Traefik v2 template and a Traefik v3 regexp, after the test-URL
	// rewrite: the host the smoke checks request.
	for _, p := range []string{"{sub:[a-z]+}.pad.test.picasoft.net", `^(www\.)?pad\.test\.picasoft\.net$`} {
		h, _ := PatternHost(p, "")
		fmt.Println(h)
	}
	// Output:
	// picatest.pad.test.picasoft.net
	// pad.test.picasoft.net
}
