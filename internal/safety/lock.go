package safety

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"

	"github.com/picasoft/docker-picatest/internal/engine"
	"github.com/picasoft/docker-picatest/internal/exitcode"
	"github.com/picasoft/docker-picatest/internal/termsafe"
)

// The lock of a project is a container that is created and never started,
// named LockPrefix+<project>: the engine creates a name once and refuses a
// second create of it with a conflict (409), atomically, whichever client
// asks, so the lock holds across clients on different machines. Its labels
// say who holds it. It is created from LockImage, a one-file image that
// picatest imports itself (nothing is pulled), and carries no Compose label:
// it is no part of any Compose project.
const (
	// LockPrefix is the name of a project's lock container, before the
	// project name.
	LockPrefix = "picatest-lock-"
	// LockImage is the local image of the lock containers.
	LockImage = "picatest-lock:1"
	// LockLabel is the label of a lock container whose value is the project.
	LockLabel = "net.picasoft.picatest.lock"
)

// The labels of a lock container after LockLabel: who holds the lock.
const (
	lockUser    = LockLabel + ".user"
	lockHost    = LockLabel + ".host"
	lockPID     = LockLabel + ".pid"
	lockCommand = LockLabel + ".command"
	lockSince   = LockLabel + ".since"
	// lockClient identifies the client's kernel: boot ID and PID namespace.
	// Only a client with the same one (and the same host name) can tell
	// whether the holder's pid still runs.
	lockClient = LockLabel + ".client"
	// lockStart is the start time of the holder's process (clock ticks after
	// boot), so that a reused pid is not taken for the holder.
	lockStart = LockLabel + ".process-start"
)

// lockRetry is how often acquireLock tries again while the lock is held.
const lockRetry = 250 * time.Millisecond

// releaseTimeout bounds the removal of the lock container on release, which
// runs with a context of its own: after Ctrl-C the command's is cancelled.
const releaseTimeout = 15 * time.Second

// lockEngine is the part of the moby client the lock needs.
type lockEngine interface {
	ContainerCreate(ctx context.Context, options client.ContainerCreateOptions) (client.ContainerCreateResult, error)
	ContainerInspect(ctx context.Context, containerID string, options client.ContainerInspectOptions) (client.ContainerInspectResult, error)
	ContainerRemove(ctx context.Context, containerID string, options client.ContainerRemoveOptions) (client.ContainerRemoveResult, error)
	ImageImport(ctx context.Context, source client.ImageImportSource, ref string, options client.ImageImportOptions) (client.ImageImportResult, error)
}

// Holder is who holds the lock of a project.
type Holder struct {
	Project string    `json:"project"`
	User    string    `json:"user"`
	Host    string    `json:"host"`
	PID     int       `json:"pid"`
	Command string    `json:"command"`
	Since   time.Time `json:"since"`
	// Client is the boot ID and PID namespace of the holder's machine, ""
	// when unknown (not Linux); ProcessStart the start time of its process.
	Client       string `json:"-"`
	ProcessStart string `json:"-"`
	// ID is the ID of the lock container.
	ID string `json:"-"`
}

// labels are the labels of the lock container of h.
func (h Holder) labels() map[string]string {
	return map[string]string{
		LockLabel:   h.Project,
		lockUser:    h.User,
		lockHost:    h.Host,
		lockPID:     strconv.Itoa(h.PID),
		lockCommand: h.Command,
		lockSince:   h.Since.UTC().Format(time.RFC3339Nano),
		lockClient:  h.Client,
		lockStart:   h.ProcessStart,
	}
}

// holderFromLabels reads the holder from the labels of a lock container.
func holderFromLabels(id string, l map[string]string) Holder {
	h := Holder{
		ID: id, Project: l[LockLabel], User: l[lockUser], Host: l[lockHost], Command: l[lockCommand],
		Client: l[lockClient], ProcessStart: l[lockStart],
	}
	h.PID, _ = strconv.Atoi(l[lockPID])
	h.Since, _ = time.Parse(time.RFC3339Nano, l[lockSince])
	return h
}

// liveness tells whether the process of a holder still runs: known is false
// when this client cannot tell (another machine, another PID namespace).
type liveness func(h Holder) (alive, known bool)

// lock is one attempt at taking the lock of a project.
type lock struct {
	c    lockEngine
	me   Holder
	wait time.Duration
	// breakLock removes the lock of a holder that this client cannot prove
	// to be running (--break-lock), once.
	breakLock bool
	alive     liveness
	// log tells what the lock does besides taking it: waiting, freeing the
	// lock of a dead holder, breaking one.
	log io.Writer
	// flag is the flag that breaks a lock, for the messages.
	flag string
}

// acquire takes the lock of l.me.Project (SPEC §5): it creates the lock
// container, and when the name is taken reads the holder from its labels.
// A holder that provably died (same client, its process gone) has its lock
// removed at once; with breakLock, so has a holder that this client cannot
// check. Otherwise acquire tries again every 250 ms for up to l.wait, then
// refuses (exit 3) naming the holder. A cancelled ctx returns ctx.Err().
//
// release, which may be called more than once, removes the lock container,
// with a context of its own so that it works after ctx is cancelled.
func (l *lock) acquire(ctx context.Context) (release func(), err error) {
	name := LockPrefix + l.me.Project
	deadline := time.Now().Add(l.wait)
	var (
		imported, waiting bool
		broken            string // the lock container removed by breakLock
		timer             *time.Timer
	)
	for {
		// The create is not interrupted: the engine finishes a create
		// whose client went away, which would leave a lock nobody knows
		// of. Interrupted meanwhile, the lock made is removed at once.
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), releaseTimeout)
		res, err := l.c.ContainerCreate(cctx, client.ContainerCreateOptions{
			Name: name,
			Config: &container.Config{
				Image:  LockImage,
				Cmd:    []string{lockImageFile},
				Labels: l.me.labels(),
			},
			HostConfig: &container.HostConfig{NetworkMode: "none"},
		})
		cancel()
		switch {
		case err == nil:
			release := l.releaseFunc(ctx, res.ID)
			if ctx.Err() != nil {
				release()
				return nil, ctx.Err()
			}
			return release, nil
		case ctx.Err() != nil:
			return nil, ctx.Err()
		case cerrdefs.IsNotFound(err) && !imported:
			// No lock image yet on this engine: import it, once.
			if err := importLockImage(ctx, l.c); err != nil {
				return nil, err
			}
			imported = true
			continue
		case !cerrdefs.IsConflict(err):
			return nil, fmt.Errorf("cannot take the lock of project %s (container %s): %w\nCheck that `docker create` works on this engine", l.me.Project, name, err)
		}

		got, err := l.c.ContainerInspect(ctx, name, client.ContainerInspectOptions{})
		switch {
		case cerrdefs.IsNotFound(err):
			continue // released in between
		case err != nil:
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			return nil, fmt.Errorf("cannot read the holder of the lock of project %s (container %s): %w", l.me.Project, name, err)
		}
		var labels map[string]string
		if got.Container.Config != nil {
			labels = got.Container.Config.Labels
		}
		if labels[LockLabel] != l.me.Project {
			// Not a lock: never removed, whatever the flags.
			return nil, exitcode.With(exitcode.Refused, l.notALockError(got.Container))
		}
		h := holderFromLabels(got.Container.ID, labels)
		alive, known := l.alive(h)
		switch {
		case known && !alive:
			fmt.Fprintf(l.log, "picatest: lock: freeing the lock of project %s held by %s: its process is gone\n", l.me.Project, describeHolder(h))
			if err := l.remove(ctx, h.ID); err != nil {
				return nil, err
			}
			continue
		case l.breakLock && !known && broken == "":
			fmt.Fprintf(l.log, "picatest: lock: breaking the lock of project %s held by %s (%s)\n", l.me.Project, describeHolder(h), l.flag)
			if err := l.remove(ctx, h.ID); err != nil {
				return nil, err
			}
			broken = h.ID
			continue
		}
		left := time.Until(deadline)
		if left <= 0 {
			return nil, exitcode.With(exitcode.Refused, l.lockedError(h, known))
		}
		if !waiting {
			waiting = true
			fmt.Fprintf(l.log, "picatest: lock: project %s is locked by %s: waiting up to %s\n", l.me.Project, describeHolder(h), l.wait)
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
			return nil, ctx.Err()
		case <-timer.C:
		}
	}
}

// notALockError is the refusal when the container with the name of the
// lock is not the lock of the project (created by hand, by another tool):
// it is someone's, picatest removes it neither to free the lock nor with
// --break-lock.
func (l *lock) notALockError(c container.InspectResponse) error {
	name := LockPrefix + l.me.Project
	var what []string
	if c.Config != nil && c.Config.Image != "" {
		what = append(what, "image "+termsafe.String(c.Config.Image))
	}
	if c.State != nil && c.State.Status != "" {
		what = append(what, string(c.State.Status))
	}
	if c.Config != nil {
		if p := c.Config.Labels[composeProjectLabel]; p != "" {
			what = append(what, "Compose project "+termsafe.String(p))
		}
		if p := c.Config.Labels[LockLabel]; p != "" {
			what = append(what, "the lock of project "+termsafe.String(p))
		}
	}
	desc := ""
	if len(what) > 0 {
		desc = " (" + strings.Join(what, ", ") + ")"
	}
	return fmt.Errorf("container %s%s has the name of the lock of project %s but is not that lock (it lacks the label %s=%s): picatest does not remove it, %s or not; "+
		"if it is not needed, remove or rename it yourself (docker rm %s, docker rename %s <new name>), then run this command again",
		name, desc, l.me.Project, LockLabel, l.me.Project, l.flag, name, name)
}

// composeProjectLabel is the label of Compose's containers naming their
// project, for the description of a container that is not a lock.
const composeProjectLabel = "com.docker.compose.project"

// remove removes the lock container id; one already gone is no error.
func (l *lock) remove(ctx context.Context, id string) error {
	_, err := l.c.ContainerRemove(ctx, id, client.ContainerRemoveOptions{Force: true})
	if err != nil && !cerrdefs.IsNotFound(err) {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("cannot remove the lock container %s of project %s: %w\nRemove it by hand: docker rm -f %s", LockPrefix+l.me.Project, l.me.Project, err, LockPrefix+l.me.Project)
	}
	return nil
}

// releaseFunc removes the lock container id, once, with a fresh context
// (ctx may be cancelled by then: Ctrl-C). A failure is said on l.log: the
// next up/down from this machine frees the lock of this dead process.
func (l *lock) releaseFunc(ctx context.Context, id string) func() {
	var once sync.Once
	return func() {
		once.Do(func() {
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), releaseTimeout)
			defer cancel()
			if err := l.remove(rctx, id); err != nil {
				fmt.Fprintf(l.log, "picatest: warning: the lock of project %s was not released: %v\n", l.me.Project, err)
			}
		})
	}
}

// lockedError is the refusal when the lock is still held after the wait.
// A holder that this client cannot check may be dead: the message says how
// to break its lock.
func (l *lock) lockedError(h Holder, known bool) error {
	msg := "project " + l.me.Project + " is locked by " + describeHolder(h)
	if !h.Since.IsZero() {
		msg += fmt.Sprintf(" since %s (%s ago)", Time(h.Since), Ago(h.Since))
	}
	msg += "; wait for it to finish, or check with `docker picatest status --all`"
	if known {
		if l.breakLock {
			msg += fmt.Sprintf(" (%s breaks only the lock of a command that no longer runs, and this one runs on this machine)", l.flag)
		}
		return errors.New(msg)
	}
	return errors.New(msg + fmt.Sprintf("\nIf that command no longer runs (killed, its machine restarted or gone), the lock is stale: run this command again with %s to break it", l.flag))
}

// describeHolder is "alice (pid 42 on laptop, `docker picatest up`)", the
// unknown parts left out. The labels are anyone's text: shown escaped.
func describeHolder(h Holder) string {
	h.User, h.Host, h.Command = termsafe.String(h.User), termsafe.String(h.Host), termsafe.String(h.Command)
	who := h.User
	if who == "" {
		who = "an unknown user"
	}
	var details []string
	switch {
	case h.PID > 0 && h.Host != "":
		details = append(details, fmt.Sprintf("pid %d on %s", h.PID, h.Host))
	case h.PID > 0:
		details = append(details, fmt.Sprintf("pid %d", h.PID))
	case h.Host != "":
		details = append(details, "on "+h.Host)
	}
	if h.Command != "" {
		details = append(details, "`"+h.Command+"`")
	}
	if len(details) == 0 {
		return who
	}
	return who + " (" + strings.Join(details, ", ") + ")"
}

// Locks lists the held locks of the engine, by project.
func Locks(ctx context.Context, c containerLister) ([]Holder, error) {
	res, err := c.ContainerList(ctx, client.ContainerListOptions{
		All:     true,
		Filters: make(client.Filters).Add("label", LockLabel),
	})
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("cannot list the locks of the engine: %w\nCheck that `docker ps -a` works", err)
	}
	locks := make([]Holder, 0, len(res.Items))
	for _, ctr := range res.Items {
		locks = append(locks, holderFromLabels(ctr.ID, ctr.Labels))
	}
	sort.Slice(locks, func(i, j int) bool { return locks[i].Project < locks[j].Project })
	return locks, nil
}

// lockImageFile is the one file of LockImage, and the command of its
// containers, which are never started.
const lockImageFile = "/picatest-lock"

// importLockImage creates LockImage on the engine from a tar made here: a
// one-file root file system (docker import), so nothing is pulled.
func importLockImage(ctx context.Context, c lockEngine) error {
	repo, tag, _ := strings.Cut(LockImage, ":")
	err := engine.Import(ctx, c, engine.OneFileImage{
		Repo: repo, Tag: tag, File: lockImageFile[1:], ModTime: time.Unix(0, 0),
		Content: []byte("docker picatest: the containers of this image are project locks, created and never started.\n"),
		Message: "docker picatest lock image",
		Changes: []string{`CMD ["` + lockImageFile + `"]`, "LABEL " + LockLabel + "-image=true"},
	})
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("cannot create the lock image %s (docker import of a one-file image): %w\nCheck that `docker import` works on this engine", LockImage, err)
	}
	return nil
}

// processAlive is the liveness of a holder on Linux, read from proc (the
// /proc of this client): the holder's process can be checked only from a
// client of the same kernel boot, PID namespace and host name; it is alive
// when its pid runs and started when the holder says (a reused pid is
// another process).
//
// A /proc that hides the processes of other users (mounted with hidepid,
// systemd's ProtectProc) shows no /proc/<pid> for a live holder run by
// another user: an absent pid proves the holder dead only when this client
// sees the processes of others, which it tells by pid 1, visible to every
// user of a plain /proc and hidden by hidepid from all but root. A pid
// whose stat cannot be read (hidepid=1: the entry is listed but closed)
// cannot be checked either. Both are unknown, not dead: the lock is
// reported as possibly stale, to be broken with --break-lock.
func processAlive(me Holder) liveness { return procAlive(me, procFS) }

// procAlive is processAlive reading proc.
func procAlive(me Holder, proc fs.FS) liveness {
	return func(h Holder) (alive, known bool) {
		if h.Client == "" || h.Client != me.Client || h.Host != me.Host || h.PID <= 0 {
			return false, false
		}
		start, err := readStart(proc, h.PID)
		switch {
		case errors.Is(err, errExited):
			return false, true
		case errors.Is(err, fs.ErrNotExist):
			return false, seesOthers(proc) // else hidden, maybe alive
		case err != nil:
			return false, false
		}
		return start == "" || h.ProcessStart == "" || start == h.ProcessStart, true
	}
}

// seesOthers reports whether proc shows the processes of other users: pid
// 1 is readable and belongs to another user (or this client is root). Pid
// 1 of our own user (a container run as that user) proves nothing.
func seesOthers(proc fs.FS) bool {
	if _, err := readStart(proc, 1); err != nil && !errors.Is(err, errExited) {
		return false
	}
	uid := getuid()
	if uid == 0 {
		return true
	}
	st, err := fs.Stat(proc, "1")
	if err != nil {
		return false
	}
	if sys, ok := st.Sys().(*syscall.Stat_t); ok && int(sys.Uid) == uid {
		return false
	}
	return true
}

// getuid is os.Getuid, replaced by tests.
var getuid = os.Getuid

// errExited is the error of processStart for a zombie: its process has
// exited.
var errExited = errors.New("the process has exited")

// clientID is the boot ID and the PID namespace of this process's kernel,
// "" when they cannot be read (not Linux).
func clientID() string {
	boot, err := os.ReadFile("/proc/sys/kernel/random/boot_id")
	if err != nil {
		return ""
	}
	ns, err := os.Readlink("/proc/self/ns/pid")
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(boot)) + "/" + ns
}

// processStart is the start time of process pid in /proc (readStart); ok
// is false when it cannot be read or the process has exited.
func processStart(pid int) (start string, ok bool) {
	start, err := readStart(procFS, pid)
	return start, err == nil
}

// readStart is the start time of process pid (field 22 of <pid>/stat in
// proc, clock ticks after boot), "" when the line is too short. The error
// is that of reading the file (fs.ErrNotExist: no such process, or one
// hidden from this user), errExited for a zombie.
func readStart(proc fs.FS, pid int) (start string, err error) {
	b, err := fs.ReadFile(proc, strconv.Itoa(pid)+"/stat")
	if err != nil {
		return "", err
	}
	// The command name, in parentheses, may hold spaces: fields count from
	// after its last ')'.
	s := string(b)
	if i := strings.LastIndexByte(s, ')'); i >= 0 {
		s = s[i+1:]
	}
	fields := strings.Fields(s)
	if len(fields) > 0 && (fields[0] == "Z" || fields[0] == "X") {
		return "", errExited
	}
	if len(fields) < 20 {
		return "", nil
	}
	return fields[19], nil
}

// procFS is the /proc of this client.
var procFS = os.DirFS("/proc")
