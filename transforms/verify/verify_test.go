package verify_test

import (
	"errors"
	"regexp"
	"strings"
	"testing"

	"gotest.tools/v3/assert"

	"github.com/picasoft/docker-picatest/internal/composetest"
	"github.com/picasoft/docker-picatest/transforms/testurls"
	"github.com/picasoft/docker-picatest/transforms/verify"
)

// fakeFinder stands for testurls.Rewriter: it finds hosts under
// picasoft.net that are not under test.picasoft.net.
type fakeFinder struct{}

var host = regexp.MustCompile(`(?i)[a-z0-9.-]*picasoft\.net`)

// Kept finds the hosts after an "@" (e-mail addresses).
func (fakeFinder) Kept(s string) []testurls.Kept {
	var out []testurls.Kept
	for _, m := range kept.FindAllStringSubmatch(s, -1) {
		out = append(out, testurls.Kept{Host: m[1], Reason: testurls.KeptEmail})
	}
	return out
}

var kept = regexp.MustCompile(`(?i)@([a-z0-9.-]*picasoft\.net)`)

func (fakeFinder) ProdHosts(s string) []string {
	var out []string
	for _, m := range host.FindAllStringIndex(s, -1) {
		h := s[m[0]:m[1]]
		if m[0] > 0 && s[m[0]-1] == '@' {
			continue // kept
		}
		if l := strings.ToLower(h); l != "test.picasoft.net" && !strings.HasSuffix(l, ".test.picasoft.net") {
			out = append(out, h)
		}
	}
	return out
}

func TestCheck(t *testing.T) {
	tests := []struct {
		name    string
		before  string
		after   string // same as before when empty
		wantErr string
	}{
		{
			name: "rules rewritten, images unchanged",
			before: `
services:
  pad:
    image: registry.picasoft.net/pad:1.9
    labels:
      traefik.http.routers.pad.rule: Host(` + "`pad.picasoft.net`" + `)
`,
			after: `
services:
  pad:
    image: registry.picasoft.net/pad:1.9
    labels:
      traefik.http.routers.pad.rule: Host(` + "`pad.test.picasoft.net`" + `)
      traefik.http.routers.pad.middlewares: pad-redirect
      description: see https://pad.picasoft.net
`,
		},
		{
			name: "production hosts left in v2, tcp and v1 rules, any case",
			before: `
services:
  pad:
    image: pad:1
    labels:
      traefik.http.routers.pad.rule: Host(` + "`pad.test.picasoft.net`" + `) || Host(` + "`pad.picasoft.net`" + `)
      Traefik.HTTP.Routers.Pad-Old.Rule: Host(` + "`old.picasoft.net`" + `)
      traefik.tcp.routers.ldap.rule: HostSNI(` + "`ldap.picasoft.net`" + `)
      traefik.http.routers.pad.entrypoints: websecure
  wiki:
    image: wiki:1
    labels:
      traefik.frontend.rule: Host:wiki.picasoft.net
      traefik.admin.frontend.rule: Host:admin.wiki.picasoft.net,wiki.test.picasoft.net
`,
			wantErr: "the transformed project is unsafe to test (5 problems):\n" +
				"  service \"pad\": labels.Traefik.HTTP.Routers.Pad-Old.Rule \"Host(`old.picasoft.net`)\": Traefik rule still routes production host old.picasoft.net; write each host literally in the rule (Host(`name.<production domain>`)) so it is rewritten to the test domain, or check --prod-domain/--test-domain\n" +
				"  service \"pad\": labels.traefik.http.routers.pad.rule \"Host(`pad.test.picasoft.net`) || Host(`pad.picasoft.net`)\": Traefik rule still routes production host pad.picasoft.net; write each host literally in the rule (Host(`name.<production domain>`)) so it is rewritten to the test domain, or check --prod-domain/--test-domain\n" +
				"  service \"pad\": labels.traefik.tcp.routers.ldap.rule \"HostSNI(`ldap.picasoft.net`)\": Traefik rule still routes production host ldap.picasoft.net; write each host literally in the rule (Host(`name.<production domain>`)) so it is rewritten to the test domain, or check --prod-domain/--test-domain\n" +
				"  service \"wiki\": labels.traefik.admin.frontend.rule \"Host:admin.wiki.picasoft.net,wiki.test.picasoft.net\": Traefik rule still routes production host admin.wiki.picasoft.net; write each host literally in the rule (Host(`name.<production domain>`)) so it is rewritten to the test domain, or check --prod-domain/--test-domain\n" +
				"  service \"wiki\": labels.traefik.frontend.rule \"Host:wiki.picasoft.net\": Traefik rule still routes production host wiki.picasoft.net; write each host literally in the rule (Host(`name.<production domain>`)) so it is rewritten to the test domain, or check --prod-domain/--test-domain",
		},
		{
			name: "a production host kept by the rewrite in a rule",
			before: `
services:
  pad:
    image: pad:1
    labels:
      traefik.http.routers.pad.rule: Host(` + "`admin@picasoft.net`" + `)
`,
			wantErr: "the transformed project is unsafe to test (1 problem):\n" +
				"  service \"pad\": labels.traefik.http.routers.pad.rule \"Host(`admin@picasoft.net`)\": Traefik rule still routes production host picasoft.net (kept by the rewrite: e-mail address); write each host literally in the rule (Host(`name.<production domain>`)) so it is rewritten to the test domain, or check --prod-domain/--test-domain; a rule routes a host written on its own (Host(`name.<production domain>`)), never inside an e-mail address or a path, which the rewrite keeps",
		},
		{
			name: "several production hosts in one rule",
			before: `
services:
  pad:
    image: pad:1
    labels:
      traefik.http.routers.pad.rule: Host(` + "`pad.picasoft.net`, `www.pad.picasoft.net`" + `)
`,
			wantErr: "the transformed project is unsafe to test (1 problem):\n" +
				"  service \"pad\": labels.traefik.http.routers.pad.rule \"Host(`pad.picasoft.net`, `www.pad.picasoft.net`)\": Traefik rule still routes production host pad.picasoft.net, www.pad.picasoft.net; write each host literally in the rule (Host(`name.<production domain>`)) so it is rewritten to the test domain, or check --prod-domain/--test-domain",
		},
		{
			name: "HostRegexp rewritten, in v2 and v3 syntax",
			before: `
services:
  pad:
    image: pad:1
    labels:
      traefik.http.routers.v2.rule: HostRegexp(` + "`{sub:[a-z]+}.pad.test.picasoft.net`" + `) || Host(` + "`a.test.picasoft.net`, `b.test.picasoft.net`" + `)
      traefik.http.routers.v2.ruleSyntax: v2
      traefik.http.routers.v3.rule: HostRegexp(` + "`^.+\\.test\\.picasoft\\.net$`" + `) && Header(` + "`X-A`, `1`" + `)
      traefik.http.routers.any.rule: HostRegexp(` + "`{host:.+}`" + `)
`,
		},
		{
			name: "a HostRegexp that matches production hosts without spelling the domain",
			before: `
services:
  pad:
    image: pad:1
    labels:
      traefik.http.routers.v3.rule: HostRegexp(` + "`^pad[.]picasoft[.]net$`" + `)
      traefik.http.routers.v2.rule: HostRegexp(` + "`{sub:[a-z]+}.{domain:picasoft}.net`" + `)
      traefik.http.routers.v2.ruleSyntax: v2
`,
			wantErr: "the transformed project is unsafe to test (2 problems):\n" +
				"  service \"pad\": labels.traefik.http.routers.v2.rule \"HostRegexp(`{sub:[a-z]+}.{domain:picasoft}.net`)\": Traefik rule still routes production host picatest.picasoft.net (HostRegexp(`{sub:[a-z]+}.{domain:picasoft}.net`) matches it); write each host literally in the rule (Host(`name.<production domain>`)) so it is rewritten to the test domain, or check --prod-domain/--test-domain; in a HostRegexp write the domain as name\\.<production domain> (v3) or name.<production domain> (v2)\n" +
				"  service \"pad\": labels.traefik.http.routers.v3.rule \"HostRegexp(`^pad[.]picasoft[.]net$`)\": Traefik rule still routes production host pad.picasoft.net (HostRegexp(`^pad[.]picasoft[.]net$`) matches it); write each host literally in the rule (Host(`name.<production domain>`)) so it is rewritten to the test domain, or check --prod-domain/--test-domain; in a HostRegexp write the domain as name\\.<production domain> (v3) or name.<production domain> (v2)",
		},
		{
			name: "image changed or service gone",
			before: `
services:
  pad:
    image: registry.picasoft.net/pad:1.9
  db:
    image: postgres:16
  cache:
    image: redis:7
`,
			after: `
services:
  pad:
    image: registry.test.picasoft.net/pad:1.9
  cache:
    image: redis:7
`,
			wantErr: "the transformed project is unsafe to test (2 problems):\n" +
				"  service \"db\": image \"postgres:16\": service disappeared from the transformed project; this is a bug in docker picatest, please report it\n" +
				"  service \"pad\": image \"registry.test.picasoft.net/pad:1.9\": image was \"registry.picasoft.net/pad:1.9\" before transforming: a transform must never change an image name; this is a bug in docker picatest, please report it",
		},
		{
			name: "service added by a transform is fine",
			before: `
services:
  pad:
    image: pad:1
`,
			after: `
services:
  pad:
    image: pad:1
  sidecar:
    image: sidecar:1
`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := composetest.Load(t, tc.before, nil)
			after := before
			if tc.after != "" {
				after = composetest.Load(t, tc.after, nil)
			}
			err := verify.Check(before, after, fakeFinder{})
			if tc.wantErr == "" {
				assert.NilError(t, err)
				return
			}
			assert.Error(t, err, tc.wantErr)
			var verr *verify.Error
			assert.Assert(t, errors.As(err, &verr))
			assert.Equal(t, len(verr.Problems), strings.Count(tc.wantErr, "\n"))
		})
	}
}

func TestCheckNilFinderChecksImagesOnly(t *testing.T) {
	p := composetest.Load(t, `
services:
  pad:
    image: pad:1
    labels:
      traefik.http.routers.pad.rule: Host(`+"`pad.picasoft.net`"+`)
`, nil)
	assert.NilError(t, verify.Check(p, p, nil))
}
