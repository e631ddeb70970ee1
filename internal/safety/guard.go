package safety

import (
	"context"
	"os"
	"strings"
	"time"

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

// Engine is the part of the moby client the safety rules need.
type Engine interface {
	infoClient
	containerLister
}

// Guard runs the safety rules of SPEC §5 before a command that
// starts, replaces or removes containers or volumes: test-host guard, lock,
// owner. The caller must call release when done.
func Guard(ctx context.Context, c Engine, testHosts []string, project, cmdline string, takeover bool) (release func(), err error) {
	daemon, err := checkTestHost(ctx, c, testHosts)
	if err != nil {
		return nil, err
	}
	me := testlabels.CurrentOwner()
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
	if _, err := checkOwner(ctx, c, project, me, takeover); err != nil {
		release()
		return nil, err
	}
	return release, nil
}

// CommandLine is the command as the user typed it, for the lock holder.
func CommandLine() string {
	return "docker " + strings.Join(os.Args[1:], " ")
}
