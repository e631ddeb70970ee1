package e2e

import (
	"bytes"
	"os/exec"
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
	p.cleanupEngine(nil)
	before := p.snapshot()

	t.Run("not a test host", func(t *testing.T) {
		for _, cmd := range [][]string{{"up", "--yes"}, {"down"}} {
			r := p.dockerEnv([]string{"PICATEST_TEST_HOSTS=prod-*,nomatch"}, append([]string{"picatest"}, cmd...)...)
			assert.Equal(t, r.ExitCode, 3, r)
			assert.Check(t, is.Contains(r.Stderr, "PICATEST_TEST_HOSTS"))
			assert.Check(t, is.Contains(r.Stderr, "net.picasoft.picatest.test-host=true"))
		}
		assert.Equal(t, p.countContainers(), 0)
	})

	t.Run("owned by someone else", func(t *testing.T) {
		r := p.dockerEnv([]string{"USER=alice"}, "picatest", "up", "--stable", "0s")
		assert.Equal(t, r.ExitCode, 0, r)
		r = p.dockerEnv([]string{"USER=bob"}, "picatest", "up", "--stable", "0s")
		assert.Equal(t, r.ExitCode, 3, r)
		assert.Check(t, is.Contains(r.Stderr, "alice"))
		assert.Check(t, is.Contains(r.Stderr, "main"))
		assert.Check(t, is.Contains(r.Stderr, "--takeover"))
		r = p.dockerEnv([]string{"USER=bob"}, "picatest", "down")
		assert.Equal(t, r.ExitCode, 3, r)
		r = p.dockerEnv([]string{"USER=bob"}, "picatest", "up", "--stable", "0s", "--takeover")
		assert.Equal(t, r.ExitCode, 0, r)
		r = p.dockerEnv([]string{"USER=bob"}, "picatest", "down")
		assert.Equal(t, r.ExitCode, 0, r)
	})

	t.Run("lock", func(t *testing.T) {
		first := p.start([]string{"HEALTHY_AFTER=6s"}, "picatest", "up", "--stable", "0s")
		poll.WaitOn(t, func(poll.LogT) poll.Result {
			if p.countContainers() > 0 {
				return poll.Success()
			}
			return poll.Continue("waiting for the first up to start containers")
		}, poll.WithTimeout(60*time.Second))
		r := p.dockerEnv([]string{"PICATEST_LOCK_WAIT=1s"}, "picatest", "up", "--stable", "0s")
		assert.Equal(t, r.ExitCode, 3, r)
		assert.Check(t, is.Contains(r.Stderr, "locked by e2e-user"))
		assert.Check(t, is.Contains(r.Stderr, "since"))
		assert.NilError(t, first.Wait(), first.out.String())
	})

	t.Run("ctrl-c during the wait", func(t *testing.T) {
		up := p.start([]string{"HEALTHY_AFTER=30s"}, "picatest", "up", "--stable", "0s")
		poll.WaitOn(t, func(poll.LogT) poll.Result {
			if strings.Contains(p.inspectService("web", "{{.State.Health.Status}}"), "starting") {
				return poll.Success()
			}
			return poll.Continue("waiting for the wait phase")
		}, poll.WithTimeout(60*time.Second))
		assert.NilError(t, up.Process.Signal(syscall.SIGINT))
		err := up.Wait()
		var exit *exec.ExitError
		assert.Assert(t, err != nil && errorAs(err, &exit), up.out.String())
		assert.Equal(t, exit.ExitCode(), 130, up.out.String())
		p.assertTreeUnchanged(before)
		r := p.picatest("up", "--stable", "0s")
		assert.Equal(t, r.ExitCode, 0, r)
	})

	p.assertTreeUnchanged(before)
}

type started struct {
	*exec.Cmd
	out *bytes.Buffer
}

// start runs docker in the background.
func (p *project) start(extraEnv []string, args ...string) started {
	p.t.Helper()
	cmd := exec.Command("docker", args...)
	cmd.Dir = p.Dir
	cmd.Env = append(cleanEnv(), "DOCKER_CONFIG="+dockerConfig, "COMPOSE_PROJECT_NAME="+p.Name)
	cmd.Env = append(append(cmd.Env, p.Env...), extraEnv...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	assert.NilError(p.t, cmd.Start())
	p.t.Cleanup(func() { _ = cmd.Process.Kill() })
	return started{cmd, &out}
}

// inspectService applies a template to the service's container, "" if none.
func (p *project) inspectService(service, format string) string {
	r := p.docker("ps", "-aq", "--filter", "label=com.docker.compose.project="+p.Name, "--filter", "label=com.docker.compose.service="+service)
	id := strings.TrimSpace(r.Stdout)
	if id == "" {
		return ""
	}
	return strings.TrimSpace(p.docker("inspect", "-f", format, id).Stdout)
}
