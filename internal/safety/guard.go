package plugin

import (
	"context"
	"os"
	"os/user"
	"strings"
	"time"

	"github.com/docker/cli/cli/command"

	"github.com/picasoft/docker-picatest/internal/settings"
	"github.com/picasoft/docker-picatest/transforms/testlabels"
)

// lockDir is where the per-project lock files live, shared by the users
// of the machine (PICATEST_LOCK_DIR overrides it, for tests).
func lockDir() string {
	if d := os.Getenv("PICATEST_LOCK_DIR"); d != "" {
		return d
	}
	return "/tmp/picatest-locks"
}

// lockWait is how long a second up/down waits for the lock
// (PICATEST_LOCK_WAIT overrides it, for tests).
func lockWait() time.Duration {
	if d, err := time.ParseDuration(os.Getenv("PICATEST_LOCK_WAIT")); err == nil {
		return d
	}
	return 10 * time.Second
}

// guardDestructive runs the safety rules of SPEC §5 before a command that
// starts, replaces or removes containers or volumes: test-host guard, lock,
// owner. The caller must call release when done.
func guardDestructive(ctx context.Context, dockerCli command.Cli, settings settings.Settings, project, cmdline string, takeover bool) (release func(), err error) {
	apiClient := dockerCli.Client()
	daemon, err := checkTestHost(ctx, apiClient, settings.TestHosts)
	if err != nil {
		return nil, err
	}
	me := currentOwner()
	host, _ := os.Hostname()
	release, err = acquireLock(ctx, lockDir(), daemon, project, lockWait(), lockInfo{
		User:    me,
		PID:     os.Getpid(),
		Host:    host,
		Command: cmdline,
		Since:   time.Now(),
	})
	if err != nil {
		return nil, err
	}
	if _, err := checkOwner(ctx, apiClient, project, me, takeover); err != nil {
		release()
		return nil, err
	}
	return release, nil
}

// commandLine is the command as the user typed it, for the lock holder.
func commandLine() string {
	return "docker " + strings.Join(os.Args[1:], " ")
}

// currentOwner is the owner of a test run: SUDO_USER, else USER, else the
// account running the plugin (cron and some shells set neither).
func currentOwner() string {
	if o := testlabels.OwnerFromEnv(os.Getenv); o != "" {
		return o
	}
	if u, err := user.Current(); err == nil {
		return u.Username
	}
	return ""
}
