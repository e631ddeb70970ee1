package traefik

import (
	"strings"
	"testing"
)

// FuzzRuleRequests: any rule (labels are user input) parses or falls back
// without panicking, and every request has a lower-case host and a path;
// a host derived from a HostRegexp is a host name.
func FuzzRuleRequests(f *testing.F) {
	for _, s := range []string{
		"Host(`a.x`, `b.x`) && Headers(`X-A`, `1`) || !PathPrefix(`/p`)",
		"HostRegexp(`{sub:[a-z]+}.x.org`) && PathPrefix(`/v{n:[0-9]+}`)",
		"HostRegexp(`^(www\\.)?x\\.org$`) && HeaderRegexp(`X-A`, `^v[0-9]{2,}$`)",
		"Host(\"a\\x2ex\") && (Path(`/a`) || PathRegexp(`^/b+`))",
		"Host:a.x,b.x;PathPrefix:/p",
	} {
		f.Add(s, "")
		f.Add(s, SyntaxV2)
		f.Add(s, SyntaxV3)
	}
	f.Fuzz(func(t *testing.T, rule, syntax string) {
		reqs, _ := RuleRequests(rule, syntax)
		for _, r := range reqs {
			if r.Host == "" || r.Host != strings.ToLower(r.Host) || !strings.HasPrefix(r.Path, "/") {
				t.Fatalf("%q: request %+v", rule, r)
			}
			if r.Pattern != "" && !isHostName(r.Host) {
				t.Fatalf("%q: HostRegexp(%q) gave %q", rule, r.Pattern, r.Host)
			}
		}
		RuleSyntax(nil, "traefik.http.routers.r", rule)
		HostPatterns(rule)
	})
}
