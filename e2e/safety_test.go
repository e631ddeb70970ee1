package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"
	"gotest.tools/v3/poll"
)

// TestUpSafety checks SPEC §5 end to end: test-host guard, owner, lock and
// Ctrl-C.
func TestUpSafety(t *testing.T) {
	p := newProject(t)
	p.cleanupImages("picatest-e2e/safety-web:1")
	assert.Equal(t, p.docker("volume", "create", p.Name+"_scratch").ExitCode, 0)
	before := p.snapshot()

	daemon := p.docker("info", "--format", "{{.Name}}")
	assert.Equal(t, daemon.ExitCode, 0, daemon)
	name := strings.TrimSpace(daemon.Stdout)

	// Refused by the test-host guard, up and down write nothing to the
	// engine: neither the lock container nor the lock image, which carry
	// no Compose label (the whole engine is compared, not the project).
	t.Run("not a test host", func(t *testing.T) {
		imageAbsent := false
		p.assertEngineUnchanged(t, "up and down on a daemon that is not a test host", func() { imageAbsent = p.removeLockImage() }, func() {
			for _, cmd := range [][]string{{"up", "--yes"}, {"down"}} {
				r := p.dockerEnv([]string{"PICATEST_TEST_HOSTS=prod-*,nomatch"}, append([]string{"picatest"}, cmd...)...)
				assert.Equal(t, r.ExitCode, 3, r)
				assert.Check(t, is.Contains(r.Stderr, "PICATEST_TEST_HOSTS"))
				assert.Check(t, is.Contains(r.Stderr, "net.picasoft.picatest.test-host=true"))
				assert.Check(t, is.Contains(r.Stderr, "(prod-*, nomatch from PICATEST_TEST_HOSTS)"))
			}
			r := p.dockerEnv([]string{"PICATEST_TEST_HOSTS=prod-*,nomatch"}, "picatest", "up", "--dry-run")
			assert.Equal(t, r.ExitCode, 0, r)
			assert.Check(t, is.Contains(r.Stdout, fmt.Sprintf("   test host: Docker daemon %q is NOT a test host: up would refuse (exit 3)", name)), r)
		})
		if imageAbsent {
			r := p.docker("image", "inspect", safetyLockImage)
			assert.Check(t, r.ExitCode != 0, "the lock image was created: %s", r)
		} else {
			t.Logf("%s is in use: the test cannot tell whether a refused up would create it", safetyLockImage)
		}
		_, held := p.lockLabels()
		assert.Check(t, !held, "a lock container is left")
		assert.Equal(t, p.countContainers(), 0)
	})

	// A branch cannot make every daemon a test host: a .picatest.yml with
	// a glob that matches every name is exit 2 (PICATEST_TEST_HOSTS=* of
	// the run notwithstanding), naming the file and the fixes on the
	// machine; a glob naming the daemon is fine, and the phase line and the
	// plan say it is the rule.
	t.Run("repository test hosts", func(t *testing.T) {
		file := filepath.Join(p.Dir, ".picatest.yml")
		t.Cleanup(func() { os.Remove(file) })
		assert.NilError(t, os.WriteFile(file, []byte("test-hosts: [\"pica01-test\", \"*\"]\n"), 0o644))
		p.assertEngineUnchanged(t, "up and down with a .picatest.yml matching every daemon", nil, func() {
			for _, cmd := range [][]string{{"up", "--yes"}, {"down"}, {"up", "--dry-run"}} {
				r := p.picatest(cmd...)
				assert.Equal(t, r.ExitCode, 2, r)
				for _, want := range []string{
					"invalid " + file + `: test-hosts: "*" matches every Docker daemon`,
					"set PICATEST_TEST_HOSTS", "net.picasoft.picatest.test-host=true", "/etc/docker/daemon.json",
				} {
					assert.Check(t, is.Contains(r.Stderr, want), r)
				}
			}
		})

		assert.NilError(t, os.WriteFile(file, []byte(fmt.Sprintf("test-hosts: [%q]\n", name)), 0o644))
		why := fmt.Sprintf("Docker daemon %q is a test host: its name matches %q (from %s)", name, name, file)
		r := p.dockerEnv([]string{"PICATEST_TEST_HOSTS="}, "picatest", "up", "--dry-run")
		assert.Equal(t, r.ExitCode, 0, r)
		assert.Check(t, is.Contains(r.Stdout, "   test host: "+why+"\n"), r)
		r = p.dockerEnv([]string{"PICATEST_TEST_HOSTS="}, "picatest", "down")
		assert.Equal(t, r.ExitCode, 0, r)
		assert.Check(t, is.Contains(r.Stderr, "picatest: preflight: "+why+"\n"), r)
	})

	t.Run("owned by someone else", func(t *testing.T) {
		r := p.dockerEnv([]string{"USER=alice"}, "picatest", "up", "--stable", "0s")
		assert.Equal(t, r.ExitCode, 3, r)
		assert.Check(t, is.Contains(r.Stderr, "pass -y/--yes"), "no terminal and no --yes: the volume reset is refused")
		r = p.dockerEnv([]string{"USER=alice"}, "picatest", "up", "--yes", "--stable", "0s")
		assert.Equal(t, r.ExitCode, 0, r)
		// The first phase line names the rule that makes the daemon a
		// test host.
		assert.Check(t, is.Contains(r.Stderr, fmt.Sprintf("picatest: preflight: Docker daemon %q is a test host: its name matches \"*\" (from PICATEST_TEST_HOSTS)\n", name)), r)
		// Refused by the owner rule, up and down leave the engine as it
		// was: the lock they took is released.
		p.assertEngineUnchanged(t, "bob's up and down of alice's deployment", nil, func() {
			r := p.dockerEnv([]string{"USER=bob"}, "picatest", "up", "--stable", "0s")
			assert.Equal(t, r.ExitCode, 3, r)
			assert.Check(t, is.Contains(r.Stderr, "alice"))
			assert.Check(t, is.Contains(r.Stderr, "main"))
			assert.Check(t, is.Contains(r.Stderr, "--takeover"))
			r = p.dockerEnv([]string{"USER=bob"}, "picatest", "down")
			assert.Equal(t, r.ExitCode, 3, r)
			assert.Check(t, is.Contains(r.Stderr, "deployed by alice"))
		})
		_, held := p.lockLabels()
		assert.Check(t, !held, "a lock container is left")
		r = p.dockerEnv([]string{"USER=bob"}, "picatest", "up", "--yes", "--stable", "0s", "--takeover")
		assert.Equal(t, r.ExitCode, 0, r)
		r = p.dockerEnv([]string{"USER=bob"}, "picatest", "down")
		assert.Equal(t, r.ExitCode, 0, r)
	})

	t.Run("lock", func(t *testing.T) {
		first := p.start([]string{"HEALTHY_AFTER=6s"}, "picatest", "up", "--yes", "--stable", "0s")
		poll.WaitOn(t, func(poll.LogT) poll.Result {
			if p.countContainers() > 0 {
				return poll.Success()
			}
			return poll.Continue("waiting for the first up to start containers")
		}, poll.WithTimeout(60*time.Second))
		r := p.dockerEnv([]string{"PICATEST_LOCK_WAIT=1s"}, "picatest", "up", "--yes", "--stable", "0s")
		assert.Equal(t, r.ExitCode, 3, r)
		assert.Check(t, is.Contains(r.Stderr, "locked by e2e-user"))
		assert.Check(t, is.Contains(r.Stderr, "since"))
		assert.NilError(t, first.Wait(), first.Output())
	})

	// Ctrl-C at several points of up (reset, build and pull, start, wait):
	// exit 130 (or 0 when up was already done), the working tree
	// unchanged, and a rerun succeeds.
	t.Run("ctrl-c", func(t *testing.T) {
		for _, delay := range []time.Duration{200 * time.Millisecond, 700 * time.Millisecond, 1500 * time.Millisecond, 3 * time.Second, 6 * time.Second} {
			up := p.start([]string{"HEALTHY_AFTER=5s"}, "picatest", "up", "--yes", "--stable", "0s", "--progress", "plain")
			time.Sleep(delay)
			assert.NilError(t, up.Process.Signal(syscall.SIGINT))
			err := up.Wait()
			code, early := 0, false
			var exit *exec.ExitError
			if errorAs(err, &exit) {
				code = exit.ExitCode()
				// On a loaded machine the signal can land before the
				// plugin has installed its handler: the process dies of
				// it. Judged by its outcome below (no lock left, the tree
				// unchanged, the rerun succeeds), not by its exit code.
				ws, ok := exit.Sys().(syscall.WaitStatus)
				early = ok && ws.Signaled() && ws.Signal() == syscall.SIGINT
			}
			t.Logf("SIGINT after %s: exit %d (killed before its handler: %v)", delay, code, early)
			assert.Check(t, code == 130 || code == 0 || early, "after %s: exit %d\n%s", delay, code, up.Output())
			// Interrupted or not, up removed its lock (with a context of
			// its own: the command's is cancelled).
			_, held := p.lockLabels()
			assert.Check(t, !held, "after %s: the lock is left", delay)
			p.assertTreeUnchanged(before)
		}
		r := p.picatest("up", "--yes", "--stable", "0s")
		assert.Equal(t, r.ExitCode, 0, r)
	})

	p.assertTreeUnchanged(before)
}

// safetyLockImage is the image of the lock containers (internal/safety
// LockImage).
const safetyLockImage = "picatest-lock:1"

// removeLockImage removes the lock image, unless a lock container uses it
// (an up/down under way elsewhere): picatest imports it again when needed.
// It reports whether the image is absent.
func (p *project) removeLockImage() bool {
	p.t.Helper()
	r := p.outside().docker("image", "rm", safetyLockImage)
	return r.ExitCode == 0 || strings.Contains(r.Stderr, "No such image")
}

// assertEngineUnchanged checks that refuse, which runs commands that must
// be refused, leaves every container, image, volume and network of the
// engine as it was (engineState: the whole engine, not only p's project).
// The engine is shared: when it changed, prepare and refuse run again, up
// to 3 times in all, and only a change each time fails t; a command
// that leaves something behind leaves it every time.
func (p *project) assertEngineUnchanged(t *testing.T, what string, prepare, refuse func()) {
	t.Helper()
	var diff []string
	for attempt := 1; attempt <= 3; attempt++ {
		if prepare != nil {
			prepare()
		}
		before := p.engineState()
		refuse()
		after := p.engineState()
		if reflect.DeepEqual(after, before) {
			return
		}
		diff = safetyDiff(before, after)
		t.Logf("%s: the engine changed (attempt %d of 3):\n%s", what, attempt, strings.Join(diff, "\n"))
	}
	t.Errorf("%s changed the engine every time:\n%s", what, strings.Join(diff, "\n"))
}

// safetyDiff lists the lines of the engine states that only one has:
// "- kind: line" gone, "+ kind: line" new.
func safetyDiff(before, after map[string][]string) []string {
	var diff []string
	for kind := range after {
		in := func(state map[string][]string, line string) bool {
			for _, l := range state[kind] {
				if l == line {
					return true
				}
			}
			return false
		}
		for _, l := range before[kind] {
			if !in(after, l) {
				diff = append(diff, "- "+kind+": "+l)
			}
		}
		for _, l := range after[kind] {
			if !in(before, l) {
				diff = append(diff, "+ "+kind+": "+l)
			}
		}
	}
	sort.Strings(diff)
	return diff
}
