package e2e

import (
	"encoding/json"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"
)

// TestRuleSyntax: Traefik v2 rules (several hosts in one Host(), a
// HostRegexp {name:regexp} template, Headers, PathPrefix of two prefixes)
// are rewritten, checked by check, and pass the smoke checks of up through
// the real Traefik in v2-syntax mode; routers with the label ruleSyntax
// (v2, and a v3 HostRegexp regexp) pass them through the default Traefik
// too, which does not route the v2 rules without it. status shows the test
// URLs, the HostRegexp ones included.
func TestRuleSyntax(t *testing.T) {
	p := newProject(t)
	requireTraefikV2(t)
	p.Env = append(p.Env, "PICATEST_PROXY="+traefikV2HTTP)

	// The rewrite leaves no production host in any rule, in either syntax.
	r := p.picatest("config", "--format", "json")
	assert.Equal(t, r.ExitCode, 0, r)
	var model struct {
		Services map[string]struct{ Labels map[string]string }
	}
	assert.NilError(t, json.Unmarshal([]byte(r.Stdout), &model), r)
	testHost := regexp.MustCompile(`(?i)test(\.|\\\.)picasoft(\.|\\\.)net`)
	rules := 0
	for name, s := range model.Services {
		for k, v := range s.Labels {
			if !strings.HasSuffix(k, ".rule") {
				continue
			}
			rules++
			assert.Check(t, is.Contains(v, "test"), "%s: %s", name, k)
			assert.Check(t, !strings.Contains(strings.ToLower(testHost.ReplaceAllString(v, "")), "picasoft"), "%s: %s: a production host is left: %s", name, k, v)
		}
	}
	assert.Check(t, is.Equal(rules, 5))
	assert.Check(t, is.Equal(model.Services["label"].Labels["traefik.http.routers.e2e-rs-label.rule"],
		"Host(`rs-l1.test.picasoft.net`, `rs-l2.test.picasoft.net`) || HostRegexp(`{sub:[a-z]+}.rs-l.test.picasoft.net`)"))
	// config escapes $ as $$, as docker compose config does.
	assert.Check(t, is.Equal(model.Services["v3"].Labels["traefik.http.routers.e2e-rs-v3.rule"],
		"HostRegexp(`^(www\\.)?rs-v3\\.test\\.picasoft\\.net$$`) && Header(`X-Picatest-Route`, `v3`)"))
	assert.Check(t, is.Equal(model.Services["label"].Labels["traefik.http.routers.e2e-rs-label.ruleSyntax"], "v2"))

	// check: no finding on the Traefik rules (production hosts only).
	r = p.picatest("check", "--format", "json")
	assert.Check(t, is.Equal(r.ExitCode, 0), r)
	var findings struct {
		Findings []struct{ Severity, Rule, Message string }
	}
	assert.NilError(t, json.Unmarshal([]byte(r.Stdout), &findings), r)
	for _, f := range findings.Findings {
		assert.Check(t, !strings.HasPrefix(f.Rule, "traefik-"), "%+v", f)
	}

	// up through the v2-syntax Traefik: every rule is routed.
	start := time.Now()
	r = p.picatest("up", "--yes", "--stable", "0s", "--wait-timeout", "60s", "--format", "json", "--progress", "quiet")
	t.Logf("up through the v2-syntax Traefik: %s", time.Since(start).Round(time.Millisecond))
	assert.Equal(t, r.ExitCode, 0, r)
	s := parseSmoke(t, r)
	assert.Equal(t, s.Result, "ok")
	assert.Equal(t, s.Smoke.Proxy, traefikV2HTTP)
	want := []string{
		"http://rs-a.test.picasoft.net/",
		"http://rs-b.test.picasoft.net/",
		"http://picatest.rs-re.test.picasoft.net/",
		"http://rs-h.test.picasoft.net/healthz",
		"http://rs-l1.test.picasoft.net/",
		"http://rs-l2.test.picasoft.net/",
		"http://picatest.rs-l.test.picasoft.net/",
		"http://rs-v3.test.picasoft.net/",
	}
	var got []string
	for _, c := range s.Smoke.Checks {
		got = append(got, c.URL)
		assert.Check(t, is.Equal(c.Result+" "+itoa(c.Status), "ok 200"), "%+v", c)
	}
	assert.Check(t, is.DeepEqual(slices.Sorted(slices.Values(got)), slices.Sorted(slices.Values(want))))

	// The text report names the headers sent.
	r = p.picatest("smoke", "headers", "v3")
	assert.Equal(t, r.ExitCode, 0, r)
	assert.Check(t, is.Contains(r.Stdout, "OK    http://rs-h.test.picasoft.net/healthz (X-Picatest-Route: v2)  200 OK"), r)
	assert.Check(t, is.Contains(r.Stdout, "OK    http://rs-v3.test.picasoft.net/ (X-Picatest-Route: v3)  200 OK"), r)

	// status: the test URLs, the HostRegexp and PathPrefix ones included.
	r = p.picatest("status", "--format", "json")
	assert.Equal(t, r.ExitCode, 0, r)
	var status struct {
		Containers []struct {
			Service string
			URLs    []string
		}
	}
	assert.NilError(t, json.Unmarshal([]byte(r.Stdout), &status), r)
	urls := map[string]string{}
	for _, c := range status.Containers {
		urls[c.Service] = strings.Join(c.URLs, " ")
	}
	assert.Check(t, is.DeepEqual(urls, map[string]string{
		"hosts":   "http://rs-a.test.picasoft.net/ http://rs-b.test.picasoft.net/",
		"regexp":  "http://picatest.rs-re.test.picasoft.net/",
		"headers": "http://rs-h.test.picasoft.net/healthz",
		"label":   "http://picatest.rs-l.test.picasoft.net/ http://rs-l1.test.picasoft.net/ http://rs-l2.test.picasoft.net/",
		"v3":      "http://rs-v3.test.picasoft.net/",
	}))
	r = p.picatest("status")
	assert.Check(t, is.Contains(r.Stdout, "http://picatest.rs-re.test.picasoft.net/"), r)

	// The default Traefik (v3 syntax) routes the routers that say their
	// syntax...
	v3 := []string{"PICATEST_PROXY=" + traefikHTTP}
	r = p.dockerEnv(v3, "picatest", "smoke", "--wait-timeout", "30s", "--format", "json", "label", "v3")
	assert.Equal(t, r.ExitCode, 0, r)
	s = parseSmoke(t, r)
	assert.Check(t, is.Equal(s.Smoke.Proxy, traefikHTTP))
	assert.Check(t, is.Len(s.Smoke.Checks, 4))
	for _, c := range s.Smoke.Checks {
		assert.Check(t, is.Equal(c.Result+" "+itoa(c.Status), "ok 200"), "%+v", c)
	}
	// ... and not the v2 rules without the label: v2-only syntax is
	// refused, a v2 template matches no host.
	r = p.dockerEnv(v3, "picatest", "smoke", "--wait-timeout", "3s", "--format", "json", "hosts", "regexp")
	assert.Equal(t, r.ExitCode, 1, r)
	s = parseSmoke(t, r)
	for _, url := range []string{"http://rs-a.test.picasoft.net/", "http://picatest.rs-re.test.picasoft.net/"} {
		res, status, detail, _ := s.check(url)
		assert.Check(t, is.Equal(res+" "+itoa(status), "no-router 404"), "%s: %s", url, detail)
	}
}
