package safety

import (
	"context"
	"io"
	"os"
	"time"

	"github.com/picasoft/docker-picatest/transforms/testlabels"
)

// LockEngine is the part of the moby client the lock needs.
type LockEngine = lockEngine

// LockProject takes the lock of project on the daemon, the one up and down
// take (SPEC §5), without their test-host and owner rules: push holds it
// while it checks what was tested and uploads it, so that no up replaces
// the images meanwhile. breakLock breaks the lock of a holder this client
// cannot check. The caller must call release when done.
func LockProject(ctx context.Context, c LockEngine, project, command string, breakLock bool, log io.Writer) (release func(), err error) {
	host, _ := os.Hostname()
	holder := Holder{
		Project: project, User: testlabels.CurrentOwner(), Host: host, PID: os.Getpid(),
		Command: command, Since: time.Now(), Client: clientID(),
	}
	holder.ProcessStart, _ = processStart(holder.PID)
	if log == nil {
		log = io.Discard
	}
	l := &lock{c: c, me: holder, wait: lockWait(), breakLock: breakLock, alive: processAlive(holder), log: log, flag: BreakLockFlag}
	return l.acquire(ctx)
}
