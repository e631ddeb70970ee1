package safety

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"

	"github.com/picasoft/docker-picatest/internal/exitcode"
)

// lockHelperEnv, set to a lock directory, makes TestLockHelperProcess take
// the lock of project "pad" on daemon "daemon-1" there and sleep.
const lockHelperEnv = "PICATEST_TEST_LOCK_HELPER_DIR"

func testHolder(user string) lockInfo {
	return lockInfo{User: user, PID: 4242, Host: "host-a", Command: "docker picatest up", Since: time.Now().Add(-90 * time.Second)}
}

func TestLockSecondWaitsThenReportsTheHolder(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "locks")
	ctx := context.Background()

	release, err := acquireLock(ctx, dir, "daemon-1", "pad", time.Second, testHolder("alice"))
	assert.NilError(t, err)

	start := time.Now()
	_, err = acquireLock(ctx, dir, "daemon-1", "pad", 300*time.Millisecond, testHolder("bob"))
	elapsed := time.Since(start)
	assert.Equal(t, exitcode.Of(err), exitcode.Refused)
	assert.Assert(t, elapsed >= 300*time.Millisecond, "gave up after %s", elapsed)
	assert.Assert(t, elapsed < 3*time.Second, "gave up after %s", elapsed)
	msg := err.Error()
	for _, want := range []string{"project pad is locked by alice", "(pid 4242, `docker picatest up`)", " since ", "(1m30s ago)", "wait for it to finish, or check with `docker picatest status`"} {
		assert.Check(t, is.Contains(msg, want))
	}
	assert.Check(t, !strings.Contains(msg, "host-a"), "same host need not be named: %s", msg)

	// Another project, or the same project on another daemon, is not locked.
	r2, err := acquireLock(ctx, dir, "daemon-1", "wiki", 0, testHolder("bob"))
	assert.NilError(t, err)
	r2()
	r3, err := acquireLock(ctx, dir, "daemon-2", "pad", 0, testHolder("bob"))
	assert.NilError(t, err)
	r3()

	release()
	release() // idempotent
	r4, err := acquireLock(ctx, dir, "daemon-1", "pad", 0, testHolder("bob"))
	assert.NilError(t, err)
	defer r4()
}

func TestLockFileIsSharedAndHoldsTheHolder(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "locks")
	me := testHolder("alice")
	release, err := acquireLock(context.Background(), dir, "daemon-1", "pad", 0, me)
	assert.NilError(t, err)

	st, err := os.Stat(dir)
	assert.NilError(t, err)
	assert.Check(t, is.Equal(st.Mode()&(os.ModePerm|os.ModeSticky), 0o777|os.ModeSticky))

	path := filepath.Join(dir, "daemon-1-pad.lock")
	st, err = os.Stat(path)
	assert.NilError(t, err)
	assert.Check(t, is.Equal(st.Mode().Perm(), os.FileMode(0o666)))

	f, err := os.Open(path)
	assert.NilError(t, err)
	defer f.Close()
	got, ok := readLockInfo(f)
	assert.Assert(t, ok)
	assert.Check(t, is.Equal(got.User, "alice"))
	assert.Check(t, is.Equal(got.PID, 4242))
	assert.Check(t, is.Equal(got.Host, "host-a"))
	assert.Check(t, is.Equal(got.Command, "docker picatest up"))
	assert.Check(t, got.Since.Equal(me.Since))

	release()
	_, ok = readLockInfo(f)
	assert.Check(t, !ok, "holder left in the file after release")
}

func TestLockContextCancelWhileWaiting(t *testing.T) {
	dir := t.TempDir()
	release, err := acquireLock(context.Background(), dir, "d", "pad", 0, testHolder("alice"))
	assert.NilError(t, err)
	defer release()

	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(200*time.Millisecond, cancel)
	start := time.Now()
	_, err = acquireLock(ctx, dir, "d", "pad", 10*time.Second, testHolder("bob"))
	assert.Check(t, errors.Is(err, context.Canceled), "got %v", err)
	assert.Check(t, time.Since(start) < 5*time.Second)
}

func TestLockReleasedWhenTheHolderDies(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestLockHelperProcess$")
	cmd.Env = append(os.Environ(), lockHelperEnv+"="+dir)
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	assert.NilError(t, err)
	assert.NilError(t, cmd.Start())
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})

	locked := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if sc.Text() == "locked" {
				locked <- nil
				return
			}
		}
		locked <- fmt.Errorf("helper ended without taking the lock: %v", sc.Err())
	}()
	select {
	case err := <-locked:
		assert.NilError(t, err)
	case <-time.After(20 * time.Second):
		t.Fatal("helper did not take the lock in time")
	}

	_, err = acquireLock(context.Background(), dir, "daemon-1", "pad", 200*time.Millisecond, testHolder("alice"))
	assert.Equal(t, exitcode.Of(err), exitcode.Refused)
	assert.Check(t, is.Contains(err.Error(), "locked by helper (pid "+strconv.Itoa(cmd.Process.Pid)+", `docker picatest down`)"))

	assert.NilError(t, cmd.Process.Signal(os.Kill)) // kill -9
	_ = cmd.Wait()

	release, err := acquireLock(context.Background(), dir, "daemon-1", "pad", 2*time.Second, testHolder("alice"))
	assert.NilError(t, err)
	release()
}

// TestLockHelperProcess is not a test: run by TestLockReleasedWhenTheHolderDies
// as a child process, it takes a lock and sleeps until killed.
func TestLockHelperProcess(t *testing.T) {
	dir := os.Getenv(lockHelperEnv)
	if dir == "" {
		t.Skip("helper process of TestLockReleasedWhenTheHolderDies")
	}
	_, err := acquireLock(context.Background(), dir, "daemon-1", "pad", 0, lockInfo{
		User: "helper", PID: os.Getpid(), Command: "docker picatest down", Since: time.Now(),
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println("locked")
	time.Sleep(time.Minute)
	os.Exit(0)
}

func TestLockWithoutHolderInfo(t *testing.T) {
	dir := t.TempDir()
	release, err := acquireLock(context.Background(), dir, "d", "pad", 0, lockInfo{})
	assert.NilError(t, err)
	defer release()
	// Simulate a holder that has not written itself yet.
	assert.NilError(t, os.Truncate(filepath.Join(dir, "d-pad.lock"), 0))
	_, err = acquireLock(context.Background(), dir, "d", "pad", 0, lockInfo{})
	assert.Equal(t, exitcode.Of(err), exitcode.Refused)
	assert.Check(t, is.Contains(err.Error(), "project pad is locked by another docker picatest up/down; wait for it to finish"))
}

func TestLockPathIsSanitized(t *testing.T) {
	for _, tc := range []struct{ daemon, project, want string }{
		{"daemon-1", "pad", "daemon-1-pad.lock"},
		{"ABCD:EFGH:IJKL", "my_pad", "ABCD_EFGH_IJKL-my_pad.lock"},
		{"../..", "../etc/passwd", "_..-_etc_passwd.lock"},
		{"", "", "_-_.lock"},
		{"a b/c", "é", "a_b_c-_.lock"},
	} {
		got := lockPath("/locks", tc.daemon, tc.project)
		assert.Check(t, is.Equal(got, "/locks/"+tc.want), "daemon %q project %q", tc.daemon, tc.project)
		assert.Check(t, is.Equal(filepath.Dir(got), "/locks"))
	}
}

func TestLockDirIsNotADirectory(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	assert.NilError(t, os.WriteFile(file, nil, 0o644))
	_, err := acquireLock(context.Background(), file, "d", "pad", 0, lockInfo{})
	assert.ErrorContains(t, err, "not a directory")
}
