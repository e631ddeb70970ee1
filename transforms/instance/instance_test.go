package instance_test

import (
	"errors"
	"testing"

	"github.com/compose-spec/compose-go/v2/types"
	"gotest.tools/v3/assert"

	"github.com/picasoft/docker-picatest/internal/composetest"
	"github.com/picasoft/docker-picatest/transforms/instance"
)

func TestTransform(t *testing.T) {
	tests := []struct {
		name     string
		compose  string
		wantYAML string
	}{
		{
			name: "test hosts, Traefik names and references, container_name",
			compose: `
services:
  pad:
    image: registry.picasoft.net/pad:1.9
    container_name: example-pad
    command: ["--url", "https://pad.test.picasoft.net/"]
    environment:
      BASE_URL: https://pad.test.picasoft.net/
      CONTACT: admin@picasoft.net
    labels:
      traefik.enable: "true"
      traefik.http.routers.pad.rule: Host(` + "`pad.test.picasoft.net`" + `) || Host(` + "`test.picasoft.net`" + `)
      traefik.http.routers.pad.service: pad
      traefik.http.routers.pad.middlewares: secure, redirect@file
      traefik.http.middlewares.secure.chain.middlewares: headers,auth
      traefik.http.middlewares.headers.headers.stsSeconds: "31536000"
      traefik.http.services.pad.loadbalancer.server.port: "8080"
    networks: [proxy, default]
    x-picatest:
      smoke: [/health]
networks:
  proxy:
    external: true
`,
			wantYAML: `name: test-b2
services:
  pad:
    container_name: example-pad-b2
    command:
      - --url
      - https://pad-b2.test.picasoft.net/
    environment:
      BASE_URL: https://pad-b2.test.picasoft.net/
      CONTACT: admin@picasoft.net
    image: registry.picasoft.net/pad:1.9
    labels:
      net.picasoft.picatest.instance: b2
      traefik.enable: "true"
      traefik.http.middlewares.headers-b2.headers.stsSeconds: "31536000"
      traefik.http.middlewares.secure-b2.chain.middlewares: headers-b2,auth
      traefik.http.routers.pad-b2.middlewares: secure-b2, redirect@file
      traefik.http.routers.pad-b2.rule: Host(` + "`pad-b2.test.picasoft.net`" + `) || Host(` + "`b2.test.picasoft.net`" + `)
      traefik.http.routers.pad-b2.service: pad-b2
      traefik.http.services.pad-b2.loadbalancer.server.port: "8080"
    networks:
      default: null
      proxy: null
    x-picatest:
      smoke:
        - /health
networks:
  default:
    name: test-b2_default
    labels:
      net.picasoft.picatest.instance: b2
  proxy:
    name: proxy
    external: true
`,
		},
		{
			name: "external volumes become instance volumes, the project's own are renamed",
			compose: `
services:
  db:
    image: postgres:16
    volumes:
      - data:/var/lib/postgresql/data
      - cache:/cache
      - named:/named
volumes:
  data:
    external: true
    name: pad-db
  cache: {}
  named:
    name: pad-named
`,
			wantYAML: `name: test-b2
services:
  db:
    image: postgres:16
    labels:
      net.picasoft.picatest.instance: b2
    networks:
      default: null
    volumes:
      - type: volume
        source: data
        target: /var/lib/postgresql/data
        volume: {}
      - type: volume
        source: cache
        target: /cache
        volume: {}
      - type: volume
        source: named
        target: /named
        volume: {}
networks:
  default:
    name: test-b2_default
    labels:
      net.picasoft.picatest.instance: b2
volumes:
  cache:
    name: test-b2_cache
    labels:
      net.picasoft.picatest.instance: b2
  data:
    name: pad-db-b2
    labels:
      net.picasoft.picatest.instance: b2
  named:
    name: pad-named-b2
    labels:
      net.picasoft.picatest.instance: b2
`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := composetest.Load(t, tc.compose, nil)
			before := composetest.YAML(t, p)
			r, err := instance.NewRewriter("test.picasoft.net", "b2")
			assert.NilError(t, err)
			out, _, err := instance.Transform(p, r)
			assert.NilError(t, err)
			assert.Equal(t, composetest.YAML(t, out), tc.wantYAML)
			assert.Equal(t, composetest.YAML(t, p), before, "the input project is unchanged")
		})
	}
}

// The names of Traefik objects that the project does not define (another
// container's middleware, another provider's) are kept.
func TestTransformKeepsForeignNames(t *testing.T) {
	p := composetest.Load(t, `
services:
  web:
    image: nginx:1.25
    labels:
      traefik.http.routers.web.rule: Host(`+"`web.test.picasoft.net`"+`)
      traefik.http.routers.web.middlewares: shared-headers,auth@file,api@internal
      traefik.http.routers.web.service: api@internal
      traefik.http.routers.web.tls.options: modern
`, nil)
	r, _ := instance.NewRewriter("test.picasoft.net", "x")
	out, _, err := instance.Transform(p, r)
	assert.NilError(t, err)
	assert.DeepEqual(t, out.Services["web"].Labels, types.Labels{
		"net.picasoft.picatest.instance":         "x",
		"traefik.http.routers.web-x.rule":        "Host(`web-x.test.picasoft.net`)",
		"traefik.http.routers.web-x.middlewares": "shared-headers,auth@file,api@internal",
		"traefik.http.routers.web-x.service":     "api@internal",
		"traefik.http.routers.web-x.tls.options": "modern",
	})
}

// A middleware defined by one service and used by another is renamed in
// both.
func TestTransformAcrossServices(t *testing.T) {
	p := composetest.Load(t, `
services:
  auth:
    image: a:1
    labels:
      traefik.http.middlewares.sso.forwardauth.address: http://auth.test.picasoft.net/verify
  app:
    image: b:1
    labels:
      traefik.http.routers.app.middlewares: sso@docker
`, nil)
	r, _ := instance.NewRewriter("test.picasoft.net", "x")
	out, changes, err := instance.Transform(p, r)
	assert.NilError(t, err)
	assert.Equal(t, out.Services["auth"].Labels["traefik.http.middlewares.sso-x.forwardauth.address"], "http://auth-x.test.picasoft.net/verify")
	assert.Equal(t, out.Services["app"].Labels["traefik.http.routers.app-x.middlewares"], "sso-x@docker")
	var wheres []string
	for _, c := range changes {
		wheres = append(wheres, c.Where+": "+c.Old+" -> "+c.New)
	}
	assert.DeepEqual(t, wheres, []string{
		"name: test -> test-x",
		"networks.default.name: test_default -> test-x_default",
		"services.app.labels: traefik.http.routers.app.middlewares -> traefik.http.routers.app-x.middlewares",
		"services.app.labels.net.picasoft.picatest.instance:  -> x",
		"services.app.labels.traefik.http.routers.app-x.middlewares: sso@docker -> sso-x@docker",
		"services.auth.labels: traefik.http.middlewares.sso.forwardauth.address -> traefik.http.middlewares.sso-x.forwardauth.address",
		"services.auth.labels.net.picasoft.picatest.instance:  -> x",
		"services.auth.labels.traefik.http.middlewares.sso.forwardauth.address: http://auth.test.picasoft.net/verify -> http://auth-x.test.picasoft.net/verify",
	})
}

// A name the instance derives that the project itself uses is refused,
// naming both: instance "db" of a project with the external volumes pad
// and pad-db would make pad-db its own volume, and its router pad-db is
// the project's own router.
func TestTransformCollisions(t *testing.T) {
	tests := []struct {
		name    string
		compose string
		want    []string // the collisions, as CollisionError says them
	}{
		{
			name: "external volume and Traefik router",
			compose: `
services:
  pad:
    image: pad:1
    labels:
      traefik.http.routers.pad.rule: Host(` + "`pad.test.picasoft.net`" + `)
      traefik.http.routers.pad-db.rule: Host(` + "`db.pad.test.picasoft.net`" + `)
    volumes: [data:/data, shared:/shared]
volumes:
  data: {external: true, name: pad}
  shared: {external: true, name: pad-db}
`,
			want: []string{
				"volume pad-db (the instance's name for volume pad) is the name of the project's own external volume pad-db",
				"Traefik http router pad-db (the instance's name for router pad) is the name of the project's own router pad-db",
			},
		},
		{
			name: "network, container_name, middleware (case-insensitive), tcp service",
			compose: `
services:
  a:
    image: a:1
    container_name: web
    networks: [back, back-db]
    labels:
      traefik.http.middlewares.Auth.basicauth.users: "u:p"
      traefik.http.middlewares.auth-DB.basicauth.users: "u:p"
      traefik.tcp.services.sql.loadbalancer.server.port: "5432"
      traefik.tcp.services.sql-db.loadbalancer.server.port: "5432"
  b:
    image: b:1
    container_name: web-db
networks:
  back: {name: back}
  back-db: {name: back-db, external: true}
`,
			want: []string{
				"network back-db (the instance's name for network back) is the name of the project's own external network back-db",
				"container web-db (the instance's name for container_name web) is the name of the project's own container_name web-db (service b)",
				"Traefik tcp service sql-db (the instance's name for service sql) is the name of the project's own service sql-db",
				"Traefik http middleware Auth-db (the instance's name for middleware Auth) is the name of the project's own middleware auth-DB",
			},
		},
		{
			name: "no collision: the same names under another kind, or the instance's own suffix twice",
			compose: `
services:
  pad:
    image: pad:1
    container_name: pad-db
    labels:
      traefik.http.routers.pad.rule: Host(` + "`pad.test.picasoft.net`" + `)
      traefik.http.services.pad-db.loadbalancer.server.port: "80"
      traefik.tcp.routers.pad-db.rule: HostSNI(` + "`*`" + `)
    volumes: [data:/data]
volumes:
  data: {external: true, name: pad}
networks:
  default: {name: pad-db-db}
`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := composetest.Load(t, tc.compose, nil)
			r, err := instance.NewRewriter("test.picasoft.net", "db")
			assert.NilError(t, err)
			_, _, err = instance.Transform(p, r)
			if tc.want == nil {
				assert.NilError(t, err)
				return
			}
			var ce *instance.CollisionError
			assert.Assert(t, errors.As(err, &ce), "%v", err)
			var got []string
			for _, c := range ce.Collisions {
				got = append(got, c.String())
			}
			assert.DeepEqual(t, got, tc.want)
			assert.ErrorContains(t, err, "instance db: its names collide with the project's own:")
			assert.ErrorContains(t, err, "choose another --instance name")
		})
	}
}

func TestTransformErrors(t *testing.T) {
	r, _ := instance.NewRewriter("test.picasoft.net", "x")
	_, _, err := instance.Transform(nil, r)
	assert.ErrorContains(t, err, "nil project")
	_, _, err = instance.Transform(&types.Project{}, nil)
	assert.ErrorContains(t, err, "nil rewriter")
}

// The Compose SDK's loader labels every service with the project name:
// the label follows the new name, so that Compose finds the instance's
// containers.
func TestTransformComposeProjectLabel(t *testing.T) {
	p := composetest.Load(t, "services:\n  a:\n    image: a:1\n", nil)
	a := p.Services["a"]
	a.CustomLabels = map[string]string{"com.docker.compose.project": "test", "com.docker.compose.service": "a"}
	p.Services["a"] = a
	r, _ := instance.NewRewriter("test.picasoft.net", "x")
	out, _, err := instance.Transform(p, r)
	assert.NilError(t, err)
	assert.DeepEqual(t, out.Services["a"].CustomLabels, types.Labels{"com.docker.compose.project": "test-x", "com.docker.compose.service": "a"})
	assert.Equal(t, p.Services["a"].CustomLabels["com.docker.compose.project"], "test")
}
