package safety

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/system"
	"github.com/moby/moby/client"
	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"

	"github.com/picasoft/docker-picatest/internal/exitcode"
	"github.com/picasoft/docker-picatest/transforms/testlabels"
)

// guardEngine is an engine for Guard that records the calls made to it,
// in order: the lock part is fakeLockEngine's; Info answers info; the
// containers of project pad are deployed.
type guardEngine struct {
	*fakeLockEngine
	info     system.Info
	deployed []container.Summary

	callsMu sync.Mutex
	calls   []string
}

func newGuardEngine(name string) *guardEngine {
	return &guardEngine{fakeLockEngine: newFakeLockEngine(), info: system.Info{Name: name}}
}

func (g *guardEngine) record(call string) {
	g.callsMu.Lock()
	defer g.callsMu.Unlock()
	g.calls = append(g.calls, call)
}

// called is the calls made so far, repeats of one call in a row merged.
func (g *guardEngine) called() []string {
	g.callsMu.Lock()
	defer g.callsMu.Unlock()
	var out []string
	for _, c := range g.calls {
		if len(out) == 0 || out[len(out)-1] != c {
			out = append(out, c)
		}
	}
	return out
}

func (g *guardEngine) Info(context.Context, client.InfoOptions) (client.SystemInfoResult, error) {
	g.record("Info")
	return client.SystemInfoResult{Info: g.info}, nil
}

func (g *guardEngine) DaemonHost() string { return "unix:///var/run/docker.sock" }

func (g *guardEngine) ContainerCreate(ctx context.Context, o client.ContainerCreateOptions) (client.ContainerCreateResult, error) {
	g.record("ContainerCreate")
	return g.fakeLockEngine.ContainerCreate(ctx, o)
}

func (g *guardEngine) ContainerInspect(ctx context.Context, name string, o client.ContainerInspectOptions) (client.ContainerInspectResult, error) {
	g.record("ContainerInspect")
	return g.fakeLockEngine.ContainerInspect(ctx, name, o)
}

func (g *guardEngine) ContainerRemove(ctx context.Context, id string, o client.ContainerRemoveOptions) (client.ContainerRemoveResult, error) {
	g.record("ContainerRemove")
	return g.fakeLockEngine.ContainerRemove(ctx, id, o)
}

func (g *guardEngine) ImageImport(ctx context.Context, src client.ImageImportSource, ref string, o client.ImageImportOptions) (client.ImageImportResult, error) {
	g.record("ImageImport")
	return g.fakeLockEngine.ImageImport(ctx, src, ref, o)
}

// ContainerList lists the deployed containers of project pad (the owner
// rule's filter), else the locks.
func (g *guardEngine) ContainerList(ctx context.Context, o client.ContainerListOptions) (client.ContainerListResult, error) {
	g.record("ContainerList")
	if o.Filters["label"]["com.docker.compose.project=pad"] {
		return client.ContainerListResult{Items: g.deployed}, nil
	}
	return g.fakeLockEngine.ContainerList(ctx, o)
}

// asUser makes user the owner of the tests' runs.
func asUser(t *testing.T, user string) {
	t.Setenv("SUDO_USER", "")
	t.Setenv("USER", user)
}

// TestGuardAsksInfoBeforeAnyWrite: the test-host guard comes first and
// only reads; refused, nothing at all is written (neither the lock image
// nor the lock container). Taking the lock before the guard fails it.
func TestGuardAsksInfoBeforeAnyWrite(t *testing.T) {
	asUser(t, "bob")
	t.Setenv("PICATEST_LOCK_WAIT", "0s")
	t.Run("not a test host: Info and nothing else", func(t *testing.T) {
		g := newGuardEngine("pica01")
		called := false
		_, err := Guard(context.Background(), g, GuardOptions{
			TestHosts: []string{"*-test"}, TestHostsFrom: "default", Project: "pad",
			OnTestHost: func(TestHost) { called = true },
		})
		assert.Equal(t, exitcode.Of(err), exitcode.Refused, "%v", err)
		assert.Check(t, is.Contains(err.Error(), `refusing to run on Docker daemon "pica01": it is not a test host`))
		assert.Check(t, is.DeepEqual(g.called(), []string{"Info"}))
		assert.Check(t, !g.image, "no lock image")
		assert.Check(t, is.Len(g.containers, 0), "no lock container")
		assert.Check(t, !called, "OnTestHost is called only for a test host")
	})

	t.Run("a test host: Info first, then the lock, then the owner", func(t *testing.T) {
		g := newGuardEngine("pica01-test")
		var host TestHost
		var callsAtOnTestHost []string
		release, err := Guard(context.Background(), g, GuardOptions{
			TestHosts: []string{"*-test"}, TestHostsFrom: "/srv/.picatest.yml", Project: "pad",
			OnTestHost: func(h TestHost) { host, callsAtOnTestHost = h, g.called() },
		})
		assert.NilError(t, err)
		assert.Check(t, is.DeepEqual(g.called(), []string{"Info", "ContainerCreate", "ImageImport", "ContainerCreate", "ContainerList"}))
		assert.Check(t, is.DeepEqual(host, TestHost{Daemon: "pica01-test", Glob: "*-test", From: "/srv/.picatest.yml"}))
		assert.Check(t, is.DeepEqual(callsAtOnTestHost, []string{"Info"}), "OnTestHost is called before the lock is taken")
		_, held := g.held("pad")
		assert.Check(t, held)
		release()
		_, held = g.held("pad")
		assert.Check(t, !held)
	})
}

// TestGuardReleasesTheLockWhenTheOwnerRuleRefuses: bob's up on alice's
// deployment is refused and leaves no lock behind; with --takeover it
// holds the lock until released.
func TestGuardReleasesTheLockWhenTheOwnerRuleRefuses(t *testing.T) {
	asUser(t, "bob")
	t.Setenv("PICATEST_LOCK_WAIT", "0s") // a lock left behind fails at once
	g := newGuardEngine("pica01-test")
	started := time.Now().Add(-time.Hour)
	alice := &testlabels.Labels{Owner: "alice", Branch: "fix-smtp", Commit: "0123456789abcdef", Started: started}
	g.deployed = []container.Summary{testContainer("app", alice)}
	o := GuardOptions{TestHosts: []string{"*-test"}, Project: "pad"}

	_, err := Guard(context.Background(), g, o)
	assert.Equal(t, exitcode.Of(err), exitcode.Refused, "%v", err)
	assert.Check(t, is.Contains(err.Error(), "project pad is deployed by alice (branch fix-smtp"))
	_, held := g.held("pad")
	assert.Check(t, !held, "the lock is released when the owner rule refuses")
	assert.Check(t, is.Len(g.removed, 1), "the lock container is removed")
	assert.Check(t, is.Equal(g.called()[len(g.called())-1], "ContainerRemove"), "%v", g.called())

	o.Takeover = true
	release, err := Guard(context.Background(), g, o)
	assert.NilError(t, err)
	h, held := g.held("pad")
	assert.Check(t, held, "the lock is held until released")
	assert.Check(t, is.Equal(h.User, "bob"))
	release()
	_, held = g.held("pad")
	assert.Check(t, !held)
}

// TestGuardWaitsForALockHeldFromAnotherMachine: the lock is held by a
// client on another machine, whose process this one cannot check: Guard
// waits (PICATEST_LOCK_WAIT), then refuses naming the holder and how to
// break a stale lock; it neither takes nor breaks the lock without
// --break-lock.
func TestGuardWaitsForALockHeldFromAnotherMachine(t *testing.T) {
	asUser(t, "bob")
	const wait = 600 * time.Millisecond
	t.Setenv("PICATEST_LOCK_WAIT", wait.String())
	g := newGuardEngine("pica01-test")
	g.image = true
	laptop := Holder{Project: "pad", User: "alice", Host: "laptop.elsewhere.invalid", PID: 4242, Command: "docker picatest up",
		Since: time.Now().Add(-90 * time.Second), Client: "another-boot-id/pid:[4026531836]", ProcessStart: "100"}
	g.holdAs(laptop)
	var log bytes.Buffer
	o := GuardOptions{TestHosts: []string{"*-test"}, Project: "pad", Command: "docker picatest up", Log: &log}

	start := time.Now()
	_, err := Guard(context.Background(), g, o)
	elapsed := time.Since(start)
	assert.Equal(t, exitcode.Of(err), exitcode.Refused, "%v", err)
	assert.Check(t, elapsed >= wait, "gave up after %s, before the wait of %s", elapsed, wait)
	msg := err.Error()
	for _, want := range []string{
		"project pad is locked by alice (pid 4242 on laptop.elsewhere.invalid, `docker picatest up`) since ", "ago); wait for it to finish",
		"the lock is stale: run this command again with --break-lock to break it",
	} {
		assert.Check(t, is.Contains(msg, want))
	}
	assert.Check(t, is.Contains(log.String(), "picatest: lock: project pad is locked by alice (pid 4242 on laptop.elsewhere.invalid, `docker picatest up`): waiting up to 600ms"))
	h, held := g.held("pad")
	assert.Check(t, held)
	assert.Check(t, is.Equal(h.User, "alice"), "alice's lock is kept")
	assert.Check(t, is.Len(g.removed, 0))
	assert.Check(t, !strings.Contains(strings.Join(g.called(), " "), "ContainerList"), "the owner rule is not checked without the lock")

	o.BreakLock = true
	release, err := Guard(context.Background(), g, o)
	assert.NilError(t, err)
	defer release()
	h, _ = g.held("pad")
	assert.Check(t, is.Equal(h.User, "bob"), "--break-lock takes the lock")
}
