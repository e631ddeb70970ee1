package safety

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"testing/fstest"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"

	"github.com/picasoft/docker-picatest/internal/exitcode"
)

// fakeLockEngine keeps containers by name, as the engine does: a second
// create of a name is a conflict, a create from a missing image not found.
type fakeLockEngine struct {
	mu         sync.Mutex
	containers map[string]container.Summary // by name
	image      bool
	imports    int
	nextID     int
	removed    []string
	removeErr  error
	// onInspect runs before each inspect (the holder goes away...),
	// afterRemove after each remove (someone else takes the lock...).
	onInspect, afterRemove func(f *fakeLockEngine)
}

func newFakeLockEngine() *fakeLockEngine {
	return &fakeLockEngine{containers: map[string]container.Summary{}}
}

func (f *fakeLockEngine) ContainerCreate(ctx context.Context, o client.ContainerCreateOptions) (client.ContainerCreateResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return client.ContainerCreateResult{}, err
	}
	if o.Config.Image != LockImage || len(o.Config.Cmd) == 0 {
		return client.ContainerCreateResult{}, fmt.Errorf("unexpected config %+v", o.Config)
	}
	if _, ok := f.containers[o.Name]; ok {
		return client.ContainerCreateResult{}, fmt.Errorf("Conflict. The container name %q is already in use: %w", o.Name, cerrdefs.ErrConflict)
	}
	if !f.image {
		return client.ContainerCreateResult{}, fmt.Errorf("No such image: %s: %w", LockImage, cerrdefs.ErrNotFound)
	}
	f.nextID++
	id := fmt.Sprintf("id%d", f.nextID)
	f.containers[o.Name] = container.Summary{ID: id, Names: []string{"/" + o.Name}, Labels: o.Config.Labels}
	return client.ContainerCreateResult{ID: id}, nil
}

func (f *fakeLockEngine) ContainerInspect(_ context.Context, name string, _ client.ContainerInspectOptions) (client.ContainerInspectResult, error) {
	if f.onInspect != nil {
		f.onInspect(f)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	c, ok := f.containers[name]
	if !ok {
		return client.ContainerInspectResult{}, fmt.Errorf("No such container: %s: %w", name, cerrdefs.ErrNotFound)
	}
	return client.ContainerInspectResult{Container: container.InspectResponse{ID: c.ID, Config: &container.Config{Image: c.Image, Labels: c.Labels},
		State: &container.State{Status: c.State}}}, nil
}

func (f *fakeLockEngine) ContainerRemove(_ context.Context, id string, _ client.ContainerRemoveOptions) (client.ContainerRemoveResult, error) {
	if f.afterRemove != nil {
		defer f.afterRemove(f)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.removeErr != nil {
		return client.ContainerRemoveResult{}, f.removeErr
	}
	for name, c := range f.containers {
		if c.ID == id {
			delete(f.containers, name)
			f.removed = append(f.removed, id)
			return client.ContainerRemoveResult{}, nil
		}
	}
	return client.ContainerRemoveResult{}, fmt.Errorf("No such container: %s: %w", id, cerrdefs.ErrNotFound)
}

func (f *fakeLockEngine) ImageImport(_ context.Context, src client.ImageImportSource, ref string, o client.ImageImportOptions) (client.ImageImportResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if ref+":"+o.Tag != LockImage || src.SourceName != "-" {
		return nil, fmt.Errorf("unexpected import of %s:%s from %q", ref, o.Tag, src.SourceName)
	}
	if _, err := io.ReadAll(src.Source); err != nil {
		return nil, err
	}
	f.image = true
	f.imports++
	return io.NopCloser(strings.NewReader(`{"status":"sha256:0123"}` + "\n")), nil
}

func (f *fakeLockEngine) ContainerList(_ context.Context, o client.ContainerListOptions) (client.ContainerListResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var res client.ContainerListResult
	for _, c := range f.containers {
		if _, ok := c.Labels[LockLabel]; ok {
			res.Items = append(res.Items, c)
		}
	}
	return res, nil
}

// holdAs puts the lock of project in the fake as held by h.
func (f *fakeLockEngine) holdAs(h Holder) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.nextID++
	f.containers[LockPrefix+h.Project] = container.Summary{ID: fmt.Sprintf("held%d", f.nextID), Labels: h.labels()}
}

func (f *fakeLockEngine) held(project string) (Holder, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, ok := f.containers[LockPrefix+project]
	return holderFromLabels(c.ID, c.Labels), ok
}

// testHolder is a holder of project pad on host-a.
func testHolder(user string) Holder {
	return Holder{Project: "pad", User: user, PID: 4242, Host: "host-a", Command: "docker picatest up",
		Since: time.Now().Add(-90 * time.Second), Client: "boot-a/pid:[1]", ProcessStart: "100"}
}

// testLock is the lock of me, whose holders are alive unless dead names
// them (by user), and unknown when on another host.
func testLock(f *fakeLockEngine, me Holder, wait time.Duration, dead ...string) (*lock, *bytes.Buffer) {
	var log bytes.Buffer
	return &lock{c: f, me: me, wait: wait, log: &log, flag: BreakLockFlag, alive: func(h Holder) (bool, bool) {
		if h.Host != me.Host {
			return false, false
		}
		for _, d := range dead {
			if h.User == d {
				return false, true
			}
		}
		return true, true
	}}, &log
}

func TestLockSecondWaitsThenReportsTheHolder(t *testing.T) {
	f := newFakeLockEngine()
	ctx := context.Background()
	alice := testHolder("alice")
	l, _ := testLock(f, alice, 0)
	release, err := l.acquire(ctx)
	assert.NilError(t, err)
	assert.Check(t, is.Equal(f.imports, 1), "the lock image is imported on first use")
	got, ok := f.held("pad")
	assert.Assert(t, ok)
	assert.Check(t, got.Since.Equal(alice.Since), "since %s, want %s", got.Since, alice.Since)
	got.ID, got.Since = "", alice.Since
	assert.Check(t, is.DeepEqual(got, alice))

	bob := testHolder("bob")
	l2, log := testLock(f, bob, 300*time.Millisecond)
	start := time.Now()
	_, err = l2.acquire(ctx)
	elapsed := time.Since(start)
	assert.Equal(t, exitcode.Of(err), exitcode.Refused)
	assert.Check(t, elapsed >= 300*time.Millisecond, "gave up after %s", elapsed)
	msg := err.Error()
	for _, want := range []string{"project pad is locked by alice", "(pid 4242 on host-a, `docker picatest up`)", " since ", "(1m30s ago)", "wait for it to finish, or check with `docker picatest status --all`"} {
		assert.Check(t, is.Contains(msg, want))
	}
	assert.Check(t, !strings.Contains(msg, "--break-lock"), "a live holder's lock is not to be broken: %s", msg)
	assert.Check(t, is.Equal(log.String(), "picatest: lock: project pad is locked by alice (pid 4242 on host-a, `docker picatest up`): waiting up to 300ms\n"))

	// Another project is not locked.
	wiki := bob
	wiki.Project = "wiki"
	l3, _ := testLock(f, wiki, 0)
	r3, err := l3.acquire(ctx)
	assert.NilError(t, err)
	r3()

	release()
	release() // idempotent
	_, ok = f.held("pad")
	assert.Check(t, !ok, "released")
	r4, err := l2.acquire(ctx)
	assert.NilError(t, err)
	r4()
	assert.Check(t, is.Equal(f.imports, 1), "the lock image is reused")
}

func TestLockWaitsUntilReleased(t *testing.T) {
	f := newFakeLockEngine()
	f.image = true
	f.holdAs(testHolder("alice"))
	inspects := 0
	f.onInspect = func(f *fakeLockEngine) {
		inspects++
		if inspects == 3 {
			f.mu.Lock()
			delete(f.containers, LockPrefix+"pad")
			f.mu.Unlock()
		}
	}
	l, _ := testLock(f, testHolder("bob"), 10*time.Second)
	release, err := l.acquire(context.Background())
	assert.NilError(t, err)
	defer release()
	h, _ := f.held("pad")
	assert.Check(t, is.Equal(h.User, "bob"))
}

func TestLockDeadHolderIsFreed(t *testing.T) {
	f := newFakeLockEngine()
	f.image = true
	f.holdAs(testHolder("alice"))
	l, log := testLock(f, testHolder("bob"), 0, "alice")
	release, err := l.acquire(context.Background())
	assert.NilError(t, err)
	defer release()
	h, _ := f.held("pad")
	assert.Check(t, is.Equal(h.User, "bob"))
	assert.Check(t, is.Equal(log.String(), "picatest: lock: freeing the lock of project pad held by alice (pid 4242 on host-a, `docker picatest up`): its process is gone\n"))
}

func TestLockOtherHostIsStale(t *testing.T) {
	f := newFakeLockEngine()
	f.image = true
	laptop := testHolder("alice")
	laptop.Host = "laptop"
	f.holdAs(laptop)

	l, _ := testLock(f, testHolder("bob"), 0)
	_, err := l.acquire(context.Background())
	assert.Equal(t, exitcode.Of(err), exitcode.Refused)
	assert.Check(t, is.Contains(err.Error(), "project pad is locked by alice (pid 4242 on laptop, `docker picatest up`) since "))
	assert.Check(t, is.Contains(err.Error(), "the lock is stale: run this command again with --break-lock to break it"))

	l.breakLock = true
	var log bytes.Buffer
	l.log = &log
	release, err := l.acquire(context.Background())
	assert.NilError(t, err)
	defer release()
	h, _ := f.held("pad")
	assert.Check(t, is.Equal(h.User, "bob"))
	assert.Check(t, is.Equal(log.String(), "picatest: lock: breaking the lock of project pad held by alice (pid 4242 on laptop, `docker picatest up`) (--break-lock)\n"))
}

func TestLockBreakOnlyOnce(t *testing.T) {
	// The lock is broken, then someone else takes it first: theirs is not
	// broken too.
	f := newFakeLockEngine()
	f.image = true
	laptop := testHolder("alice")
	laptop.Host = "laptop"
	f.holdAs(laptop)
	carol := laptop
	carol.User = "carol"
	f.afterRemove = func(f *fakeLockEngine) {
		f.afterRemove = nil
		f.holdAs(carol)
	}
	l, _ := testLock(f, testHolder("bob"), 300*time.Millisecond)
	l.breakLock = true
	_, err := l.acquire(context.Background())
	assert.Equal(t, exitcode.Of(err), exitcode.Refused)
	assert.Check(t, is.Contains(err.Error(), "locked by carol"))
	assert.Check(t, is.Len(f.removed, 1))
}

func TestLockBreakDoesNotBreakALiveHolder(t *testing.T) {
	f := newFakeLockEngine()
	f.image = true
	f.holdAs(testHolder("alice"))
	l, _ := testLock(f, testHolder("bob"), 0)
	l.breakLock = true
	_, err := l.acquire(context.Background())
	assert.Equal(t, exitcode.Of(err), exitcode.Refused)
	assert.Check(t, is.Contains(err.Error(), "--break-lock breaks only the lock of a command that no longer runs"))
	assert.Check(t, is.Len(f.removed, 0))
}

func TestLockContextCancelWhileWaiting(t *testing.T) {
	f := newFakeLockEngine()
	f.image = true
	f.holdAs(testHolder("alice"))
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(200*time.Millisecond, cancel)
	l, _ := testLock(f, testHolder("bob"), 10*time.Second)
	start := time.Now()
	_, err := l.acquire(ctx)
	assert.Check(t, errors.Is(err, context.Canceled), "got %v", err)
	assert.Check(t, time.Since(start) < 5*time.Second)
}

func TestLockReleaseAfterCancel(t *testing.T) {
	// Ctrl-C cancels the command's context: the release still removes the
	// lock container.
	f := newFakeLockEngine()
	ctx, cancel := context.WithCancel(context.Background())
	l, _ := testLock(f, testHolder("alice"), 0)
	release, err := l.acquire(ctx)
	assert.NilError(t, err)
	cancel()
	release()
	_, ok := f.held("pad")
	assert.Check(t, !ok, "released after the context was cancelled")
}

func TestLockReleaseFailureIsSaid(t *testing.T) {
	f := newFakeLockEngine()
	l, log := testLock(f, testHolder("alice"), 0)
	release, err := l.acquire(context.Background())
	assert.NilError(t, err)
	f.removeErr = errors.New("connection refused")
	release()
	assert.Check(t, is.Contains(log.String(), "picatest: warning: the lock of project pad was not released: cannot remove the lock container picatest-lock-pad"))
	assert.Check(t, is.Contains(log.String(), "docker rm -f picatest-lock-pad"))
}

func TestLockOtherErrors(t *testing.T) {
	f := &failingCreate{fakeLockEngine: newFakeLockEngine(), err: errors.New("permission denied")}
	l, _ := testLock(f.fakeLockEngine, testHolder("alice"), 0)
	l.c = f
	_, err := l.acquire(context.Background())
	assert.ErrorContains(t, err, "cannot take the lock of project pad (container picatest-lock-pad): permission denied")
	assert.Check(t, is.Contains(err.Error(), "Check that `docker create` works"))
}

func TestLockCancelledDuringCreate(t *testing.T) {
	// Ctrl-C while the engine creates the lock: the create is not
	// interrupted (the engine would finish it unseen), and the lock it
	// made is removed.
	f := newFakeLockEngine()
	f.image = true
	ctx, cancel := context.WithCancel(context.Background())
	l, _ := testLock(f, testHolder("alice"), 0)
	l.c = &cancelledCreate{fakeLockEngine: f, cancel: cancel}
	_, err := l.acquire(ctx)
	assert.Check(t, errors.Is(err, context.Canceled), "got %v", err)
	_, held := f.held("pad")
	assert.Check(t, !held, "the lock created during the interrupted create is removed")

	// Someone else's lock is left alone.
	f.holdAs(testHolder("bob"))
	ctx, cancel = context.WithCancel(context.Background())
	l.c = &cancelledCreate{fakeLockEngine: f, cancel: cancel}
	_, err = l.acquire(ctx)
	assert.Check(t, errors.Is(err, context.Canceled), "got %v", err)
	h, held := f.held("pad")
	assert.Check(t, held && h.User == "bob", "bob's lock is kept")
}

// cancelledCreate cancels the command's context (Ctrl-C) while the
// engine creates the container: the create itself goes on, with its own
// context, and answers.
type cancelledCreate struct {
	*fakeLockEngine
	cancel context.CancelFunc
}

func (c *cancelledCreate) ContainerCreate(ctx context.Context, o client.ContainerCreateOptions) (client.ContainerCreateResult, error) {
	c.cancel()
	return c.fakeLockEngine.ContainerCreate(ctx, o)
}

type failingCreate struct {
	*fakeLockEngine
	err error
}

func (f *failingCreate) ContainerCreate(context.Context, client.ContainerCreateOptions) (client.ContainerCreateResult, error) {
	return client.ContainerCreateResult{}, f.err
}

func TestLocks(t *testing.T) {
	f := newFakeLockEngine()
	f.image = true
	wiki := testHolder("bob")
	wiki.Project = "wiki"
	f.holdAs(wiki)
	f.holdAs(testHolder("alice"))
	locks, err := Locks(context.Background(), f)
	assert.NilError(t, err)
	assert.Assert(t, is.Len(locks, 2))
	assert.Check(t, is.Equal(locks[0].Project, "pad"))
	assert.Check(t, is.Equal(locks[0].User, "alice"))
	assert.Check(t, is.Equal(locks[1].Project, "wiki"))
	assert.Check(t, is.Equal(locks[1].PID, 4242))
}

// TestLockNeverRemovesAContainerThatIsNotTheLock: a container named as
// the lock but without the lock's labels (or the lock of another project)
// is refused (exit 3) and named, with or without --break-lock, and never
// removed.
func TestLockNeverRemovesAContainerThatIsNotTheLock(t *testing.T) {
	for _, tc := range []struct {
		name   string
		labels map[string]string
		want   string
	}{
		{"no labels", map[string]string{"com.docker.compose.project": "web"}, "container picatest-lock-pad (image nginx:1.25, running, Compose project web) has the name of the lock of project pad but is not that lock (it lacks the label net.picasoft.picatest.lock=pad)"},
		{"another project's lock", map[string]string{LockLabel: "wiki", lockUser: "alice"}, "container picatest-lock-pad (image nginx:1.25, running, the lock of project wiki) has the name"},
	} {
		for _, breakLock := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s, break %v", tc.name, breakLock), func(t *testing.T) {
				f := newFakeLockEngine()
				f.image = true
				f.containers[LockPrefix+"pad"] = container.Summary{ID: "web1", Image: "nginx:1.25", State: "running", Labels: tc.labels}
				// Its holder, were it read, would be dead or unknown.
				l, _ := testLock(f, testHolder("bob"), time.Second, "")
				l.breakLock = breakLock
				start := time.Now()
				_, err := l.acquire(context.Background())
				assert.Equal(t, exitcode.Of(err), exitcode.Refused)
				assert.Check(t, is.Contains(err.Error(), tc.want))
				assert.Check(t, is.Contains(err.Error(), "picatest does not remove it, --break-lock or not"))
				assert.Check(t, is.Contains(err.Error(), "docker rm picatest-lock-pad"))
				assert.Check(t, is.Len(f.removed, 0))
				assert.Check(t, time.Since(start) < time.Second, "refused at once, not after the wait")
			})
		}
	}
}

func TestLockHolderLabelsAreEscaped(t *testing.T) {
	f := newFakeLockEngine()
	f.image = true
	h := testHolder("mallory\x1b[2J\x1b]52;c;eA==\x07")
	h.Command = "docker picatest up\nOK: project pad is up"
	f.holdAs(h)
	l, log := testLock(f, testHolder("bob"), 10*time.Millisecond)
	_, err := l.acquire(context.Background())
	assert.Equal(t, exitcode.Of(err), exitcode.Refused)
	for _, out := range []string{err.Error(), log.String()} {
		assert.Check(t, !strings.Contains(out, "\x1b"), out)
		assert.Check(t, is.Contains(out, `mallory\x1b[2J\x1b]52;c;eA==\x07`))
		assert.Check(t, is.Contains(out, "`docker picatest up\\x0aOK: project pad is up`"))
	}
}

// deniedFS answers fs.ErrPermission for the files of denied (the entries
// of a /proc mounted with hidepid=1: listed, not readable).
type deniedFS struct {
	fs.FS
	denied map[string]bool
}

func (d deniedFS) Open(name string) (fs.File, error) {
	if d.denied[name] {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrPermission}
	}
	return d.FS.Open(name)
}

// TestProcAliveHiddenProc: under a /proc that hides the processes of
// other users, an absent pid is not proof of death: the holder is unknown
// (--break-lock breaks it), never dead (freed by itself).
func TestProcAliveHiddenProc(t *testing.T) {
	stat := func(state, start string) *fstest.MapFile {
		return &fstest.MapFile{Data: []byte("4242 (docker-picatest) " + state + " 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 " + start + " 20 21\n")}
	}
	defer func(f func() int) { getuid = f }(getuid)
	getuid = func() int { return 1000 }
	me := Holder{Host: "h", Client: "boot/pid:[1]", PID: 7}
	holder := Holder{Host: "h", Client: me.Client, PID: 4242, ProcessStart: "100"}
	for _, tc := range []struct {
		name         string
		proc         fs.FS
		alive, known bool
	}{
		{"plain /proc, alive", fstest.MapFS{"1/stat": stat("S", "1"), "4242/stat": stat("S", "100")}, true, true},
		{"plain /proc, gone", fstest.MapFS{"1/stat": stat("S", "1")}, false, true},
		{"plain /proc, zombie", fstest.MapFS{"1/stat": stat("S", "1"), "4242/stat": stat("Z", "100")}, false, true},
		{"plain /proc, pid reused", fstest.MapFS{"1/stat": stat("S", "1"), "4242/stat": stat("S", "555")}, false, true},
		{"hidepid=2: pid 1 hidden too", fstest.MapFS{"7/stat": stat("S", "9")}, false, false},
		{"hidepid=1: listed, not readable", deniedFS{fstest.MapFS{"1/stat": stat("S", "1")}, map[string]bool{"1/stat": true, "4242/stat": true}}, false, false},
		{"hidepid=1, gone", deniedFS{fstest.MapFS{}, map[string]bool{"1/stat": true}}, false, false},
		{"hidepid=2, pid 1 is ours (a container run as us)", fstest.MapFS{"1": {Mode: fs.ModeDir | 0o555, Sys: &syscall.Stat_t{Uid: 1000}}, "1/stat": stat("S", "1")}, false, false},
		{"pid 1 is another user's", fstest.MapFS{"1": {Mode: fs.ModeDir | 0o555, Sys: &syscall.Stat_t{Uid: 0}}, "1/stat": stat("S", "1")}, false, true},
	} {
		a, k := procAlive(me, tc.proc)(holder)
		assert.Check(t, is.Equal(a, tc.alive), tc.name)
		assert.Check(t, is.Equal(k, tc.known), tc.name)
	}
}

func TestProcessAlive(t *testing.T) {
	me := Holder{Host: "h", Client: clientID(), PID: os.Getpid()}
	me.ProcessStart, _ = processStart(me.PID)
	if me.Client == "" {
		t.Skip("needs /proc (Linux)")
	}
	alive := processAlive(me)
	for _, tc := range []struct {
		name         string
		h            Holder
		alive, known bool
	}{
		{"myself", me, true, true},
		{"another host", Holder{Host: "other", Client: me.Client, PID: me.PID, ProcessStart: me.ProcessStart}, false, false},
		{"another kernel", Holder{Host: "h", Client: "other-boot/pid:[1]", PID: me.PID}, false, false},
		{"no client id", Holder{Host: "h", PID: me.PID}, false, false},
		{"pid gone", Holder{Host: "h", Client: me.Client, PID: 1 << 30}, false, true},
		{"pid reused", Holder{Host: "h", Client: me.Client, PID: me.PID, ProcessStart: "1"}, false, true},
	} {
		a, k := alive(tc.h)
		assert.Check(t, is.Equal(a, tc.alive), tc.name)
		assert.Check(t, is.Equal(k, tc.known), tc.name)
	}
}
