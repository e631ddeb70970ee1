package smoke

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"

	"github.com/picasoft/docker-picatest/internal/composetest"
)

// bt makes Traefik rules readable in raw strings: ´ stands for a backtick.
func bt(s string) string { return strings.ReplaceAll(s, "´", "`") }

// TestTargetsRuleSyntax: the targets of rules after the test-URL rewrite,
// in Traefik v2 and v3 syntax, with the ruleSyntax label or without.
func TestTargetsRuleSyntax(t *testing.T) {
	for _, tc := range []struct {
		name   string
		labels string // labels of service s, YAML at 6 spaces
		want   string // Display (+ " smoke") or "SKIP <router>: <reason...>", " | " between
		urls   string // URLs of s, " " between
		smoke  bool   // x-picatest smoke: ["/healthz"]
	}{
		{
			name: "v2: several hosts in one Host()",
			labels: `
      traefik.http.routers.r.rule: Host(´a.test.example.org´, ´b.test.example.org´, ´example.com´)`,
			want: "http://a.test.example.org/ | http://b.test.example.org/",
			urls: "http://a.test.example.org/ http://b.test.example.org/",
		},
		{
			name: "v2 HostRegexp template, syntax not said",
			labels: `
      traefik.http.routers.r.rule: HostRegexp(´{sub:[a-z]+}.pad.test.example.org´)`,
			want: "http://picatest.pad.test.example.org/",
			urls: "http://picatest.pad.test.example.org/",
		},
		{
			name: "v2 HostRegexp template, ruleSyntax v2, https",
			labels: `
      traefik.http.routers.r.rule: HostRegexp(´{sub:[a-z]+}.pad.test.example.org´, ´pad.test.example.org´)
      traefik.http.routers.r.ruleSyntax: v2
      traefik.http.routers.r.tls: "true"`,
			want: "https://pad.test.example.org/ | https://picatest.pad.test.example.org/",
			urls: "https://pad.test.example.org/ https://picatest.pad.test.example.org/",
		},
		{
			name: "v3 HostRegexp",
			labels: `
      traefik.http.routers.r.rule: HostRegexp(´^(www\.)?pad\.test\.example\.org$´)`,
			want: "http://pad.test.example.org/",
			urls: "http://pad.test.example.org/",
		},
		{
			name: "a v2 template read as v3 matches no host: skipped",
			labels: `
      traefik.http.routers.r.rule: HostRegexp(´{sub:[a-z]+}.pad.test.example.org´)
      traefik.http.routers.r.ruleSyntax: v3`,
			want: "SKIP r: HostRegexp(`{sub:[a-z]+}.pad.test.example.org`) gives no host to request (as a v3 pattern: no host name matches it)",
		},
		{
			name: "a catch-all HostRegexp is not a test host",
			labels: `
      traefik.http.routers.r.rule: HostRegexp(´{host:.+}´) || HostRegexp(´^.+\.example\.com$´)`,
		},
		{
			name: "Headers and PathPrefix combined with Host",
			labels: `
      traefik.http.routers.r.rule: Host(´a.test.example.org´) && Headers(´X-Api´, ´v2´) || Host(´b.test.example.org´) && PathPrefix(´/api´, ´/v1´)`,
			want:  "http://a.test.example.org/ (X-Api: v2) | http://a.test.example.org/healthz (X-Api: v2) smoke | http://b.test.example.org/api | http://b.test.example.org/healthz smoke",
			urls:  "http://a.test.example.org/ http://b.test.example.org/api",
			smoke: true,
		},
		{
			name: "v3 Header, PathPrefix, two routers of one host",
			labels: `
      traefik.http.routers.r.rule: Host(´a.test.example.org´) && Header(´X-Api´, ´v3´)
      traefik.http.routers.s.rule: Host(´a.test.example.org´) && PathPrefix(´/healthz´)`,
			want:  "http://a.test.example.org/ (X-Api: v3) | http://a.test.example.org/healthz | http://a.test.example.org/healthz (X-Api: v3) smoke",
			urls:  "http://a.test.example.org/ http://a.test.example.org/healthz",
			smoke: true,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			x := ""
			if tc.smoke {
				x = "\n    x-picatest: {smoke: [/healthz]}"
			}
			p := composetest.Load(t, bt("services:\n  s:\n    image: app:1\n    labels:"+tc.labels+x+"\n"), nil)
			ts, err := Targets(p, "test.example.org")
			assert.NilError(t, err)
			var got []string
			for _, tg := range ts {
				switch {
				case tg.Skip != "":
					got = append(got, "SKIP "+tg.Router+": "+tg.Skip)
				case tg.Smoke:
					got = append(got, tg.Display()+" smoke")
				default:
					got = append(got, tg.Display())
				}
			}
			if strings.HasPrefix(tc.want, "SKIP") {
				assert.Assert(t, is.Len(got, 1))
				assert.Check(t, is.Contains(got[0], tc.want))
				assert.Check(t, is.Contains(got[0], "name the test host in a Host() of the rule"))
			} else {
				assert.Equal(t, strings.Join(got, " | "), tc.want)
			}
			assert.Equal(t, strings.Join(URLs(p.Services["s"].Labels, "test.example.org"), " "), tc.urls)
		})
	}
}

// TestCheckHeadersAndSkip: the headers of a target are sent; a Skip target
// is reported, not requested, and is no failure.
func TestCheckHeadersAndSkip(t *testing.T) {
	srv := httptest.NewServer(fakeTraefik(map[string]http.HandlerFunc{
		"a.test.example.org": func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("X-Api") != "v2" {
				http.NotFound(w, r) // as Traefik: no router without the header
				return
			}
			w.Write([]byte("ok\n"))
		},
	}))
	defer srv.Close()
	targets := []Target{
		{Service: "s", Router: "r", Scheme: "http", Host: "a.test.example.org", Path: "/", Headers: map[string]string{"X-Api": "v2"}},
		{Service: "s", Router: "r", Rule: "HostRegexp(`{x`)", Scheme: "http", Skip: "HostRegexp(`{x`) gives no host to request"},
	}
	rs := checker(proxyOf(t, srv), false, time.Second).Check(context.Background(), targets)
	assert.Equal(t, rs[0].Kind, OK, rs[0].Line())
	assert.Check(t, is.Contains(rs[0].Line(), "OK    http://a.test.example.org/ (X-Api: v2)  200 OK"))
	assert.Equal(t, rs[1].Kind, Skipped)
	assert.Equal(t, rs[1].Attempts, 0)
	assert.Equal(t, rs[1].Line(), "SKIP  router r: HostRegexp(`{x`) gives no host to request")
}
