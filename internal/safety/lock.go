package safety

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/picasoft/docker-picatest/internal/exitcode"
)

// lockRetry is how often acquireLock tries again while the lock is held.
const lockRetry = 100 * time.Millisecond

// lockInfo describes who holds a project lock. It is written as JSON into
// the lock file once the lock is taken, so that a second up/down can say
// who it is waiting for.
type lockInfo struct {
	User    string    `json:"user"`
	PID     int       `json:"pid"`
	Host    string    `json:"host"`
	Command string    `json:"command"`
	Since   time.Time `json:"since"`
}

// acquireLock serialises the up/down of one project on one daemon (SPEC §5)
// with an advisory lock (flock) on <dir>/<daemonID>-<project>.lock, dir
// being shared by all the users of the machine (created mode 01777 when
// missing). The kernel drops the lock when the holder exits, however it
// exits (Ctrl-C, kill -9, crash), so a lock is never stale.
//
// When the lock is held, acquireLock tries again every 100 ms for up to
// wait, then refuses (exit 3) naming the holder and since when it holds
// the lock. A cancelled ctx while waiting returns ctx.Err().
//
// me is written into the lock file while the lock is held. release, which
// may be called more than once, drops the lock.
func acquireLock(ctx context.Context, dir, daemonID, project string, wait time.Duration, me lockInfo) (release func(), err error) {
	if err := ensureLockDir(dir); err != nil {
		return nil, err
	}
	path := lockPath(dir, daemonID, project)
	f, writable, err := openLockFile(path)
	if err != nil {
		return nil, err
	}

	var (
		deadline = time.Now().Add(wait)
		holder   *lockInfo // last holder read from the file
		timer    *time.Timer
	)
	for {
		err := flockRetry(f, syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			break
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			f.Close()
			return nil, fmt.Errorf("cannot lock %s: %w\nCheck that the file system of %s supports file locks, or remove the file", path, err, dir)
		}
		if h, ok := readLockInfo(f); ok {
			holder = &h
		}
		left := time.Until(deadline)
		if left <= 0 {
			f.Close()
			return nil, exitcode.With(exitcode.Refused, lockedError(project, holder, me.Host))
		}
		d := min(lockRetry, left)
		if timer == nil {
			timer = time.NewTimer(d)
			defer timer.Stop()
		} else {
			timer.Reset(d)
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, ctx.Err()
		case <-timer.C:
		}
	}

	if writable {
		// Best effort: the lock works without it, only the message of a
		// waiting up/down is poorer.
		_ = writeLockInfo(f, me)
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			if writable {
				_ = f.Truncate(0)
			}
			_ = flockRetry(f, syscall.LOCK_UN)
			_ = f.Close()
		})
	}, nil
}

// flockRetry calls flock(2), retrying when interrupted by a signal.
func flockRetry(f *os.File, how int) error {
	for {
		err := syscall.Flock(int(f.Fd()), how)
		if !errors.Is(err, syscall.EINTR) {
			return err
		}
	}
}

// ensureLockDir creates dir, if missing, with mode 01777 (world-writable,
// sticky) so that every user of the machine can lock in it.
func ensureLockDir(dir string) error {
	err := os.Mkdir(dir, 0o777)
	if errors.Is(err, os.ErrNotExist) {
		err = os.MkdirAll(dir, 0o777)
	}
	switch {
	case err == nil:
		// Mkdir is subject to the umask; Chmod is not.
		if err := os.Chmod(dir, 0o777|os.ModeSticky); err != nil {
			return fmt.Errorf("cannot make the lock directory %s shared: %w\nRun: chmod 1777 %s", dir, err, dir)
		}
		return nil
	case errors.Is(err, os.ErrExist):
		st, serr := os.Stat(dir)
		if serr != nil {
			return fmt.Errorf("cannot use the lock directory %s: %w", dir, serr)
		}
		if !st.IsDir() {
			return fmt.Errorf("cannot use the lock directory %s: it is not a directory\nRemove it, or set PICATEST_LOCK_DIR to another directory", dir)
		}
		return nil
	default:
		return fmt.Errorf("cannot create the lock directory %s: %w\nCreate it with: mkdir -m 1777 %s", dir, err, dir)
	}
}

// openLockFile opens (creating it mode 0666 if needed) the lock file at path.
// A file created by another user without write permission for us is opened
// read-only: flock works on it, only the holder cannot be written.
func openLockFile(path string) (f *os.File, writable bool, err error) {
	f, err = os.OpenFile(path, os.O_RDWR|os.O_CREATE|syscall.O_NOFOLLOW|syscall.O_CLOEXEC, 0o666)
	if err == nil {
		// The umask applies to OpenFile but not to Chmod. Only the owner can
		// chmod: on someone else's file the error is expected.
		if st, serr := f.Stat(); serr == nil && st.Mode().Perm() != 0o666 {
			_ = f.Chmod(0o666)
		}
		return f, true, nil
	}
	if errors.Is(err, os.ErrPermission) {
		if ro, rerr := os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_CLOEXEC, 0); rerr == nil {
			return ro, false, nil
		}
	}
	return nil, false, fmt.Errorf("cannot open the lock file %s: %w\nAsk its owner to remove it or make it writable (chmod 666 %s)", path, err, path)
}

// lockPath is <dir>/<daemonID>-<project>.lock, both parts sanitised.
func lockPath(dir, daemonID, project string) string {
	return filepath.Join(dir, sanitizeLockName(daemonID)+"-"+sanitizeLockName(project)+".lock")
}

// sanitizeLockName keeps the ASCII letters, digits, '.', '_' and '-' of s
// and replaces anything else (path separators, ':' of daemon IDs, spaces...)
// by '_', so that the result is a single, portable file name component.
func sanitizeLockName(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '_', r == '-', r == '.':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	out := strings.TrimLeft(b.String(), ".")
	if out == "" {
		return "_"
	}
	return out
}

// writeLockInfo replaces the content of f with info as JSON.
func writeLockInfo(f *os.File, info lockInfo) error {
	data, err := json.Marshal(info)
	if err != nil {
		return err
	}
	if err := f.Truncate(0); err != nil {
		return err
	}
	if _, err := f.WriteAt(append(data, '\n'), 0); err != nil {
		return err
	}
	return nil
}

// readLockInfo reads the holder from f. ok is false when the file is empty
// or being written.
func readLockInfo(f *os.File) (info lockInfo, ok bool) {
	data, err := io.ReadAll(io.NewSectionReader(f, 0, 1<<16))
	if err != nil || len(data) == 0 {
		return info, false
	}
	if err := json.Unmarshal(data, &info); err != nil {
		return info, false
	}
	return info, true
}

// lockedError is the refusal when the lock is still held after the wait.
func lockedError(project string, holder *lockInfo, myHost string) error {
	const next = "wait for it to finish, or check with `docker picatest status`"
	if holder == nil {
		return fmt.Errorf("project %s is locked by another docker picatest up/down; %s", project, next)
	}
	who := holder.User
	if who == "" {
		who = "an unknown user"
	}
	var details []string
	if holder.PID > 0 {
		pid := fmt.Sprintf("pid %d", holder.PID)
		if holder.Host != "" && holder.Host != myHost {
			pid += " on " + holder.Host
		}
		details = append(details, pid)
	}
	if holder.Command != "" {
		details = append(details, "`"+holder.Command+"`")
	}
	msg := "project " + project + " is locked by " + who
	if len(details) > 0 {
		msg += " (" + strings.Join(details, ", ") + ")"
	}
	if !holder.Since.IsZero() {
		msg += fmt.Sprintf(" since %s (%s ago)", Time(holder.Since), Ago(holder.Since))
	}
	return errors.New(msg + "; " + next)
}
