package safety

import (
	"context"
	"io"
	"os"
	"strings"
	"time"

	"github.com/picasoft/docker-picatest/transforms/testlabels"
)

// lockWait is how long a second up/down waits for the lock
// (PICATEST_LOCK_WAIT overrides it, for tests).
func lockWait() time.Duration {
	if d, err := time.ParseDuration(os.Getenv("PICATEST_LOCK_WAIT")); err == nil {
		return d
	}
	return 10 * time.Second
}

// BreakLockFlag is the flag of up and down that breaks a stale lock.
const BreakLockFlag = "--break-lock"

// Engine is the part of the moby client the safety rules need.
type Engine interface {
	infoClient
	containerLister
	lockEngine
}

// GuardOptions are the inputs of Guard.
type GuardOptions struct {
	// TestHosts are the test-host globs, TestHostsFrom where they come
	// from (settings.Settings.TestHostsFrom).
	TestHosts     []string
	TestHostsFrom string
	// OnTestHost, when set, is called with why the daemon is a test host,
	// once it is known to be one and before the lock is taken.
	OnTestHost func(TestHost)
	// Project is the Compose project name.
	Project string
	// Command is the command line, shown to whoever waits for the lock
	// (CommandLine).
	Command string
	// Takeover replaces a deployment owned by someone else.
	Takeover bool
	// BreakLock removes a lock whose holder this client cannot check.
	BreakLock bool
	// Log receives what the lock does besides taking it (stderr).
	Log io.Writer
}

// Guard runs the safety rules of SPEC §5 before a command that
// starts, replaces or removes containers or volumes, in this order: the
// test-host guard, which only reads, so that a daemon that is not a test
// host gets nothing written (neither the lock image nor the lock
// container); the lock; the owner rule, whose refusal releases the lock.
// The caller must call release when done.
func Guard(ctx context.Context, c Engine, o GuardOptions) (release func(), err error) {
	h, err := CheckTestHost(ctx, c, o.TestHosts, o.TestHostsFrom)
	if err != nil {
		return nil, err
	}
	if o.OnTestHost != nil {
		o.OnTestHost(h)
	}
	me := testlabels.CurrentOwner()
	host, _ := os.Hostname()
	holder := Holder{
		Project: o.Project,
		User:    me,
		Host:    host,
		PID:     os.Getpid(),
		Command: o.Command,
		Since:   time.Now(),
		Client:  clientID(),
	}
	holder.ProcessStart, _ = processStart(holder.PID)
	log := o.Log
	if log == nil {
		log = io.Discard
	}
	l := &lock{c: c, me: holder, wait: lockWait(), breakLock: o.BreakLock, alive: processAlive(holder), log: log, flag: BreakLockFlag}
	release, err = l.acquire(ctx)
	if err != nil {
		return nil, err
	}
	if _, err := checkOwner(ctx, c, o.Project, me, o.Takeover); err != nil {
		release()
		return nil, err
	}
	return release, nil
}

// CommandLine is the command as the user typed it, for the lock holder.
func CommandLine() string {
	return "docker " + strings.Join(os.Args[1:], " ")
}
