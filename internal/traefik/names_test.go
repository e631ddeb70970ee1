package traefik

import (
	"testing"

	"gotest.tools/v3/assert"
)

func TestObjectOf(t *testing.T) {
	cases := []struct {
		key  string
		want Object
		ok   bool
	}{
		{"traefik.http.routers.pad.rule", Object{"http", "routers", "pad"}, true},
		{"traefik.http.routers.Pad-1.tls.certresolver", Object{"http", "routers", "Pad-1"}, true},
		{"traefik.http.services.pad.loadbalancer.server.port", Object{"http", "services", "pad"}, true},
		{"traefik.http.middlewares.auth.basicauth.users", Object{"http", "middlewares", "auth"}, true},
		{"Traefik.HTTP.Routers.pad.rule", Object{"http", "routers", "pad"}, true},
		{"traefik.tcp.routers.ldap.rule", Object{"tcp", "routers", "ldap"}, true},
		{"traefik.udp.services.dns.loadbalancer.server.port", Object{"udp", "services", "dns"}, true},
		{"traefik.udp.middlewares.x.y", Object{}, false},
		{"traefik.enable", Object{}, false},
		{"traefik.docker.network", Object{}, false},
		{"traefik.frontend.rule", Object{}, false},
		{"traefik.http.routers.pad", Object{}, false},
		{"com.example.http.routers.pad.rule", Object{}, false},
	}
	for _, tc := range cases {
		got, _, ok := ObjectOf(tc.key)
		assert.Equal(t, ok, tc.ok, tc.key)
		assert.Equal(t, got, tc.want, tc.key)
	}
}

func TestReference(t *testing.T) {
	cases := []struct {
		key         string
		proto, kind string
		ok          bool
	}{
		{"traefik.http.routers.pad.service", "http", "services", true},
		{"traefik.http.routers.pad.middlewares", "http", "middlewares", true},
		{"traefik.http.routers.pad.Middlewares", "http", "middlewares", true},
		{"traefik.tcp.routers.ldap.service", "tcp", "services", true},
		{"traefik.http.middlewares.secure.chain.middlewares", "http", "middlewares", true},
		{"traefik.http.services.pad.loadbalancer.serverstransport", "http", "serverstransports", true},
		{"traefik.http.routers.pad.rule", "", "", false},
		{"traefik.http.routers.pad.entrypoints", "", "", false},
		{"traefik.http.routers.pad.tls.options", "", "", false},
	}
	for _, tc := range cases {
		proto, kind, ok := Reference(tc.key)
		assert.Equal(t, ok, tc.ok, tc.key)
		assert.Equal(t, proto, tc.proto, tc.key)
		assert.Equal(t, kind, tc.kind, tc.key)
	}
}

func TestRenameObjects(t *testing.T) {
	defined := map[Object]bool{
		{"http", "routers", "pad"}:      true,
		{"http", "services", "pad"}:     true,
		{"http", "middlewares", "auth"}: true,
		{"http", "middlewares", "sec"}:  true,
		{"tcp", "routers", "pad"}:       true,
	}
	rename := func(o Object) (string, bool) {
		if defined[o] {
			return o.Name + "-x", true
		}
		return "", false
	}
	labels := map[string]string{
		"traefik.enable":                                     "true",
		"traefik.http.routers.pad.rule":                      "Host(`pad.test.picasoft.net`)",
		"traefik.http.routers.pad.service":                   "pad",
		"traefik.http.routers.pad.middlewares":               "auth, redirect@file,sec@docker, other",
		"traefik.http.middlewares.sec.chain.middlewares":     "auth,api@internal",
		"traefik.http.middlewares.auth.basicauth.users":      "u:p",
		"traefik.http.services.pad.loadbalancer.server.port": "8080",
		"traefik.tcp.routers.pad.service":                    "pad",
		"traefik.http.routers.pad.tls.options":               "pad",
	}
	got, changed := RenameObjects(labels, rename)
	assert.DeepEqual(t, got, map[string]string{
		"traefik.enable":                                       "true",
		"traefik.http.routers.pad-x.rule":                      "Host(`pad.test.picasoft.net`)",
		"traefik.http.routers.pad-x.service":                   "pad-x",
		"traefik.http.routers.pad-x.middlewares":               "auth-x, redirect@file,sec-x@docker, other",
		"traefik.http.middlewares.sec-x.chain.middlewares":     "auth-x,api@internal",
		"traefik.http.middlewares.auth-x.basicauth.users":      "u:p",
		"traefik.http.services.pad-x.loadbalancer.server.port": "8080",
		// tcp service "pad" is not defined in the labels: another
		// container's, kept.
		"traefik.tcp.routers.pad-x.service":      "pad",
		"traefik.http.routers.pad-x.tls.options": "pad",
	})
	assert.Equal(t, len(changed), 8)
	assert.Equal(t, changed["traefik.http.routers.pad-x.service"], [2]string{"traefik.http.routers.pad.service", "pad"})
	assert.Equal(t, labels["traefik.http.routers.pad.service"], "pad", "input unchanged")
}
