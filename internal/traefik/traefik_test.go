package traefik

import (
	"testing"

	"gotest.tools/v3/assert"
)

func TestRuleHosts(t *testing.T) {
	cases := []struct {
		rule string
		want []string
	}{
		{"Host(`pad.test.picasoft.net`)", []string{"pad.test.picasoft.net"}},
		{"Host(`a.test.picasoft.net`, `B.test.picasoft.net`)", []string{"a.test.picasoft.net", "b.test.picasoft.net"}},
		{"Host(`a.x`) || (Host(`b.x`) && PathPrefix(`/api`))", []string{"a.x", "b.x"}},
		{"Host:pad.test.picasoft.net,www.pad.test.picasoft.net", []string{"pad.test.picasoft.net", "www.pad.test.picasoft.net"}},
		{"Host:pad.x;PathPrefix:/a", []string{"pad.x"}},
		{"HostRegexp(`{sub:[a-z]+}.picasoft.net`)", []string{}},
		{"HostSNI(`*`)", []string{}},
		{"PathPrefix(`/`)", []string{}},
	}
	for _, tc := range cases {
		assert.DeepEqual(t, RuleHosts(tc.rule), tc.want)
	}
	assert.DeepEqual(t, UnderDomain([]string{"a.test.x", "test.x", "b.x", "atest.x"}, "test.x"), []string{"a.test.x", "test.x"})
}

func TestTraefikRules(t *testing.T) {
	tests := []struct {
		name   string
		labels map[string]string
		want   map[string]string
	}{
		{
			name: "v2 and v3 http and tcp routers",
			labels: map[string]string{
				"traefik.enable":                                     "true",
				"traefik.http.routers.pad.rule":                      "Host(`pad.picasoft.net`)",
				"traefik.http.routers.pad.entrypoints":               "websecure",
				"traefik.http.routers.pad.tls.certresolver":          "letsencrypt",
				"traefik.tcp.routers.ldap.rule":                      "HostSNI(`*`)",
				"traefik.udp.routers.dns.entrypoints":                "dns",
				"traefik.http.services.pad.loadbalancer.server.port": "9001",
			},
			want: map[string]string{
				"traefik.http.routers.pad.rule": "Host(`pad.picasoft.net`)",
				"traefik.tcp.routers.ldap.rule": "HostSNI(`*`)",
			},
		},
		{
			name: "v1 frontends",
			labels: map[string]string{
				"traefik.frontend.rule":              "Host:pad.picasoft.net",
				"traefik.admin.frontend.rule":        "Host:admin.picasoft.net",
				"traefik.admin.frontend.entryPoints": "https",
				"traefik.port":                       "80",
			},
			want: map[string]string{
				"traefik.frontend.rule":       "Host:pad.picasoft.net",
				"traefik.admin.frontend.rule": "Host:admin.picasoft.net",
			},
		},
		{
			name: "case-insensitive keys, kept as written",
			labels: map[string]string{
				"Traefik.HTTP.Routers.Pad.Rule": "Host(`pad.picasoft.net`)",
				"TRAEFIK.FRONTEND.RULE":         "Host:pad.picasoft.net",
			},
			want: map[string]string{
				"Traefik.HTTP.Routers.Pad.Rule": "Host(`pad.picasoft.net`)",
				"TRAEFIK.FRONTEND.RULE":         "Host:pad.picasoft.net",
			},
		},
		{
			name: "look-alikes are not rules",
			labels: map[string]string{
				"traefik.http.routers.rule":           "x", // no router name
				"traefik.http.middlewares.a.rule":     "x",
				"com.example.traefik.frontend.rule":   "x",
				"traefik.http.routers.pad.rule.extra": "x",
				"traefik.a.b.frontend.rule":           "x",
			},
			want: map[string]string{},
		},
		{name: "nil", want: map[string]string{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.DeepEqual(t, Rules(tc.labels), tc.want)
		})
	}
}

func TestRouterScheme(t *testing.T) {
	for _, c := range []struct {
		labels map[string]string
		want   string
	}{
		{map[string]string{}, "http"},
		{map[string]string{"traefik.http.routers.r.tls": "true"}, "https"},
		{map[string]string{"traefik.http.routers.r.tls": "false"}, "http"},
		{map[string]string{"traefik.http.routers.r.tls.certresolver": "letsencrypt"}, "https"},
		{map[string]string{"traefik.http.routers.r.entrypoints": "web, websecure"}, "https"},
		{map[string]string{"traefik.http.routers.r.entrypoints": "web"}, "http"},
		{map[string]string{"traefik.http.routers.other.tls": "true"}, "http"},
		{map[string]string{"Traefik.HTTP.Routers.R.TLS": "true"}, "https"},
	} {
		if got := RouterScheme(c.labels, "traefik.http.routers.r"); got != c.want {
			t.Errorf("%v: %s, want %s", c.labels, got, c.want)
		}
	}
	if RouterScheme(map[string]string{"traefik.frontend.entryPoints": "http,https"}, "traefik.frontend") != "https" {
		t.Error("v1 entryPoints https")
	}
}
