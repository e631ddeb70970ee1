package e2e

import (
	"encoding/json"
	"strings"
	"testing"

	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"
)

const canary = "canary-8f3a1c-real-secret"

func TestConfig(t *testing.T) {
	p := newProject(t)
	before := p.snapshot()

	r := p.picatest("config")
	assert.Equal(t, r.ExitCode, 0, r)
	out := r.Stdout
	for _, want := range []string{
		"traefik.http.routers.pad.rule: Host(`pad.test.picasoft.net`) || Host(`www.pad.test.picasoft.net`)",
		"BASE_URL: https://pad.test.picasoft.net/",
		"PUBLIC_URL: https://pad.test.picasoft.net",
		"- https://pad.test.picasoft.net",
		"CONTACT: admin@picasoft.net",
		"DATABASE_URL: postgres://pad:pw@db.test.picasoft.net:5432/pad",
		"MAIL_FROM: noreply@picasoft.net",
		`"backup": "backup@backup.test.picasoft.net:/srv/backups/pad/"`,
		`"cert": "/etc/letsencrypt/live/pad.picasoft.net/cert.pem"`,
		"PRICE: $$5",
		"image: registry.picasoft.net/pica-pad:1.8.7",
		"ADMIN_PASSWORD: example-admin-password",
		"OIDC_ISSUER: https://auth.test.picasoft.net/realms/pica",
		"POSTGRES_PASSWORD: example-db-password",
		"SMTP_PASSWORD: '********'",
		"net.picasoft.picatest.test-build: \"true\"",
		"net.picasoft.picatest.branch: main",
		`"url": "https://pad.test.picasoft.net/"`,
		`"registry": "registry.picasoft.net"`,
		`"unrelated": "notpicasoft.net"`,
		"target: /etc/pad/settings.json",
		"source: ./conf/plain.txt",
	} {
		assert.Check(t, is.Contains(strings.ReplaceAll(out, p.Dir, "."), want))
	}
	assert.Check(t, !strings.Contains(out, "production-db-password"))
	assert.Check(t, !strings.Contains(out+r.Stderr, canary))
	assert.Check(t, !strings.Contains(out, "settings.json:/etc"), "the bind mount of the rewritten file must be gone")

	r = p.picatest("config", "--format", "json")
	assert.Equal(t, r.ExitCode, 0, r)
	var model struct {
		Services map[string]struct {
			Image       string
			Environment map[string]string
			Labels      map[string]string
		}
	}
	assert.NilError(t, json.Unmarshal([]byte(r.Stdout), &model))
	assert.Equal(t, model.Services["pad"].Labels["traefik.http.routers.pad.rule"], "Host(`pad.test.picasoft.net`) || Host(`www.pad.test.picasoft.net`)")
	assert.Equal(t, model.Services["mail"].Environment["SMTP_PASSWORD"], "********")
	assert.Check(t, !strings.Contains(r.Stdout, canary))

	p.assertTreeUnchanged(before)
}

func TestConfigDiff(t *testing.T) {
	p := newProject(t, "TestConfig")
	before := p.snapshot()

	r := p.picatest("config", "--diff")
	assert.Equal(t, r.ExitCode, 0, r)
	out := r.Stdout
	for _, want := range []string{
		"--- compose\n+++ picatest\n",
		"-      traefik.http.routers.pad.rule: Host(`pad.picasoft.net`) || Host(`www.pad.picasoft.net`)",
		"+      traefik.http.routers.pad.rule: Host(`pad.test.picasoft.net`) || Host(`www.pad.test.picasoft.net`)",
		"--- a/conf/settings.json\n+++ b/conf/settings.json\n",
		`-  "url": "https://pad.picasoft.net/",`,
		`+  "url": "https://pad.test.picasoft.net/",`,
		"Rewrites (",
		"\n  test-labels  services.pad: labels branch, commit, owner, started; build.labels test-build (net.picasoft.picatest.*)\n",
		"\n  test-labels  services.db: labels branch, commit, owner, started (net.picasoft.picatest.*)\n",
		"\nProduction hosts kept on purpose (",
		"\n  services.pad.environment.CONTACT: picasoft.net (e-mail address)\n",
		"\n  services.pad.environment.MAIL_FROM: picasoft.net (e-mail address)\n",
		"\n  conf/settings.json:5: picasoft.net (e-mail address)\n",
		"\n  conf/settings.json:7: pad.picasoft.net (inside a path); rewritten elsewhere in the project: set x-picatest: {rewrite-paths: true} on the service if it derives this path from its host name\n",
		"\n  conf/settings.json:8: registry.picasoft.net (never rewritten: the registry or a keep-host)\n",
		"Example secrets used (2):",
		"secrets/pad.secrets.example instead of secrets/pad.secrets",
		"secrets/db.secrets.example instead of secrets/db.secrets",
	} {
		assert.Check(t, is.Contains(out, want))
	}
	assert.Check(t, !strings.Contains(out, "plain.txt\n+++"), "an unchanged file has no diff")
	assert.Check(t, !strings.Contains(out, "test-labels  services.pad.labels."), "the test labels are one line per service")
	assert.Check(t, !strings.Contains(out+r.Stderr, canary))
	p.assertTreeUnchanged(before)
}
