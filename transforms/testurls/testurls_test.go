package testurls_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/picasoft/docker-picatest/internal/composetest"
	"github.com/picasoft/docker-picatest/transforms"
	"github.com/picasoft/docker-picatest/transforms/testurls"
	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"
)

// bt makes Traefik rules readable in raw strings: ´ stands for a backtick.
func bt(s string) string { return strings.ReplaceAll(s, "´", "`") }

// load is composetest.Load, with back-quotes written as ´ in the YAML.
func load(t *testing.T, composeYAML string, files map[string]string) *types.Project {
	t.Helper()
	return composetest.Load(t, bt(composeYAML), files)
}

func change(where, old, new string) transforms.Change {
	return transforms.Change{Transform: "test-urls", Where: where, Old: old, New: new}
}

func TestTransform(t *testing.T) {
	for _, tc := range []struct {
		name    string
		compose string
		files   map[string]string
		want    string // YAML of the transformed project
		changes []transforms.Change
	}{
		{
			name: "map labels",
			compose: `
services:
  pad:
    image: registry.picasoft.net/pica-pad:1.0
    labels:
      traefik.enable: "true"
      traefik.http.routers.pad.rule: Host(´pad.picasoft.net´) || Host(´www.pad.picasoft.net´)
      traefik.http.routers.pad.tls.certresolver: letsencrypt
      traefik.http.routers.any.rule: HostRegexp(´^.+\.picasoft\.net$´)
      traefik.http.routers.test.rule: Host(´pad.test.picasoft.net´)
      pad.picasoft.net/owner: admin@picasoft.net
`,
			want: `
name: test
services:
  pad:
    image: registry.picasoft.net/pica-pad:1.0
    labels:
      pad.picasoft.net/owner: admin@picasoft.net
      traefik.enable: "true"
      traefik.http.routers.any.rule: HostRegexp(´^.+\.test\.picasoft\.net$´)
      traefik.http.routers.pad.rule: Host(´pad.test.picasoft.net´) || Host(´www.pad.test.picasoft.net´)
      traefik.http.routers.pad.tls.certresolver: letsencrypt
      traefik.http.routers.test.rule: Host(´pad.test.picasoft.net´)
    networks:
      default: null
networks:
  default:
    name: test_default
`,
			changes: []transforms.Change{
				change("services.pad.labels.traefik.http.routers.any.rule", bt(`HostRegexp(´^.+\.picasoft\.net$´)`), bt(`HostRegexp(´^.+\.test\.picasoft\.net$´)`)),
				change("services.pad.labels.traefik.http.routers.pad.rule", bt("Host(´pad.picasoft.net´) || Host(´www.pad.picasoft.net´)"), bt("Host(´pad.test.picasoft.net´) || Host(´www.pad.test.picasoft.net´)")),
			},
		},
		{
			name: "list labels, Traefik v1 and v2",
			compose: `
services:
  wiki:
    image: registry.picasoft.net/pica-dokuwiki:2024.04
    labels:
      - traefik.frontend.rule=Host:wiki.picasoft.net,www.wiki.picasoft.net
      - "traefik.http.routers.wiki.rule=Host(´wiki.picasoft.net´, ´PicaSoft.net´)"
      - traefik.docker.network=proxy
`,
			want: `
name: test
services:
  wiki:
    image: registry.picasoft.net/pica-dokuwiki:2024.04
    labels:
      traefik.docker.network: proxy
      traefik.frontend.rule: Host:wiki.test.picasoft.net,www.wiki.test.picasoft.net
      traefik.http.routers.wiki.rule: Host(´wiki.test.picasoft.net´, ´test.PicaSoft.net´)
    networks:
      default: null
networks:
  default:
    name: test_default
`,
			changes: []transforms.Change{
				change("services.wiki.labels.traefik.frontend.rule", "Host:wiki.picasoft.net,www.wiki.picasoft.net", "Host:wiki.test.picasoft.net,www.wiki.test.picasoft.net"),
				change("services.wiki.labels.traefik.http.routers.wiki.rule", bt("Host(´wiki.picasoft.net´, ´PicaSoft.net´)"), bt("Host(´wiki.test.picasoft.net´, ´test.PicaSoft.net´)")),
			},
		},
		{
			name: "environment after .env interpolation",
			compose: `
services:
  pad:
    image: registry.picasoft.net/pica-pad:1.0
    environment:
      - URL=https://${DOMAIN}
      - ADMIN_EMAIL=admin@${ROOT}
      - MAIL_FROM=noreply@mail.picasoft.net
      - CERT=/certs/${ROOT}/cert.pem
      - FROM_SHELL
`,
			files: map[string]string{".env": "DOMAIN=pad.picasoft.net\nROOT=picasoft.net\n"},
			want: `
name: test
services:
  pad:
    environment:
      ADMIN_EMAIL: admin@picasoft.net
      CERT: /certs/picasoft.net/cert.pem
      FROM_SHELL: null
      MAIL_FROM: noreply@mail.picasoft.net
      URL: https://pad.test.picasoft.net
    image: registry.picasoft.net/pica-pad:1.0
    networks:
      default: null
networks:
  default:
    name: test_default
`,
			changes: []transforms.Change{
				change("services.pad.environment.URL", "https://pad.picasoft.net", "https://pad.test.picasoft.net"),
			},
		},
		{
			name: "command, entrypoint and healthcheck",
			compose: `
services:
  mattermost:
    image: registry.picasoft.net/pica-mattermost:9.11
    command: ["mattermost", "--site-url", "https://team.picasoft.net", "--config", "/etc/picasoft.net.json"]
    entrypoint: /entrypoint.sh team.picasoft.net
    healthcheck:
      test: ["CMD", "curl", "-fsS", "https://team.picasoft.net:8065/api/v4/system/ping"]
`,
			want: `
name: test
services:
  mattermost:
    command:
      - mattermost
      - --site-url
      - https://team.test.picasoft.net
      - --config
      - /etc/picasoft.net.json
    entrypoint:
      - /entrypoint.sh
      - team.test.picasoft.net
    image: registry.picasoft.net/pica-mattermost:9.11
    networks:
      default: null
    healthcheck:
      test:
        - CMD
        - curl
        - -fsS
        - https://team.test.picasoft.net:8065/api/v4/system/ping
networks:
  default:
    name: test_default
`,
			changes: []transforms.Change{
				change("services.mattermost.command[2]", "https://team.picasoft.net", "https://team.test.picasoft.net"),
				change("services.mattermost.entrypoint[1]", "team.picasoft.net", "team.test.picasoft.net"),
				change("services.mattermost.healthcheck.test[3]", "https://team.picasoft.net:8065/api/v4/system/ping", "https://team.test.picasoft.net:8065/api/v4/system/ping"),
			},
		},
		{
			name: "build args, not build paths",
			compose: `
services:
  pad:
    image: registry.picasoft.net/pica-pad:1.0
    build:
      context: ./picasoft.net
      dockerfile: pad.picasoft.net.Dockerfile
      args:
        DOMAIN: pad.picasoft.net
        REGISTRY: registry.picasoft.net
`,
			want: `
name: test
services:
  pad:
    image: registry.picasoft.net/pica-pad:1.0
    networks:
      default: null
    build:
      context: ./picasoft.net
      dockerfile: pad.picasoft.net.Dockerfile
      args:
        DOMAIN: pad.test.picasoft.net
        REGISTRY: registry.picasoft.net
networks:
  default:
    name: test_default
`,
			changes: []transforms.Change{
				change("services.pad.build.args.DOMAIN", "pad.picasoft.net", "pad.test.picasoft.net"),
			},
		},
		{
			name: "extra_hosts, hostname and domainname",
			compose: `
services:
  mail:
    image: registry.picasoft.net/pica-mail:3.1
    hostname: mail.picasoft.net
    domainname: picasoft.net
    extra_hosts:
      - "ldap.picasoft.net=10.0.0.2"
      - "auth.picasoft.net:10.0.0.3"
      - "registry.picasoft.net=10.0.0.4"
      - "host.docker.internal:host-gateway"
`,
			want: `
name: test
services:
  mail:
    domainname: test.picasoft.net
    extra_hosts:
      - auth.test.picasoft.net=10.0.0.3
      - host.docker.internal=host-gateway
      - ldap.test.picasoft.net=10.0.0.2
      - registry.picasoft.net=10.0.0.4
    hostname: mail.test.picasoft.net
    image: registry.picasoft.net/pica-mail:3.1
    networks:
      default: null
networks:
  default:
    name: test_default
`,
			changes: []transforms.Change{
				change("services.mail.domainname", "picasoft.net", "test.picasoft.net"),
				change("services.mail.extra_hosts", "auth.picasoft.net", "auth.test.picasoft.net"),
				change("services.mail.extra_hosts", "ldap.picasoft.net", "ldap.test.picasoft.net"),
				change("services.mail.hostname", "mail.picasoft.net", "mail.test.picasoft.net"),
			},
		},
		{
			name: "network aliases",
			compose: `
services:
  ldap:
    image: registry.picasoft.net/pica-ldap:2.6
    networks:
      proxy:
        aliases: [ldap.picasoft.net, ldap]
      default:
networks:
  proxy:
    external: true
`,
			want: `
name: test
services:
  ldap:
    image: registry.picasoft.net/pica-ldap:2.6
    networks:
      default: null
      proxy:
        aliases:
          - ldap.test.picasoft.net
          - ldap
networks:
  default:
    name: test_default
  proxy:
    name: proxy
    external: true
`,
			changes: []transforms.Change{
				change("services.ldap.networks.proxy.aliases[0]", "ldap.picasoft.net", "ldap.test.picasoft.net"),
			},
		},
		{
			name: "x- extensions of services and project",
			compose: `
x-picasoft:
  homepage: https://picasoft.net
  contact: contact@picasoft.net
  mirrors: [a.picasoft.net, {url: "https://b.picasoft.net"}, 3]
services:
  pad:
    image: registry.picasoft.net/pica-pad:1.0
    x-monitoring:
      url: https://pad.picasoft.net/health
      enabled: true
`,
			want: `
name: test
services:
  pad:
    image: registry.picasoft.net/pica-pad:1.0
    networks:
      default: null
    x-monitoring:
      enabled: true
      url: https://pad.test.picasoft.net/health
networks:
  default:
    name: test_default
x-picasoft:
  contact: contact@picasoft.net
  homepage: https://test.picasoft.net
  mirrors:
    - a.test.picasoft.net
    - url: https://b.test.picasoft.net
    - 3
`,
			changes: []transforms.Change{
				change("services.pad.x-monitoring.url", "https://pad.picasoft.net/health", "https://pad.test.picasoft.net/health"),
				change("x-picasoft.homepage", "https://picasoft.net", "https://test.picasoft.net"),
				change("x-picasoft.mirrors[0]", "a.picasoft.net", "a.test.picasoft.net"),
				change("x-picasoft.mirrors[1].url", "https://b.picasoft.net", "https://b.test.picasoft.net"),
			},
		},
		{
			name: "several services, sorted changes",
			compose: `
services:
  web:
    image: nginx:1.27
    environment:
      SERVER_NAME: www.picasoft.net
  api:
    image: registry.picasoft.net/pica-api:2.0
    environment:
      PUBLIC_URL: https://api.picasoft.net
      CORS: https://www.picasoft.net
`,
			want: `
name: test
services:
  api:
    environment:
      CORS: https://www.test.picasoft.net
      PUBLIC_URL: https://api.test.picasoft.net
    image: registry.picasoft.net/pica-api:2.0
    networks:
      default: null
  web:
    environment:
      SERVER_NAME: www.test.picasoft.net
    image: nginx:1.27
    networks:
      default: null
networks:
  default:
    name: test_default
`,
			changes: []transforms.Change{
				change("services.api.environment.CORS", "https://www.picasoft.net", "https://www.test.picasoft.net"),
				change("services.api.environment.PUBLIC_URL", "https://api.picasoft.net", "https://api.test.picasoft.net"),
				change("services.web.environment.SERVER_NAME", "www.picasoft.net", "www.test.picasoft.net"),
			},
		},
		{
			name: "never image, paths, container name, volume names",
			compose: `
services:
  pad:
    image: docker.picasoft.net/pica-pad:1.0
    container_name: pad.picasoft.net
    env_file: [pad.picasoft.net.env]
    volumes:
      - ./picasoft.net:/etc/picasoft.net:ro
      - pad.picasoft.net:/data
    working_dir: /srv/pad.picasoft.net
    configs:
      - source: app
        target: /etc/app/pad.picasoft.net
volumes:
  pad.picasoft.net:
configs:
  app:
    file: ./picasoft.net/app.ini
`,
			files: map[string]string{"pad.picasoft.net.env": "A=b\n", "picasoft.net/app.ini": "x\n"},
			want: `
name: test
services:
  pad:
    container_name: pad.picasoft.net
    configs:
      - source: app
        target: /etc/app/pad.picasoft.net
    env_file:
      - path: ./pad.picasoft.net.env
    image: docker.picasoft.net/pica-pad:1.0
    networks:
      default: null
    volumes:
      - type: bind
        source: ./picasoft.net
        target: /etc/picasoft.net
        read_only: true
        bind: {}
      - type: volume
        source: pad.picasoft.net
        target: /data
        volume: {}
    working_dir: /srv/pad.picasoft.net
networks:
  default:
    name: test_default
volumes:
  pad.picasoft.net:
    name: test_pad.picasoft.net
configs:
  app:
    name: test_app
    file: ./picasoft.net/app.ini
`,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := load(t, tc.compose, tc.files)
			got, changes, err := testurls.Transform(p, picasoft(t))
			assert.NilError(t, err)
			assert.Check(t, is.Equal(composetest.YAML(t, got), bt(strings.TrimPrefix(tc.want, "\n"))))
			assert.Check(t, is.DeepEqual(changes, tc.changes))
		})
	}
}

// TestTransformKeepsInput checks that Transform never modifies its input,
// including nested x- extension values, which compose-go's deep copy
// shares.
func TestTransformKeepsInput(t *testing.T) {
	p := load(t, `
x-domains: [picasoft.net, {www: www.picasoft.net}]
services:
  pad:
    image: registry.picasoft.net/pica-pad:1.0
    build:
      context: .
      args: {DOMAIN: pad.picasoft.net}
    labels: {traefik.http.routers.pad.rule: Host(´pad.picasoft.net´)}
    environment: {URL: "https://pad.picasoft.net"}
    command: [--url, https://pad.picasoft.net]
    entrypoint: [/entry.sh, pad.picasoft.net]
    healthcheck: {test: [CMD, curl, https://pad.picasoft.net]}
    extra_hosts: ["pad.picasoft.net=10.0.0.1"]
    hostname: pad.picasoft.net
    domainname: picasoft.net
    networks:
      proxy: {aliases: [pad.picasoft.net]}
    x-urls: {list: [https://pad.picasoft.net], nested: {url: https://pad.picasoft.net}}
    post_start: [{command: [curl, https://pad.picasoft.net], environment: {URL: https://pad.picasoft.net}}]
    pre_stop: [{command: [curl, https://pad.picasoft.net/bye]}]
networks:
  proxy: {external: true}
`, nil)
	before := composetest.YAML(t, p)
	got, changes, err := testurls.Transform(p, picasoft(t))
	assert.NilError(t, err)
	assert.Check(t, is.Len(changes, 17))
	assert.Check(t, is.Equal(composetest.YAML(t, p), before))
	assert.Check(t, !strings.Contains(composetest.YAML(t, got), " pad.picasoft.net"))

	// The result does not share what Transform changed with the input.
	again, changes, err := testurls.Transform(got, picasoft(t))
	assert.NilError(t, err)
	assert.Check(t, is.Len(changes, 0), "Transform is idempotent")
	assert.Check(t, is.Equal(composetest.YAML(t, again), composetest.YAML(t, got)))
}

func TestTransformErrors(t *testing.T) {
	_, _, err := testurls.Transform(nil, picasoft(t))
	assert.Check(t, is.Error(err, "testurls: nil project"))
	_, _, err = testurls.Transform(&types.Project{}, nil)
	assert.Check(t, is.Error(err, "testurls: nil rewriter"))
}

// TestTransformConnections is the project of issue 26: every host the
// deployment connects to gets its test host, an e-mail address stays, a
// Traefik rule on the registry's own host gets the test host while its
// image keeps the registry.
func TestTransformConnections(t *testing.T) {
	p := load(t, `
services:
  pad:
    image: registry.picasoft.net/pica-pad:1.0
    environment:
      DATABASE_URL: postgres://pad:pw@db.picasoft.net:5432/pad
      REDIS_URL: redis://:pw@redis.picasoft.net:6379/0
      SMTP_URL: smtps://mailer@mail.picasoft.net:465
      SITE_URL: https://pad.picasoft.net
      MAIL_FROM: noreply@picasoft.net
    command: ["rsync", "-a", "/data/", "backup@backup.picasoft.net:/srv/backups/pad/"]
  registry:
    image: registry:2
    labels:
      traefik.http.routers.registry.rule: Host(´registry.picasoft.net´)
      description: pulls from registry.picasoft.net
`, nil)
	got, _, err := testurls.Transform(p, picasoft(t))
	assert.NilError(t, err)
	env := got.Services["pad"].Environment
	for k, v := range map[string]string{
		"DATABASE_URL": "postgres://pad:pw@db.test.picasoft.net:5432/pad",
		"REDIS_URL":    "redis://:pw@redis.test.picasoft.net:6379/0",
		"SMTP_URL":     "smtps://mailer@mail.test.picasoft.net:465",
		"SITE_URL":     "https://pad.test.picasoft.net",
		"MAIL_FROM":    "noreply@picasoft.net",
	} {
		assert.Check(t, is.Equal(*env[k], v), k)
	}
	assert.Check(t, is.Equal(got.Services["pad"].Command[3], "backup@backup.test.picasoft.net:/srv/backups/pad/"))
	assert.Check(t, is.Equal(got.Services["pad"].Image, "registry.picasoft.net/pica-pad:1.0"))
	reg := got.Services["registry"].Labels
	assert.Check(t, is.Equal(reg["traefik.http.routers.registry.rule"], bt("Host(´registry.test.picasoft.net´)")))
	assert.Check(t, is.Equal(reg["description"], "pulls from registry.picasoft.net"))

	assert.Check(t, is.DeepEqual(testurls.KeptHosts(p, picasoft(t)), []testurls.KeptHost{
		{Where: "services.pad.environment.MAIL_FROM", Kept: testurls.Kept{Host: "picasoft.net", Reason: testurls.KeptEmail}, Value: "noreply@picasoft.net"},
		{Where: "services.registry.labels.description", Kept: testurls.Kept{Host: "registry.picasoft.net", Reason: testurls.KeptNeverRewritten}, Value: "pulls from registry.picasoft.net"},
	}))
}

// TestTransformPaths: a host kept inside a path while rewritten elsewhere
// is reported out of step; x-picatest rewrite-paths rewrites it there too.
func TestTransformPaths(t *testing.T) {
	compose := `
services:
  erp:
    image: erpnext:15
    environment:
      SITE_NAME: erp.picasoft.net
    command: [wait-for, sites/erp.picasoft.net/site_config.json]
    volumes: [./certs/erp.picasoft.net:/certs/erp.picasoft.net:ro]
%s`
	p := load(t, fmt.Sprintf(compose, ""), map[string]string{"certs/erp.picasoft.net/x": ""})
	got, _, err := testurls.Transform(p, picasoft(t))
	assert.NilError(t, err)
	assert.Check(t, is.Equal(got.Services["erp"].Command[1], "sites/erp.picasoft.net/site_config.json"))
	assert.Check(t, is.DeepEqual(testurls.KeptHosts(p, picasoft(t)), []testurls.KeptHost{
		{Where: "services.erp.command[1]", Kept: testurls.Kept{Host: "erp.picasoft.net", Reason: testurls.KeptPath}, Value: "sites/erp.picasoft.net/site_config.json", OutOfStep: true},
	}))

	p = load(t, fmt.Sprintf(compose, "    x-picatest: {rewrite-paths: true}\n"), map[string]string{"certs/erp.picasoft.net/x": ""})
	got, _, err = testurls.Transform(p, picasoft(t))
	assert.NilError(t, err)
	assert.Check(t, is.Equal(got.Services["erp"].Command[1], "sites/erp.test.picasoft.net/site_config.json"))
	assert.Check(t, is.Equal(got.Services["erp"].Volumes[0].Source, p.Services["erp"].Volumes[0].Source), "file paths never change")
	assert.Check(t, is.Len(testurls.KeptHosts(p, picasoft(t)), 0))

	p = load(t, fmt.Sprintf(compose, "    x-picatest: {rewrite-paths: yes-please}\n"), map[string]string{"certs/erp.picasoft.net/x": ""})
	_, _, err = testurls.Transform(p, picasoft(t))
	assert.Check(t, is.Error(err, "service erp: x-picatest.rewrite-paths must be true or false, got yes-please"))
}

// TestKeptHostsTexts: the lines of the files the rewrite changes are
// listed too, and a host rewritten in the model but kept inside a path of
// a file is out of step.
func TestKeptHostsTexts(t *testing.T) {
	p := load(t, `
services:
  pad:
    image: pad:1
    environment: {URL: "https://pad.picasoft.net"}
`, nil)
	got := testurls.KeptHosts(p, picasoft(t), testurls.Text{Name: "conf/app.ini", Content: "url = https://pad.picasoft.net\ncert = /certs/pad.picasoft.net/cert.pem\nmail = admin@picasoft.net\n"})
	assert.Check(t, is.DeepEqual(got, []testurls.KeptHost{
		{Where: "conf/app.ini:2", Kept: testurls.Kept{Host: "pad.picasoft.net", Reason: testurls.KeptPath}, Value: "cert = /certs/pad.picasoft.net/cert.pem", OutOfStep: true},
		{Where: "conf/app.ini:3", Kept: testurls.Kept{Host: "picasoft.net", Reason: testurls.KeptEmail}, Value: "mail = admin@picasoft.net"},
	}))
}
