package e2e

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"
	"gotest.tools/v3/poll"
)

// TestRemoteClient: the plugin drives an engine it reaches through a TCP
// endpoint, by DOCKER_HOST and by a docker context, from a machine whose
// files the daemon cannot see (issue 13, item 2): the rewritten config
// file and directory and the example secrets reach the container through
// the API; up warns, once, about the one path the daemon resolves on its
// own host; status, logs, smoke, down and push --build work.
func TestRemoteClient(t *testing.T) {
	skipShort(t)
	requireTraefik(t)
	startRegistry(t)
	p := newProject(t)
	repo := "picatest-e2e/" + p.Name
	image := registryAddr + "/" + repo + ":1.0"
	p.cleanupImages(image)
	cleanRegistry(t, repo, "1.0")
	// A directory of the daemon's host, bind-mounted by the service.
	data := t.TempDir()
	assert.NilError(t, os.WriteFile(filepath.Join(data, "marker"), []byte("on the daemon's host\n"), 0o644))
	host := tcpEngine(t)
	auth := base64.StdEncoding.EncodeToString([]byte(registryUser + ":" + registryPassword))
	config := fmt.Sprintf(`{"auths": {%q: {"auth": %q}}}`, registryAddr, auth)
	env := []string{"PICATEST_PROXY=" + traefikHTTP, "E2E_DATA_DIR=" + data}

	for _, via := range []string{"DOCKER_HOST", "context"} {
		t.Run(via, func(t *testing.T) {
			var pre []string
			c := newNSClient(t, "", config, env, p)
			if via == "DOCKER_HOST" {
				c.Env = append(c.Env, "DOCKER_HOST="+host)
			} else {
				r := c.docker(p, "context", "create", "picatest-remote", "--docker", "host="+host)
				assert.Equal(t, r.ExitCode, 0, r)
				pre = []string{"--context", "picatest-remote"}
			}
			picatest := func(args ...string) result {
				t.Helper()
				return c.docker(p, append(append(pre, "picatest"), args...)...)
			}
			// The project is the client's only: the daemon's machine (this
			// test's) has no such folder.
			_, err := os.Stat(nsDir(p))
			assert.Assert(t, os.IsNotExist(err), "the project must not be visible outside the client: %v", err)

			r := picatest("up", "--yes", "--stable", "0s", "--progress", "plain")
			assert.Equal(t, r.ExitCode, 0, r)
			assert.Check(t, is.Contains(r.Stdout, "OK: project "+p.Name), r)
			assert.Check(t, is.Contains(r.Stdout, "OK    http://remote.test.picasoft.net/"), r)
			// One warning, naming the daemon-side path and nothing that
			// the transforms deliver through the API.
			assert.Check(t, is.Equal(strings.Count(r.Stdout+r.Stderr, "is not local"), 1), r)
			warning := remoteLineWith(r.Stdout, "is not local")
			assert.Check(t, is.Contains(warning, "WARNING: the Docker engine is not local ("+host+"): these paths are resolved on the daemon's host, not on this machine: services.web: "+data), r)
			assert.Check(t, !strings.Contains(warning, "conf"), "config files travel through the API: %s", warning)
			t.Logf("up through %s:\n%s", via, r.Stdout)

			web := p.containerOf("web")
			cat := func(path string) string {
				t.Helper()
				r := p.docker("exec", web, "/app", "cat", path)
				assert.Equal(t, r.ExitCode, 0, r)
				return r.Stdout
			}
			assert.Check(t, is.Contains(cat("/etc/app/settings.json"), `"url": "https://remote.test.picasoft.net/"`))
			assert.Check(t, is.Contains(cat("/etc/app/settings.json"), `"contact": "admin@picasoft.net"`))
			assert.Check(t, is.Equal(cat("/etc/app/conf.d/site.conf"), "public_url = https://remote.test.picasoft.net/app\n"))
			assert.Check(t, is.Equal(cat("/etc/app/conf.d/workers.conf"), "workers = 4\n"))
			assert.Check(t, is.Equal(cat("/data/marker"), "on the daemon's host\n"))
			assert.Check(t, is.Contains(p.inspect(web, "{{json .Config.Env}}"), `"REMOTE_PASSWORD=example-remote-password"`))
			assert.Check(t, is.Contains(p.inspect(web, "{{json .Config.Env}}"), `"BASE_URL=https://remote.test.picasoft.net/"`))

			r = picatest("status")
			assert.Equal(t, r.ExitCode, 0, r)
			assert.Check(t, sharedLineWith(r.Stdout, "web", "running", "healthy", "e2e-user"), r)
			r = picatest("logs", "web")
			assert.Equal(t, r.ExitCode, 0, r)
			assert.Check(t, is.Contains(r.Stdout, "remote web ready"), r)
			r = picatest("smoke")
			assert.Equal(t, r.ExitCode, 0, r)
			assert.Check(t, is.Contains(r.Stdout, "OK    http://remote.test.picasoft.net/"), r)

			if via == "DOCKER_HOST" {
				r = picatest("push", "--build", "--progress", "plain")
				assert.Equal(t, r.ExitCode, 0, r)
				code, digest, _ := registryImageManifest(t, repo, "1.0")
				assert.Equal(t, code, http.StatusOK, "the image is in the registry")
				assert.Check(t, is.Contains(r.Stdout+r.Stderr, digest), r)
			}

			r = picatest("down")
			assert.Equal(t, r.ExitCode, 0, r)
			assert.Check(t, is.Equal(p.countContainers(), 0))
			_, held := p.lockLabels()
			assert.Check(t, !held, "the lock is released")
		})
	}
}

// TestTwoClients: two clients that share nothing but the daemon (their
// own mount namespace, /tmp and DOCKER_CONFIG; the engine through TCP)
// (issue 13, item 3). Two projects run at once; the owner rule and the
// lock hold across clients; a client killed with SIGKILL never blocks the
// project: from its machine the lock is freed at once, from another the
// refusal says how to break it, and --break-lock does.
func TestTwoClients(t *testing.T) {
	skipShort(t)
	host := tcpEngine(t)
	pad := newProjectAs(t, projectName(t)+"_pad", "TestTwoClients/pad")
	wiki := newProjectAs(t, projectName(t)+"_wiki", "TestTwoClients/wiki")
	alice := []string{"DOCKER_HOST=" + host, "USER=alice"}
	// a and b: two machines, the same user, so that only the lock can
	// refuse; a and b run on this kernel, where b can tell whether a's
	// process still runs. c has a host name of its own: it cannot.
	a := newNSClient(t, "", "{}", alice, pad, wiki)
	b := newNSClient(t, "", "{}", alice, pad, wiki)
	c := newNSClient(t, "picatest-e2e-laptop", "{}", alice, pad)
	me, err := os.Hostname()
	assert.NilError(t, err)
	up := []string{"picatest", "up", "--yes", "--stable", "0s", "--no-smoke", "--progress", "plain"}

	var padWeb, wikiWeb string
	t.Run("two projects from two clients at once", func(t *testing.T) {
		first := a.start(pad, []string{"HEALTHY_AFTER=3s"}, up...)
		r := b.dockerEnv(wiki, []string{"HEALTHY_AFTER=3s"}, up...)
		assert.Equal(t, r.ExitCode, 0, r)
		assert.NilError(t, first.Wait(), first.Output())
		padWeb, wikiWeb = pad.containerOf("web"), wiki.containerOf("web")
		for _, id := range []string{padWeb, wikiWeb} {
			assert.Check(t, is.Equal(pad.inspect(id, `{{.State.Health.Status}} {{index .Config.Labels "net.picasoft.picatest.owner"}}`), "healthy alice"))
		}
	})

	t.Run("owner rule: another user cannot remove the deployment", func(t *testing.T) {
		r := b.dockerEnv(pad, []string{"USER=bob"}, "picatest", "down")
		assert.Equal(t, r.ExitCode, 3, r)
		assert.Check(t, is.Contains(r.Stderr, "deployed by alice"), r)
		assert.Check(t, is.Equal(pad.containerOf("web"), padWeb))
	})

	// slowUp starts an up of pad from a that waits for its service, and
	// returns once it holds the lock.
	slowUp := func(t *testing.T) *started {
		t.Helper()
		s := a.start(pad, []string{"HEALTHY_AFTER=120s"}, up...)
		poll.WaitOn(t, pad.lockHeld, poll.WithTimeout(2*time.Minute), poll.WithDelay(100*time.Millisecond))
		return s
	}

	t.Run("lock: a second up from another client is refused, naming the first", func(t *testing.T) {
		first := slowUp(t)
		labels, _ := pad.lockLabels()
		t.Logf("lock of %s: %v", pad.Name, labels)
		r := b.dockerEnv(pad, []string{"PICATEST_LOCK_WAIT=1s"}, up...)
		assert.Equal(t, r.ExitCode, 3, r)
		assert.Check(t, is.Contains(r.Stderr, "project "+pad.Name+" is locked by alice (pid "), r)
		assert.Check(t, is.Contains(r.Stderr, " on "+me+", `docker picatest up"), "the client host: %s", r.Stderr)
		assert.Check(t, is.Contains(r.Stderr, " since "), r)
		assert.Check(t, !strings.Contains(r.Stderr, "--break-lock"), "a running holder's lock is not to be broken: %s", r.Stderr)
		t.Logf("second up from another client: %s", r.Stderr)
		// The other project was never touched.
		assert.Check(t, is.Equal(wiki.containerOf("web"), wikiWeb))
		assert.Check(t, is.Equal(wiki.inspect(wikiWeb, "{{.State.Status}} {{.RestartCount}}"), "running 0"))

		t.Run("status --all shows the lock", func(t *testing.T) {
			r := b.docker(wiki, "picatest", "status", "--all", "--format", "json")
			assert.Equal(t, r.ExitCode, 0, r)
			var all struct {
				Locks []struct{ Project, User, Host string }
			}
			assert.NilError(t, json.Unmarshal([]byte(r.Stdout), &all), r.Stdout)
			found := false
			for _, l := range all.Locks {
				if l.Project == pad.Name {
					found = true
					assert.Check(t, is.Equal(l.User, "alice"))
					assert.Check(t, is.Equal(l.Host, me))
				}
			}
			assert.Check(t, found, "no lock of %s in %s", pad.Name, r.Stdout)
		})

		// The first client's machine goes away: SIGKILL to docker and
		// the plugin.
		killGroup(t, first)
		_, held := pad.lockLabels()
		assert.Assert(t, held, "the lock of the killed client stays until someone frees it")

		// c cannot see a's processes: it refuses, naming the holder and
		// the flag.
		r = c.dockerEnv(pad, []string{"PICATEST_LOCK_WAIT=1s"}, up...)
		assert.Equal(t, r.ExitCode, 3, r)
		assert.Check(t, is.Contains(r.Stderr, "project "+pad.Name+" is locked by alice (pid "), r)
		assert.Check(t, is.Contains(r.Stderr, "the lock is stale: run this command again with --break-lock to break it"), r)
		t.Logf("after SIGKILL, from another host: %s", r.Stderr)
		start := time.Now()
		r = c.dockerEnv(pad, nil, append(up, "--break-lock")...)
		assert.Equal(t, r.ExitCode, 0, r)
		assert.Check(t, is.Contains(r.Stderr, "picatest: lock: breaking the lock of project "+pad.Name+" held by alice"), r)
		t.Logf("up --break-lock from another host: %s", time.Since(start).Round(time.Millisecond))
	})

	t.Run("a client killed on this machine: the next up frees its lock", func(t *testing.T) {
		first := slowUp(t)
		killGroup(t, first)
		start := time.Now()
		r := b.dockerEnv(pad, []string{"PICATEST_LOCK_WAIT=1s"}, up...)
		assert.Equal(t, r.ExitCode, 0, r)
		assert.Check(t, is.Contains(r.Stderr, "picatest: lock: freeing the lock of project "+pad.Name+" held by alice"), r)
		assert.Check(t, is.Contains(r.Stderr, "its process is gone"), r)
		assert.Check(t, !strings.Contains(r.Stderr, "waiting up to"), "freed without waiting: %s", r.Stderr)
		t.Logf("up after SIGKILL from the same machine: %s", time.Since(start).Round(time.Millisecond))
	})

	t.Run("down from each client", func(t *testing.T) {
		for _, cp := range []struct {
			c *nsClient
			p *project
		}{{b, pad}, {a, wiki}} {
			r := cp.c.docker(cp.p, "picatest", "down")
			assert.Equal(t, r.ExitCode, 0, r)
			assert.Check(t, is.Equal(cp.p.countContainers(), 0))
			_, held := cp.p.lockLabels()
			assert.Check(t, !held)
		}
	})
}

// remoteLineWith returns the first line of out that holds s.
func remoteLineWith(out, s string) string {
	for _, line := range strings.Split(out, "\n") {
		if strings.Contains(line, s) {
			return line
		}
	}
	return ""
}
