package lint

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v4"
	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"

	"github.com/picasoft/docker-picatest/internal/composetest"
	"github.com/picasoft/docker-picatest/internal/settings"
)

func TestYAMLLineFindsLabelsInBothForms(t *testing.T) {
	src := "services:\n  a:\n    labels:\n      traefik.enable: \"true\"\n  b:\n    labels:\n      - traefik.enable=true\n"
	var n yaml.Node
	assert.NilError(t, yaml.Unmarshal([]byte(src), &n))
	assert.Equal(t, yamlLine(&n, []string{"services", "a", "labels", "traefik.enable"}), 4)
	assert.Equal(t, yamlLine(&n, []string{"services", "b", "labels", "traefik.enable"}), 7)
	assert.Equal(t, yamlLine(&n, []string{"services", "c"}), 0)
}

func TestBuildMissing(t *testing.T) {
	const compose = "services:\n  pad:\n    image: registry.picasoft.net/pica-nobuild:1.0\n  db:\n    image: postgres:16\n"
	noGit := RepoGit{}
	p := composetest.Load(t, compose, map[string]string{"Dockerfile": "FROM scratch\n"})
	fs := Run(p, settings.Default(), noGit)
	assert.Assert(t, is.Len(fs, 1), "%+v", fs)
	assert.Check(t, is.Equal(fs[0].Rule, "build-missing"))
	assert.Check(t, is.Equal(fs[0].Severity, Warning))
	assert.Check(t, is.Equal(fs[0].File, "compose.yaml"))
	assert.Check(t, is.Equal(fs[0].Line, 3))
	assert.Check(t, is.Contains(fs[0].Hint, "'build: .'"))

	p = composetest.Load(t, compose, nil)
	fs = Run(p, settings.Default(), noGit)
	assert.Assert(t, is.Len(fs, 1), "%+v", fs)
	assert.Check(t, is.Equal(fs[0].Severity, Error))
	assert.Check(t, is.Contains(fs[0].Message, "no Dockerfile"))
	assert.Check(t, is.Contains(fs[0].Hint, "build: {context:"))
}

// TestFilesOutsideTheProjectAreNamedAbsolute: a secrets file under
// /srv/docker, say, is named by its absolute path, one of the project
// relative to it.
func TestFilesOutsideTheProjectAreNamedAbsolute(t *testing.T) {
	outside := filepath.Join(t.TempDir(), "srv", "docker", "db.secrets")
	p := composetest.Load(t, "services:\n  db:\n    image: postgres:12\n    env_file: [./app.secrets, "+outside+"]\n", nil)
	var msgs []string
	for _, f := range Run(p, settings.Default(), RepoGit{}) {
		if f.Rule == "secrets-example" {
			msgs = append(msgs, f.Message)
		}
	}
	assert.DeepEqual(t, msgs, []string{
		"secrets file " + outside + " has no " + outside + ".example",
		"secrets file app.secrets has no app.secrets.example",
	})
}

// TestTraefikHostsInBothSyntaxes: check reads the hosts of Traefik v2 and
// v3 rules: several hosts in one Host(), a v2 HostRegexp template, a v3
// HostRegexp regexp, Headers and PathPrefix beside them.
func TestTraefikHostsInBothSyntaxes(t *testing.T) {
	for _, tc := range []struct {
		name  string
		rules string // labels of service web, YAML at 6 spaces; ´ is a backtick
		want  []string
	}{
		{
			name: "production hosts only: nothing to say",
			rules: `
      traefik.http.routers.a.rule: Host(´a.picasoft.net´, ´b.picasoft.net´) && Headers(´X-A´, ´1´) || Host(´c.picasoft.net´) && PathPrefix(´/api´, ´/v1´)
      traefik.http.routers.b.rule: HostRegexp(´{sub:[a-z]+}.pad.picasoft.net´)
      traefik.http.routers.c.rule: HostRegexp(´^(www\.)?pad\.picasoft\.net$´) && Header(´X-A´, ´1´)
      traefik.http.routers.c.ruleSyntax: v3
      traefik.http.routers.d.rule: HostRegexp(´{host:.+}´) || HostRegexp(´.+´)`,
		},
		{
			name: "test hosts in git, in each syntax",
			rules: `
      traefik.http.routers.a.rule: Host(´a.picasoft.net´, ´a.test.picasoft.net´)
      traefik.http.routers.b.rule: HostRegexp(´{sub:[a-z]+}.pad.test.picasoft.net´)
      traefik.http.routers.c.rule: HostRegexp(´^.+\.test\.picasoft\.net$´)`,
			want: []string{
				"error traefik-test-host: service web: Traefik rule traefik.http.routers.a.rule routes the test host a.test.picasoft.net",
				"error traefik-test-host: service web: Traefik rule traefik.http.routers.b.rule routes the test host picatest.pad.test.picasoft.net (HostRegexp(`{sub:[a-z]+}.pad.test.picasoft.net`) matches it)",
				"error traefik-test-host: service web: Traefik rule traefik.http.routers.c.rule routes the test host picatest.test.picasoft.net (HostRegexp(`^.+\\.test\\.picasoft\\.net$`) matches it)",
			},
		},
		{
			name: "foreign hosts",
			rules: `
      traefik.http.routers.a.rule: Host(´a.picasoft.net´, ´example.org´)
      traefik.http.routers.b.rule: HostRegexp(´{sub:[a-z]+}.example.org´)
      traefik.http.routers.b.ruleSyntax: v2`,
			want: []string{
				"warning traefik-foreign-host: service web: Traefik rule traefik.http.routers.a.rule routes example.org, not under the production domain picasoft.net",
				"warning traefik-foreign-host: service web: Traefik rule traefik.http.routers.b.rule routes picatest.example.org (HostRegexp(`{sub:[a-z]+}.example.org`) matches it), not under the production domain picasoft.net",
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			compose := strings.ReplaceAll(`
services:
  web:
    image: nginx:1.25
    healthcheck: {test: ["CMD", "true"]}
    networks: [proxy]
    labels:
      traefik.enable: "true"`+tc.rules+`
networks:
  proxy: {external: true}
`, "´", "`")
			var got []string
			for _, f := range Run(composetest.Load(t, compose, nil), settings.Default(), RepoGit{}) {
				if strings.HasPrefix(f.Rule, "traefik-") {
					got = append(got, f.Severity+" "+f.Rule+": "+f.Message)
				}
			}
			assert.DeepEqual(t, got, tc.want)
		})
	}
}

// TestHosts: what the test-URL rule keeps or does not reach is reported.
func TestHosts(t *testing.T) {
	outside := filepath.Join(t.TempDir(), "app.ini")
	assert.NilError(t, os.WriteFile(outside, []byte("db = postgres://u:p@db.picasoft.net/x\n"), 0o644))
	p := composetest.Load(t, `
services:
  erp:
    image: erpnext:15
    environment:
      SITE_NAME: erp.picasoft.net
      MAIL_FROM: noreply@picasoft.net
      DATABASE_URL: postgres://u:p@db.picasoft.net/x
      REGISTRY: https://registry.picasoft.net/v2/
    command: [wait-for, sites/erp.picasoft.net/site_config.json]
    logging:
      driver: syslog
      options: {syslog-address: "tcp://logs.picasoft.net:514"}
    volumes:
      - `+outside+`:/etc/app.ini:ro
      - ./certs/picasoft.net:/certs:ro
      - ./conf/app.ini:/etc/local.ini:ro
  wiki:
    image: wiki:1
    command: [serve, /srv/wiki.picasoft.net]
volumes:
  nfs:
    driver_opts: {type: nfs, o: "addr=nfs.picasoft.net,rw"}
`, map[string]string{"certs/picasoft.net/x": "", "conf/app.ini": "url = https://erp.picasoft.net\ncert = /certs/erp.picasoft.net/cert.pem\n"})
	var got []string
	for _, f := range Run(p, settings.Default(), RepoGit{}) {
		switch f.Rule {
		case "host-in-path", "prod-connection", "prod-host-unreached":
			got = append(got, fmt.Sprintf("%s:%d %s %s %s %s", f.File, f.Line, f.Severity, f.Rule, f.Service, f.Message))
		}
	}
	assert.DeepEqual(t, got, []string{
		"compose.yaml:9 warning prod-connection erp services.erp.environment.REGISTRY connects to registry.picasoft.net, a production host the test keeps (the registry or a keep-host): a test deployment reaches production there",
		"compose.yaml:10 warning host-in-path erp services.erp.command[1] keeps erp.picasoft.net inside a path (sites/erp.picasoft.net/site_config.json), while the test rewrites it elsewhere in the project: the two no longer agree in a test",
		"compose.yaml:13 error prod-host-unreached erp service erp: logging option syslog-address holds production hosts logs.picasoft.net, which the test rewrite does not reach: a test deployment would connect to production",
		"compose.yaml:14 error prod-host-unreached erp service erp mounts " + outside + ", outside the project folder, which holds production hosts db.picasoft.net: the test rewrite does not reach it, so a test deployment would connect to production",
		"compose.yaml:23 error prod-host-unreached  volume nfs: driver option o holds production hosts nfs.picasoft.net, which the test rewrite does not reach: a test deployment would connect to production",
		"conf/app.ini:2 warning host-in-path erp conf/app.ini:2 keeps erp.picasoft.net inside a path (cert = /certs/erp.picasoft.net/cert.pem), while the test rewrites it elsewhere in the project: the two no longer agree in a test",
	})
}
