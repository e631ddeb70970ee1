package e2e

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"
	"gotest.tools/v3/poll"
)

// TestLockHiddenProc: a holder of the lock that this client cannot see
// (its /proc mounted with hidepid=2, as a user other than the holder's)
// is not taken for dead: down waits, then refuses (exit 3) naming the
// holder and --break-lock, and the lock is kept.
func TestLockHiddenProc(t *testing.T) {
	p := newProject(t)
	lock := "picatest-lock-" + p.Name
	holder := p.start(nil, "picatest", "up", "--yes", "--no-smoke", "--stable", "3m", "--wait-timeout", "60s", "--progress", "plain")
	poll.WaitOn(t, func(poll.LogT) poll.Result {
		if p.docker("container", "inspect", lock).ExitCode == 0 {
			return poll.Success()
		}
		if holder.ProcessState != nil {
			return poll.Error(fmt.Errorf("up ended: %s", holder.Output()))
		}
		return poll.Continue("waiting for up to take the lock")
	}, poll.WithTimeout(2*time.Minute), poll.WithDelay(200*time.Millisecond))

	// The other client: user nobody in the docker group, its own /proc
	// with hidepid=2 (a mount namespace of its own: the machine's /proc
	// is left alone), reading the project and the plugin as nobody can.
	config := t.TempDir()
	for _, d := range []string{config, filepath.Join(config, "cli-plugins"), filepath.Dir(p.Dir), filepath.Dir(filepath.Dir(p.Dir))} {
		assert.NilError(t, os.MkdirAll(d, 0o755))
		assert.NilError(t, os.Chmod(d, 0o755))
	}
	assert.NilError(t, copyFileMode(filepath.Join(p.pluginsDir(), "docker-picatest"), filepath.Join(config, "cli-plugins", "docker-picatest"), 0o755))
	assert.NilError(t, os.WriteFile(filepath.Join(config, "config.json"), []byte("{}\n"), 0o644))
	gid := dockerSocketGroup(t)
	hidden := func(args ...string) result {
		script := `mount -t proc -o hidepid=2 proc /proc && exec setpriv --reuid=65534 --regid=65534 --groups=` + gid + ` docker "$@"`
		cmd := p.command(context.Background(), []string{"DOCKER_CONFIG=" + config, "HOME=" + config, "PICATEST_LOCK_WAIT=2s"},
			"unshare", append([]string{"--mount", "--propagation", "private", "sh", "-c", script, "sh"}, args...)...)
		return runCommand(t, cmd)
	}
	if r := hidden("picatest", "version"); r.ExitCode != 0 {
		t.Fatalf("the hidden-/proc client cannot run picatest: %s", r)
	}
	r := hidden("picatest", "down")
	assert.Check(t, is.Equal(r.ExitCode, 3), r)
	assert.Check(t, is.Contains(r.Stderr, "project "+p.Name+" is locked by e2e-user"), r)
	assert.Check(t, is.Contains(r.Stderr, "run this command again with --break-lock to break it"), r)
	assert.Check(t, !strings.Contains(r.Stderr, "its process is gone"), "the live holder was taken for dead: %s", r)
	assert.Check(t, is.Equal(p.docker("container", "inspect", lock).ExitCode, 0), "the lock is kept")
	assert.Check(t, holder.ProcessState == nil, "up still runs: %s", holder.Output())
	assert.Check(t, is.Equal(p.countContainers(), 1), "the deployment is kept")

	assert.NilError(t, holder.Process.Signal(syscall.SIGINT))
	_ = holder.Wait()
}

// dockerSocketGroup is the group of the engine's unix socket, as a number.
func dockerSocketGroup(t *testing.T) string {
	t.Helper()
	network, address := engineEndpoint(t)
	if network != "unix" {
		t.Skip("needs the engine on a unix socket, to give its group to the other user")
	}
	st, err := os.Stat(address)
	assert.NilError(t, err)
	return fmt.Sprint(st.Sys().(*syscall.Stat_t).Gid)
}

// copyFileMode copies src to dst with mode perm.
func copyFileMode(src, dst string, perm os.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, perm)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
