package plugin

import (
	"context"
	"os"
	"time"
)

// startPPID is the parent of this process when it started: the docker CLI,
// which runs a plugin as its child.
var startPPID = os.Getppid()

// orphanCheck is how often cancelWhenOrphaned looks at the parent.
const orphanCheck = 500 * time.Millisecond

// cancelWhenOrphaned returns a context cancelled, as an interruption is,
// when the process that started this one has gone: getppid() no longer
// returns ppid (the orphan was re-parented to init or a subreaper).
//
// The docker CLI does not always tell its plugin that it stops: since
// docker 25 it closes the plugin socket, which cancels the command's
// context, but docker 20.10 (Debian 12's) exits at its third SIGINT/SIGTERM
// without a word, and a CLI killed tells nothing. An orphaned plugin would
// go on changing the test deployment behind the user's back, or wait for
// minutes, with nobody to read its report.
func cancelWhenOrphaned(parent context.Context, ppid int, getppid func() int, every time.Duration) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(parent)
	if ppid <= 1 {
		// Started by init (or re-parented already before we looked): there
		// is no parent to watch.
		return ctx, cancel
	}
	go func() {
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			if getppid() != ppid {
				cancel()
				return
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	return ctx, cancel
}
