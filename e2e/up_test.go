package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"
)

// TestUp runs the whole test of a Picasoft-style service and reads what the
// containers really got.
func TestUp(t *testing.T) {
	p := newProject(t)
	requireTraefik(t)
	p.Env = append(p.Env, "PICATEST_PROXY="+traefikHTTPS) // smoke checks: the router has TLS
	volume := p.Name + "_data"
	image := "registry.picasoft.net/pica-pad-e2e:1.0"
	p.cleanupImages(image)
	before := p.snapshot()

	// The external volume holds data before up.
	assert.Equal(t, p.docker("volume", "create", volume).ExitCode, 0)
	p.putInVolume(volume, "old.txt", "production data")
	assert.Equal(t, p.docker("run", "--rm", "-v", volume+":/data", "picatest-test/app:1", "cat", "/data/old.txt").ExitCode, 0)

	r := p.picatest("up", "--yes", "--insecure", "--stable", "1s", "--progress", "plain")
	assert.Equal(t, r.ExitCode, 0, r)
	assert.Check(t, is.Contains(r.Stdout, "OK    https://pad.test.picasoft.net/  200 OK"), "smoke check through Traefik's TLS entrypoint")
	assert.Check(t, is.Contains(r.Stdout, "OK    https://registry.test.picasoft.net/  200 OK"), "the registry's own rule routes its test host")
	assert.Check(t, is.Contains(r.Stdout, "Production hosts kept on purpose ("))
	assert.Check(t, is.Contains(r.Stdout, "  services.pad.environment.MAIL_FROM: picasoft.net (e-mail address)\n"))
	assert.Check(t, is.Contains(r.Stdout, "https://pad.test.picasoft.net/"))
	assert.Check(t, is.Contains(r.Stdout, "OK: project "+p.Name))
	assert.Check(t, is.Contains(r.Stdout, "secrets/pad.secrets"))
	assert.Check(t, is.Contains(r.Stdout, "WARNING: could not pull postgres:12"), "offline: the local stand-in is used")

	pad := p.containerOf("pad")
	assert.Equal(t, p.inspect(pad, "{{.State.Health.Status}}"), "healthy")
	env := p.inspect(pad, "{{json .Config.Env}}")
	assert.Check(t, is.Contains(env, "BASE_URL=https://pad.test.picasoft.net/"))
	assert.Check(t, is.Contains(env, "ADMIN_PASSWORD=example-password"))
	assert.Check(t, is.Contains(env, "OIDC_URL=https://auth.test.picasoft.net/"))
	assert.Check(t, is.Contains(env, `"DATABASE_URL=postgres://pad:pw@db.test.picasoft.net:5432/pad"`), "URL credentials get the test host")
	assert.Check(t, is.Contains(env, `"MAIL_FROM=noreply@picasoft.net"`), "a bare e-mail address is kept")
	settings := p.docker("exec", pad, "/app", "cat", "/etc/pad/settings.json")
	assert.Equal(t, settings.ExitCode, 0, settings)
	assert.Check(t, is.Contains(settings.Stdout, `"url": "https://pad.test.picasoft.net/"`))
	assert.Check(t, is.Contains(settings.Stdout, `"contact": "admin@picasoft.net"`))
	assert.Check(t, is.Contains(settings.Stdout, `"backup": "backup@backup.test.picasoft.net:/srv/backups/pad/"`), "the scp form gets the test host")
	assert.Check(t, is.Contains(p.inspect(p.containerOf("registry"), "{{json .Config.Labels}}"), "Host(`registry.test.picasoft.net`)"))
	labels := p.inspect(pad, "{{json .Config.Labels}}")
	assert.Check(t, is.Contains(labels, `"net.picasoft.picatest.owner":"e2e-user"`))
	assert.Check(t, is.Contains(labels, `"net.picasoft.picatest.branch":"main"`))
	assert.Check(t, is.Contains(labels, "Host(`pad.test.picasoft.net`)"))
	assert.Equal(t, p.inspect(image, `{{index .Config.Labels "net.picasoft.picatest.test-build"}}`), "true")
	assert.Equal(t, p.inspect(p.containerOf("init"), "{{.State.ExitCode}}"), "0")
	// db needs no built image: it starts during the build; init, a
	// one-shot pad waits for, runs once, after the build.
	assert.Check(t, is.Contains(r.Stderr, "picatest: start during the build: db, registry\n"))
	initLogs := p.docker("logs", p.containerOf("init"))
	assert.Check(t, is.Equal(strings.Count(initLogs.Stdout, "init: done"), 1), initLogs)
	assert.Check(t, !strings.Contains(r.Stderr, "db-1 Recreate"), "db started during the build is not recreated")

	// The external volume is empty after up.
	assert.Equal(t, p.docker("run", "--rm", "-v", volume+":/data", "picatest-test/app:1", "cat", "/data/old.txt").ExitCode, 1)

	// status shows the deployment with its owner and branch.
	st := p.picatest("status", "--format", "json")
	assert.Equal(t, st.ExitCode, 0, st)
	var status struct {
		Containers []struct{ Service, State, Health, Owner, Branch string }
	}
	assert.NilError(t, json.Unmarshal([]byte(st.Stdout), &status))
	assert.Equal(t, len(status.Containers), 4)
	for _, c := range status.Containers {
		assert.Check(t, is.Equal(c.Owner, "e2e-user"))
		assert.Check(t, is.Equal(c.Branch, "main"))
	}
	text := p.picatest("ps")
	assert.Check(t, is.Contains(text.Stdout, "https://pad.test.picasoft.net/"), text)

	// The app prints this line once it listens (testdata/images/app): a
	// line the service really printed, not the "pad-1  |" prefix every
	// line carries.
	logs := p.picatest("logs", "--tail", "5", "pad")
	assert.Equal(t, logs.ExitCode, 0, logs)
	assert.Check(t, is.Contains(logs.Stdout, "app: listening on :8080"), logs)

	// Without --insecure, Traefik's self-signed certificate is refused.
	sm := p.picatest("smoke", "--wait-timeout", "2s")
	assert.Equal(t, sm.ExitCode, 1, sm)
	assert.Check(t, is.Contains(sm.Stdout, "FAIL  https://pad.test.picasoft.net/  tls-error"), sm)
	assert.Check(t, is.Contains(sm.Stdout, "use --insecure"), sm)

	// A rerun with --no-reset keeps the volume and its data, and succeeds.
	p.putInVolume(volume, "kept.txt", "data of the first run")
	r = p.picatest("up", "--no-reset", "--insecure", "--stable", "0s", "--format", "json", "--progress", "quiet")
	assert.Equal(t, r.ExitCode, 0, r)
	var report struct {
		Result    string
		Services  []struct{ Service, Health string }
		KeptHosts []struct{ Where, Host, Reason string } `json:"kept_hosts"`
	}
	assert.NilError(t, json.Unmarshal([]byte(r.Stdout), &report), r.Stdout)
	assert.Equal(t, report.Result, "ok")
	assert.Check(t, is.Contains(fmt.Sprint(report.KeptHosts), "{services.pad.environment.MAIL_FROM picasoft.net e-mail address}"), r.Stdout)
	kept := p.docker("exec", p.containerOf("pad"), "/app", "cat", "/data/kept.txt")
	assert.Equal(t, kept.ExitCode, 0, "the data in the volume survived --no-reset: %s", kept)
	assert.Check(t, is.Equal(kept.Stdout, "data of the first run"))

	// down removes the deployment and keeps the external volume.
	d := p.picatest("down", "--progress", "plain")
	assert.Equal(t, d.ExitCode, 0, d)
	assert.Equal(t, p.countContainers(), 0)
	assert.Equal(t, p.docker("volume", "inspect", volume).ExitCode, 0)

	p.assertTreeUnchanged(before)
}

// putInVolume writes a file into a volume through a stopped container.
func (p *project) putInVolume(volume, name, content string) {
	p.t.Helper()
	tmp := filepath.Join(p.t.TempDir(), name)
	assert.NilError(p.t, os.WriteFile(tmp, []byte(content), 0o644))
	c := p.docker("create", "-v", volume+":/data", "picatest-test/app:1")
	assert.Equal(p.t, c.ExitCode, 0, c)
	id := strings.TrimSpace(c.Stdout)
	defer p.docker("rm", "-f", id)
	cp := p.docker("cp", tmp, id+":/data/"+name)
	assert.Equal(p.t, cp.ExitCode, 0, cp)
}

func TestUpUnhealthy(t *testing.T) {
	p := newProject(t)
	before := p.snapshot()
	r := p.picatest("up", "--yes", "--wait-timeout", "60s")
	assert.Equal(t, r.ExitCode, 1, r)
	out := r.Stdout + r.Stderr
	assert.Check(t, is.Contains(out, "sick"))
	assert.Check(t, is.Contains(out, "unhealthy"))
	assert.Check(t, is.Contains(out, "HEALTHY=false"), "the last health-check output is shown")
	assert.Check(t, is.Contains(out, "database unreachable"), "the last log lines are shown")
	// The deployment stays up for debugging.
	assert.Equal(t, p.countContainers(), 1)
	p.assertTreeUnchanged(before)
}

// TestUpCrashLoop: a service that exits and is restarted fails up through
// the crash-loop detection, well before --wait-timeout: the report's
// reason is the crash loop, its duration is short of the timeout, and the
// last log lines show why the app exited.
func TestUpCrashLoop(t *testing.T) {
	p := newProject(t)
	const waitTimeout = 5 * time.Minute
	r := p.picatest("up", "--yes", "--wait-timeout", waitTimeout.String(), "--format", "json", "--progress", "quiet")
	assert.Equal(t, r.ExitCode, 1, r)
	var report struct {
		Result   string
		Duration string
		Failure  struct {
			Service, Reason string
			LogTail         []string `json:"log_tail"`
		}
	}
	assert.NilError(t, json.Unmarshal([]byte(r.Stdout), &report), r)
	assert.Check(t, is.Equal(report.Result, "failed"))
	assert.Check(t, is.Equal(report.Failure.Service, "crashy"))
	assert.Check(t, strings.HasPrefix(report.Failure.Reason, "crash loop: "), "the failure comes from the crash-loop detection, not from a timeout: %q", report.Failure.Reason)
	assert.Check(t, is.Contains(strings.Join(report.Failure.LogTail, "\n"), "app: crashing as asked (CRASH_AFTER=1s)"))
	took, err := time.ParseDuration(report.Duration)
	assert.NilError(t, err, r)
	assert.Check(t, took < waitTimeout, "up ended after %s, not before --wait-timeout %s", took, waitTimeout)
}

func TestUpMissingNetwork(t *testing.T) {
	p := newProject(t)
	p.docker("network", "rm", "picatest-e2e-missing-network")
	r := p.picatest("up", "--yes")
	assert.Equal(t, r.ExitCode, 1, r)
	assert.Check(t, is.Contains(r.Stderr, "picatest-e2e-missing-network"))
	assert.Check(t, is.Contains(r.Stderr, "docker network create picatest-e2e-missing-network"))
	assert.Equal(t, p.countContainers(), 0)
}

func TestUpMissingImage(t *testing.T) {
	p := newProject(t)
	r := p.picatest("up", "--yes")
	assert.Equal(t, r.ExitCode, 1, r)
	assert.Check(t, is.Contains(r.Stderr, "picatest-e2e/absent-image:1"))
	assert.Check(t, is.Contains(r.Stderr, "not present locally"))
	assert.Equal(t, p.countContainers(), 0)
}

// TestUpDryRun: up --dry-run, on the project of TestUp (a build, a pull, an
// external volume holding data, an external network), prints the plan and
// leaves the engine as it was: the same containers, volumes, networks and
// images, the volume's data still there, the work tree unchanged.
func TestUpDryRun(t *testing.T) {
	p := newProject(t, "TestUp")
	volume := p.Name + "_data"
	p.cleanupImages("registry.picasoft.net/pica-pad-e2e:1.0")
	assert.Equal(t, p.docker("volume", "create", volume).ExitCode, 0)
	p.putInVolume(volume, "old.txt", "production data")
	tree := p.snapshot()
	before := p.engineState()

	for _, args := range [][]string{{"up", "--dry-run"}, {"up", "--dry-run", "--yes"}, {"up", "--dry-run", "--no-reset"}} {
		r := p.picatest(args...)
		assert.Equal(t, r.ExitCode, 0, r)
		assert.Check(t, is.Contains(r.Stdout, "Plan for project "+p.Name), r)
		assert.Check(t, is.Contains(r.Stdout, "pad"), r)
		// The registry's own rule is no longer refused; the kept hosts are
		// listed.
		assert.Check(t, is.Contains(r.Stdout, "Production hosts kept on purpose ("), r)
		assert.Check(t, is.Contains(r.Stdout, "  services.pad.environment.MAIL_FROM: picasoft.net (e-mail address)\n"), r)
	}

	assert.Check(t, is.DeepEqual(p.engineState(), before), "up --dry-run changed the engine")
	old := p.docker("run", "--rm", "-v", volume+":/data", "picatest-test/app:1", "cat", "/data/old.txt")
	assert.Check(t, is.Equal(old.Stdout, "production data"), old)
	p.assertTreeUnchanged(tree)
}

// TestUpResetNetworks: the reset keeps the networks Compose created with
// a record of their configuration; up recreates one whose configuration
// changed, and the reset removes one without a record.
func TestUpResetNetworks(t *testing.T) {
	p := newProject(t)
	id := func(network string) string { return p.inspect(p.Name+"_"+network, "{{.Id}}") }
	// A network as docker-compose v1 made it: the project's labels, no
	// record of its configuration.
	legacy := p.docker("network", "create", "--label", "com.docker.compose.project="+p.Name,
		"--label", "com.docker.compose.network=legacy", p.Name+"_legacy")
	assert.Equal(t, legacy.ExitCode, 0, legacy)
	legacyID := strings.TrimSpace(legacy.Stdout)

	r := p.picatest("up", "--yes", "--stable", "0s", "--no-smoke", "--progress", "plain")
	assert.Equal(t, r.ExitCode, 0, r)
	assert.Check(t, is.Contains(r.Stderr, "picatest: reset: down -v --remove-orphans; "), "nothing recorded to keep")
	assert.Check(t, id("legacy") != legacyID, "the network without a record is removed and created again")
	assert.Check(t, p.inspect(p.Name+"_legacy", `{{index .Labels "com.docker.compose.config-hash"}}`) != "")
	defaultID, backID, legacyID := id("default"), id("back"), id("legacy")

	r = p.picatest("up", "--yes", "--stable", "0s", "--no-smoke", "--progress", "plain")
	assert.Equal(t, r.ExitCode, 0, r)
	assert.Check(t, is.Contains(r.Stderr, "picatest: reset: down -v --remove-orphans (network "+
		p.Name+"_back, "+p.Name+"_default, "+p.Name+"_legacy kept: up recreates a network whose configuration changed)"))
	assert.Check(t, is.Equal(id("default"), defaultID))
	assert.Check(t, is.Equal(id("back"), backID))
	assert.Check(t, is.Equal(id("legacy"), legacyID))
	assert.Check(t, is.Equal(p.inspect(p.containerOf("app"), "{{.State.Health.Status}}"), "healthy"))

	p.Env = append(p.Env, "NET_VERSION=2")
	r = p.picatest("up", "--yes", "--stable", "0s", "--no-smoke", "--progress", "plain")
	assert.Equal(t, r.ExitCode, 0, r)
	assert.Check(t, id("back") != backID, "the changed network is recreated")
	assert.Check(t, is.Equal(p.inspect(p.Name+"_back", `{{index .Labels "e2e.version"}}`), "2"))
	assert.Check(t, is.Equal(id("default"), defaultID))
	app := p.containerOf("app")
	assert.Check(t, is.Equal(p.inspect(app, "{{.State.Health.Status}}"), "healthy"))
	assert.Check(t, is.Contains(p.inspect(app, "{{json .NetworkSettings.Networks}}"), p.Name+"_back"))

	d := p.picatest("down")
	assert.Equal(t, d.ExitCode, 0, d)
	assert.Check(t, is.Equal(strings.Join(p.objects("network", ""), "\n"), ""), "down removes the networks")
}
