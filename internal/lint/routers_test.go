package lint

import (
	"testing"

	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"

	"github.com/picasoft/docker-picatest/internal/composetest"
	"github.com/picasoft/docker-picatest/internal/traefikapi"
)

// routed is a service routed by Traefik, with the labels and keys given.
const routed = `services:
  pad:
    image: picatest-test/app:1
    networks: [proxy]
    labels:
      traefik.enable: "true"
      traefik.http.routers.pad.rule: Host(` + "`pad.picasoft.net`" + `)
`

func TestRouting(t *testing.T) {
	cases := []struct {
		name, keys, labels string   // more keys and labels of service pad
		want               []string // rule: message
	}{
		{name: "one port, nothing to say", keys: "    expose: [\"8080\"]\n"},
		{name: "several ports, no port label", keys: "    expose: [\"8080\"]\n    ports: [\"127.0.0.1:9000:9000\"]\n",
			want: []string{"traefik-port: service pad: router pad names no service and the service exposes ports 8080, 9000: Traefik sends to the lowest one (8080), which may not be the app's"}},
		{name: "several ports, a port label", keys: "    expose: [\"8080\", \"9000\"]\n",
			labels: "      traefik.http.services.pad.loadbalancer.server.port: \"9000\"\n"},
		{name: "traefik.docker.network off the service", labels: "      traefik.docker.network: web\n",
			want: []string{"traefik-network: service pad: label traefik.docker.network names network web, which the service is not on"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := composetest.Load(t, routed+tc.labels+tc.keys+"networks:\n  proxy:\n    external: true\n", nil)
			var got []string
			for _, f := range Routing(p, nil) {
				got = append(got, f.Rule+": "+f.Message)
			}
			assert.DeepEqual(t, got, tc.want)
		})
	}
}

func TestRouterConflicts(t *testing.T) {
	p := composetest.Load(t, routed+"networks:\n  proxy:\n    external: true\n", nil)
	facts := &traefikapi.Facts{Project: p.Name, Containers: []traefikapi.Container{
		{Name: p.Name + "-pad-1", Project: p.Name, State: "running", Labels: map[string]string{"traefik.http.routers.pad.rule": "Host(`x`)"}},
		{Name: "other-pad-1", Project: "other", State: "running", Labels: map[string]string{"traefik.http.routers.PAD.rule": "Host(`y`)"}},
		{Name: "old-pad-1", Project: "old", State: "exited", Labels: map[string]string{"traefik.http.routers.pad.rule": "Host(`z`)"}},
	}}
	fs := Routing(p, facts)
	assert.Assert(t, is.Len(fs, 1), "%+v", fs)
	assert.Check(t, is.Equal(fs[0].Rule, "traefik-router-conflict"))
	assert.Check(t, is.Equal(fs[0].Message, "service pad: router pad is also defined by project other (container other-pad-1) on this engine: Traefik drops a router defined twice with different settings"))
	assert.Check(t, is.Equal(fs[0].Line, 7))
}
