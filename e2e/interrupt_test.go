package e2e

// Interruption end to end (SPEC §5: "Ctrl-C at any point leaves no partial
// state that a rerun cannot repair, and never leaves a file changed in the
// working tree"). Each phase of up and push is made slow by its scenario,
// deterministically; the test waits until the phase is announced and
// provably under way, delivers the signal as a user does, then checks:
// exit 130, the working tree byte-identical, no process of the run left,
// and a rerun that succeeds.
//
// How a signal reaches the plugin: the docker CLI runs docker-picatest as a
// child in its own process group.
//   - Ctrl-C in a terminal, `kill -- -PGID`, timeout(1), systemd's
//     control-group kill: every process of the group gets the signal; the
//     CLI waits for the plugin and exits with its code.
//   - A signal to the CLI's pid alone: since docker 25 the CLI closes the
//     plugin socket (DOCKER_CLI_PLUGIN_SOCKET) when stdout is not a
//     terminal, which cancels the plugin's context. Docker 20.10 (Debian's
//     /usr/bin/docker) swallows a SIGINT/SIGTERM sent to it alone: the
//     plugin goes on, the CLI waits for it; at the third, the CLI exits
//     without telling the plugin.
//   - When the CLI dies (SIGKILL, or 20.10's third signal), the plugin is
//     orphaned: it notices (socket closed, or its parent changed) and stops
//     as if interrupted.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"
	"gotest.tools/v3/poll"
)

// Generous limits: the machine is shared and slow; none is a timing
// assertion.
const (
	intrPhaseTimeout   = 5 * time.Minute // until the phase is under way
	intrExitTimeout    = 2 * time.Minute // from the signal to the exit
	intrCommandTimeout = 5 * time.Minute // a rerun, a down
	intrSlow           = "60"            // seconds a slow phase lasts, far longer than the test needs
)

// intrDelivery is one way a signal reaches `docker picatest`.
type intrDelivery struct {
	name  string
	cli   string // the docker CLI to run
	sig   syscall.Signal
	count int  // signals sent, one second apart
	group bool // to the whole process group; else to the CLI's pid alone
	// cliQuits: the CLI exits without waiting for the plugin (killed, or
	// giving up); the plugin must stop anyway, nobody reads its exit code.
	cliQuits bool
}

func (d intrDelivery) send(t *testing.T, r *intrRun) {
	t.Helper()
	pid := r.cmd.Process.Pid
	for i := range d.count {
		if i > 0 {
			time.Sleep(time.Second)
		}
		target := pid
		if d.group {
			target = -pid // Setpgid: the CLI leads its own process group
		}
		assert.NilError(t, syscall.Kill(target, d.sig))
	}
}

// intrDeliveries are the deliveries of every phase: as Ctrl-C and kill -TERM
// of the group, and a SIGTERM to the CLI alone, through a CLI that forwards
// it (docker 25 or later: the docker in PATH, else /usr/local/bin/docker).
// Only when no such CLI is installed is that case not run, and the test
// says so in its output.
func intrDeliveries(t *testing.T) []intrDelivery {
	ds := []intrDelivery{
		{name: "SIGINT to the group", cli: "docker", sig: syscall.SIGINT, count: 1, group: true},
		{name: "SIGTERM to the group", cli: "docker", sig: syscall.SIGTERM, count: 1, group: true},
	}
	for _, cli := range []string{"docker", "/usr/local/bin/docker"} {
		if _, err := exec.LookPath(cli); err == nil && intrCLIForwards(t, cli) {
			return append(ds, intrDelivery{name: "SIGTERM to the CLI", cli: cli, sig: syscall.SIGTERM, count: 1})
		}
	}
	t.Logf("SIGTERM to the CLI alone: not applicable here: docker %s is older than 25 and swallows it (the Debian CLI cases test that), and no docker 25 or later is installed", intrCLIVersion(t, "docker"))
	return ds
}

// intrCLIForwards reports whether a docker CLI tells its plugin about a
// signal it gets alone: the plugin socket, since docker 25.
func intrCLIForwards(t *testing.T, cli string) bool {
	t.Helper()
	version := intrCLIVersion(t, cli)
	major, _, _ := strings.Cut(version, ".")
	n, err := strconv.Atoi(major)
	assert.NilError(t, err, "docker version: %s", version)
	return n >= 25
}

// intrCLIVersion is the version of a docker CLI.
func intrCLIVersion(t *testing.T, cli string) string {
	t.Helper()
	out, err := exec.Command(cli, "version", "--format", "{{.Client.Version}}").Output()
	assert.NilError(t, err)
	return strings.TrimSpace(string(out))
}

// intrDebianCLI is Debian's docker CLI (20.10 on the test machines, the
// package docker.io that test.sh installs), and whether it is another binary
// than the docker in PATH. Without it the test fails: what users of
// Debian's CLI see is part of what is tested.
func intrDebianCLI(t *testing.T) (cli string, other bool) {
	t.Helper()
	const debian = "/usr/bin/docker"
	b, err := filepath.EvalSymlinks(debian)
	assert.NilError(t, err, "Debian's docker CLI is needed: apt-get install docker.io")
	inPath, err := exec.LookPath("docker")
	assert.NilError(t, err)
	a, err := filepath.EvalSymlinks(inPath)
	assert.NilError(t, err)
	return debian, a != b
}

// intrRun is a docker command running in its own process group.
type intrRun struct {
	cmd  *exec.Cmd
	out  intrOutput
	done chan struct{} // closed when the CLI has exited
	err  error
}

// intrStart runs the docker CLI cli in the background, as its own process
// group leader (a shell's job), with the project's environment.
func (p *project) intrStart(cli string, extraEnv []string, args ...string) *intrRun {
	p.t.Helper()
	cmd := p.command(context.Background(), extraEnv, cli, args...)
	// A file, not a pipe: Wait returns when the CLI exits, even if an
	// orphaned plugin still holds the output open.
	f, err := os.CreateTemp(p.t.TempDir(), "output-")
	assert.NilError(p.t, err)
	defer f.Close()
	out := intrOutput(f.Name())
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	assert.NilError(p.t, cmd.Start())
	r := &intrRun{cmd: cmd, out: out, done: make(chan struct{})}
	go func() {
		r.err = cmd.Wait()
		close(r.done)
	}()
	pgid := cmd.Process.Pid
	p.t.Cleanup(func() {
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
		<-r.done
	})
	return r
}

// waitOutput waits until the output holds s.
func (r *intrRun) waitOutput(t *testing.T, s string) {
	t.Helper()
	poll.WaitOn(t, func(poll.LogT) poll.Result {
		if strings.Contains(r.out.String(), s) {
			return poll.Success()
		}
		select {
		case <-r.done:
			return poll.Error(fmt.Errorf("the command ended before printing %q: %v\n%s", s, r.err, r.out))
		default:
		}
		return poll.Continue("waiting for %q", s)
	}, poll.WithTimeout(intrPhaseTimeout), poll.WithDelay(200*time.Millisecond))
}

// exitCode waits for the command's end and returns its exit code (-1 when
// a signal killed it).
func (r *intrRun) exitCode(t *testing.T) int {
	t.Helper()
	select {
	case <-r.done:
	case <-time.After(intrExitTimeout):
		t.Fatalf("still running %s after the signal:\n%s", intrExitTimeout, r.out)
	}
	if r.err == nil {
		return 0
	}
	exit, ok := r.err.(*exec.ExitError)
	assert.Assert(t, ok, "%v", r.err)
	return exit.ExitCode()
}

// assertGroupGone waits until no process of the run's process group is
// left (zombies aside: nobody may reap an orphan here).
func (r *intrRun) assertGroupGone(t *testing.T) {
	t.Helper()
	pgid := r.cmd.Process.Pid
	poll.WaitOn(t, func(poll.LogT) poll.Result {
		if left := intrGroupProcesses(pgid); len(left) > 0 {
			return poll.Continue("processes of the run still alive:\n%s", strings.Join(left, "\n"))
		}
		return poll.Success()
	}, poll.WithTimeout(30*time.Second), poll.WithDelay(200*time.Millisecond))
}

// intrGroupProcesses lists the live processes (pid, state, command line)
// of process group pgid, from /proc.
func intrGroupProcesses(pgid int) []string {
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	var live []string
	for _, path := range stats {
		b, err := os.ReadFile(path)
		if err != nil {
			continue // gone meanwhile
		}
		// pid (comm) state ppid pgrp ...; comm may hold spaces and ')'.
		s := string(b)
		fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		if len(fields) < 3 || fields[0] == "Z" || fields[2] != strconv.Itoa(pgid) {
			continue
		}
		dir := filepath.Dir(path)
		cmdline, _ := os.ReadFile(filepath.Join(dir, "cmdline"))
		live = append(live, fmt.Sprintf("%s %s %s", filepath.Base(dir), fields[0], bytes.ReplaceAll(cmdline, []byte{0}, []byte{' '})))
	}
	return live
}

// intrOutput is the file holding a command's stdout and stderr.
type intrOutput string

func (o intrOutput) String() string {
	b, err := os.ReadFile(string(o))
	if err != nil {
		return err.Error()
	}
	return string(b)
}

// intrHangingListener is a TCP listener on loopback that accepts
// connections and never answers (a registry or a proxy that hangs). It is
// closed at the end of the test, or by close.
type intrHangingListener struct {
	addr     string
	accepted chan struct{} // closed at the first connection
	close    func()
}

func intrHang(t *testing.T) *intrHangingListener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	assert.NilError(t, err)
	h := &intrHangingListener{addr: ln.Addr().String(), accepted: make(chan struct{})}
	var (
		mu    sync.Mutex
		conns []net.Conn
		once  sync.Once
	)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			once.Do(func() { close(h.accepted) })
		}
	}()
	var closeOnce sync.Once
	h.close = func() {
		closeOnce.Do(func() {
			ln.Close()
			mu.Lock()
			defer mu.Unlock()
			for _, c := range conns {
				c.Close()
			}
		})
	}
	t.Cleanup(h.close)
	return h
}

// hasConnection checks that a client connected.
func (h *intrHangingListener) hasConnection(*intrRun) poll.Result {
	select {
	case <-h.accepted:
		return poll.Success()
	default:
		return poll.Continue("waiting for a connection to %s", h.addr)
	}
}

// intrUpPhase is a phase of up, made slow by its scenario
// (testdata/TestInterruptUp/<name>).
type intrUpPhase struct {
	name string // as announced: "picatest: <name>"
	// prepare readies the engine and returns the setup of one case.
	prepare func(t *testing.T, p *project) intrUpSetup
}

type intrUpSetup struct {
	env         []string           // for every command of the case
	slowEnv     []string           // for the interrupted up only: the slow phase
	args        []string           // for the interrupted up only
	underWay    intrCheck          // the phase is under way
	afterStop   func(t *testing.T) // checks after the interruption (optional)
	beforeRerun func()             // before the rerun (optional)
}

var intrUpPhases = []intrUpPhase{
	{name: "reset", prepare: func(t *testing.T, p *project) intrUpSetup {
		// A previous deployment that takes 30 s to stop.
		r := p.intrPicatest([]string{"SLOW_STOP=1"}, "up", "--yes", "--stable", "0s", "--no-smoke", "--progress", "quiet")
		assert.Equal(t, r.ExitCode, 0, r)
		web := p.containerOf("web")
		return intrUpSetup{
			args: []string{"--no-smoke"},
			underWay: func(*intrRun) poll.Result {
				if strings.Contains(p.docker("logs", web).Stdout, "app: SIGTERM ignored") {
					return poll.Success()
				}
				return poll.Continue("waiting for the reset to stop the previous deployment")
			},
		}
	}},
	{name: "build", prepare: func(t *testing.T, p *project) intrUpSetup {
		p.cleanupImages("picatest-e2e/" + p.Name + ":1")
		p.intrCleanupBuildContainers()
		return intrUpSetup{
			slowEnv:   []string{"BUILD_SLEEP=" + intrSlow},
			args:      []string{"--no-smoke"},
			underWay:  intrOutputHas("app: sleeping " + intrSlow + "s"),
			afterStop: p.intrNoBuildContainer,
		}
	}},
	{name: "pull", prepare: func(t *testing.T, p *project) intrUpSetup {
		// The image is local; its registry hangs.
		registry := intrHang(t)
		image := registry.addr + "/picatest-e2e/" + p.Name + ":1"
		p.cleanupImages(image)
		r := p.docker("tag", "picatest-test/app:1", image)
		assert.Equal(t, r.ExitCode, 0, r)
		return intrUpSetup{
			env:      []string{"INTR_IMAGE=" + image},
			args:     []string{"--no-smoke"},
			underWay: registry.hasConnection,
			// The rerun's pull fails at once, a warning: the image is local.
			beforeRerun: registry.close,
		}
	}},
	{name: "start", prepare: func(t *testing.T, p *project) intrUpSetup {
		return intrUpSetup{
			slowEnv: []string{"DB_HEALTHY_AFTER=" + intrSlow + "s"},
			args:    []string{"--no-smoke"},
			// Compose created web and waits for db to be healthy to start it.
			underWay: func(*intrRun) poll.Result {
				if p.intrServiceIn("db", "running") && p.intrServiceIn("web", "created") {
					return poll.Success()
				}
				return poll.Continue("waiting for db running and web created")
			},
		}
	}},
	{name: "wait", prepare: func(t *testing.T, p *project) intrUpSetup {
		return intrUpSetup{
			slowEnv: []string{"HEALTHY_AFTER=" + intrSlow + "s"},
			args:    []string{"--no-smoke"},
			underWay: func(*intrRun) poll.Result {
				if p.intrServiceIn("web", "running") {
					return poll.Success()
				}
				return poll.Continue("waiting for web running, not healthy yet")
			},
		}
	}},
	{name: "smoke", prepare: func(t *testing.T, p *project) intrUpSetup {
		proxy := intrHang(t)
		return intrUpSetup{
			args:     []string{"--proxy", proxy.addr},
			underWay: proxy.hasConnection,
		}
	}},
}

// intrCheck tells whether a phase of the running command is under way.
type intrCheck func(run *intrRun) poll.Result

// waitUnderWay waits until check succeeds.
func (r *intrRun) waitUnderWay(t *testing.T, check intrCheck) {
	t.Helper()
	poll.WaitOn(t, func(poll.LogT) poll.Result {
		select {
		case <-r.done:
			return poll.Error(fmt.Errorf("the command ended before the phase was under way: %v\n%s", r.err, r.out))
		default:
		}
		return check(r)
	}, poll.WithTimeout(intrPhaseTimeout), poll.WithDelay(500*time.Millisecond))
}

// intrOutputHas checks that the command printed s.
func intrOutputHas(s string) intrCheck {
	return func(r *intrRun) poll.Result {
		if strings.Contains(r.out.String(), s) {
			return poll.Success()
		}
		return poll.Continue("waiting for %q in the output", s)
	}
}

// intrServiceIn reports whether the container of service is in state
// (docker ps --filter status=...).
func (p *project) intrServiceIn(service, state string) bool {
	p.t.Helper()
	ids, r := p.listObjects("container", "", "label=com.docker.compose.service="+service, "status="+state)
	return r.ExitCode == 0 && len(ids) > 0
}

// intrNoBuildContainer checks that the interrupted build left no container
// (the classic builder's step container carries the Dockerfile's label).
func (p *project) intrNoBuildContainer(t *testing.T) {
	t.Helper()
	poll.WaitOn(t, func(poll.LogT) poll.Result {
		r := p.docker("ps", "-aq", "--filter", "label=e2e.interrupt.project="+p.Name)
		if r.ExitCode == 0 && strings.TrimSpace(r.Stdout) == "" {
			return poll.Success()
		}
		return poll.Continue("build containers left: %s", r.Stdout)
	}, poll.WithTimeout(time.Minute), poll.WithDelay(500*time.Millisecond))
}

// intrCleanupBuildContainers removes, before the test and after it, the
// build containers of p that an earlier run left: a classic build that
// fails on an engine error keeps its step container, which
// intrNoBuildContainer would count as this run's.
func (p *project) intrCleanupBuildContainers() {
	p.t.Helper()
	clean := func() {
		run := p.outside()
		r := run.docker("ps", "-aq", "--filter", "label=e2e.interrupt.project="+p.Name)
		if ids := strings.Fields(r.Stdout); r.ExitCode == 0 && len(ids) > 0 {
			run.docker(append([]string{"rm", "--force"}, ids...)...)
		}
	}
	clean()
	p.t.Cleanup(clean)
}

// intrAssertNothingLeft checks that the project has no container, network
// or volume on the engine.
func (p *project) intrAssertNothingLeft() {
	p.t.Helper()
	for _, kind := range []string{"container", "network", "volume"} {
		left := p.objects(kind, "")
		assert.Check(p.t, is.Equal(strings.Join(left, "\n"), ""), "%ss of %s left", kind, p.Name)
	}
}

// intrInterrupted checks what every interruption must leave: the exit code
// 130 (unless the CLI itself died), the working tree byte-identical, no
// process of the run.
func (p *project) intrInterrupted(run *intrRun, d intrDelivery, before map[string]string) {
	t := p.t
	t.Helper()
	code := run.exitCode(t)
	out := run.out.String()
	t.Logf("%s: exit %d", d.name, code)
	if d.cliQuits {
		assert.Check(t, code != 0, "the CLI quit: %d\n%s", code, out)
	} else {
		assert.Check(t, is.Equal(code, 130), out)
	}
	run.assertGroupGone(t)
	// The plugin stopped as interrupted, also when orphaned (its output
	// goes on into the same file).
	assert.Check(t, is.Contains(run.out.String(), "interrupted: nothing in the working tree was changed"))
	p.assertTreeUnchanged(before)
}

// intrUp interrupts one phase of up with one delivery, then reruns up and
// downs the deployment.
func intrUp(t *testing.T, ph intrUpPhase, d intrDelivery) {
	p := newProject(t, "TestInterruptUp/"+ph.name)
	setup := ph.prepare(t, p)
	before := p.snapshot()

	args := append([]string{"picatest", "up", "--yes", "--stable", "0s", "--progress", "plain"}, setup.args...)
	run := p.intrStart(d.cli, append(setup.env, setup.slowEnv...), args...)
	run.waitOutput(t, "picatest: "+ph.name)
	run.waitUnderWay(t, setup.underWay)
	for _, later := range []string{"picatest: " + intrNextPhase(ph.name), "OK: project"} {
		assert.Assert(t, !strings.Contains(run.out.String(), later), "%s is over already:\n%s", ph.name, run.out)
	}
	d.send(t, run)
	p.intrInterrupted(run, d, before)
	if setup.afterStop != nil {
		setup.afterStop(t)
	}

	if setup.beforeRerun != nil {
		setup.beforeRerun()
	}
	r := p.intrPicatest(setup.env, "up", "--yes", "--stable", "0s", "--no-smoke", "--progress", "plain")
	assert.Equal(t, r.ExitCode, 0, "the rerun: %s", r)
	r = p.intrPicatest(setup.env, "down", "--progress", "plain")
	assert.Equal(t, r.ExitCode, 0, r)
	p.intrAssertNothingLeft()
	p.assertTreeUnchanged(before)
}

// intrPicatest runs `docker picatest args...` as p.dockerEnv does, failing
// the test if it has not ended after intrCommandTimeout.
func (p *project) intrPicatest(env []string, args ...string) result {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), intrCommandTimeout)
	defer cancel()
	cmd := p.command(ctx, env, "docker", append([]string{"picatest"}, args...)...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 10 * time.Second
	r := runCommand(p.t, cmd)
	if ctx.Err() != nil {
		p.t.Fatalf("still running after %s:\n%s", intrCommandTimeout, r)
	}
	return r
}

// intrNextPhase is the phase announced after name in a single-service
// scenario (reset, build and pull run at the same time).
func intrNextPhase(name string) string {
	switch name {
	case "reset", "build", "pull":
		return "start"
	case "start":
		return "wait"
	case "wait":
		return "smoke"
	}
	return "report" // never announced
}

// TestInterruptUp interrupts each phase of up (issue 6, item 3).
func TestInterruptUp(t *testing.T) {
	skipShort(t)
	deliveries := intrDeliveries(t)
	for _, ph := range intrUpPhases {
		t.Run(ph.name, func(t *testing.T) {
			t.Parallel()
			for _, d := range deliveries {
				t.Run(d.name, func(t *testing.T) { intrUp(t, ph, d) })
			}
		})
	}

	// The plugin never outlives the CLI: killed, it cannot tell the plugin
	// (orphaned, the plugin stops by itself); Debian's CLI 20.10 gives up
	// at the third signal without telling the plugin.
	wait := intrUpPhase{}
	for _, ph := range intrUpPhases {
		if ph.name == "wait" {
			wait = ph
		}
	}
	t.Run("CLI killed", func(t *testing.T) {
		t.Parallel()
		clis := []string{"docker"}
		if debian, other := intrDebianCLI(t); other {
			clis = append(clis, debian)
		}
		for _, cli := range clis {
			t.Run("docker "+intrCLIVersion(t, cli), func(t *testing.T) {
				intrUp(t, wait, intrDelivery{name: "SIGKILL to the CLI", cli: cli, sig: syscall.SIGKILL, count: 1, cliQuits: true})
			})
		}
	})
	t.Run("Debian CLI", func(t *testing.T) {
		t.Parallel()
		debian, _ := intrDebianCLI(t)
		for _, d := range []intrDelivery{
			{name: "SIGINT to the group", cli: debian, sig: syscall.SIGINT, count: 1, group: true},
			{name: "SIGTERM to the group", cli: debian, sig: syscall.SIGTERM, count: 1, group: true},
			{name: "3 SIGTERM to the CLI", cli: debian, sig: syscall.SIGTERM, count: 3, cliQuits: true},
		} {
			t.Run(d.name, func(t *testing.T) { intrUp(t, wait, d) })
		}
	})
}

// intrRegistry is a reverse proxy in front of the test registry that can
// stall blob uploads, as a hung network does, until released.
type intrRegistry struct {
	addr    string
	mu      sync.Mutex
	stall   bool
	stalled chan struct{} // closed when the first upload is stalled
	release chan struct{} // closed when the stalled uploads may go on
	once    sync.Once
}

func intrStartRegistry(t *testing.T) *intrRegistry {
	t.Helper()
	target, err := url.Parse("http://" + registryAddr)
	assert.NilError(t, err)
	proxy := httputil.NewSingleHostReverseProxy(target) // keeps the Host header: the registry's upload URLs come back here
	reg := &intrRegistry{stalled: make(chan struct{}), release: make(chan struct{})}
	end := make(chan struct{})
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		upload := (r.Method == http.MethodPatch || r.Method == http.MethodPut) && strings.Contains(r.URL.Path, "/blobs/uploads/")
		reg.mu.Lock()
		stall := reg.stall && upload
		reg.mu.Unlock()
		if stall {
			reg.once.Do(func() { close(reg.stalled) })
			select {
			case <-r.Context().Done():
				return
			case <-end:
				return
			case <-reg.release:
			}
		}
		proxy.ServeHTTP(w, r)
	})}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	assert.NilError(t, err)
	reg.addr = ln.Addr().String()
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() {
		close(end)
		srv.Close()
	})
	return reg
}

// stallUploads makes the blob uploads wait until resume.
func (reg *intrRegistry) stallUploads() {
	reg.mu.Lock()
	defer reg.mu.Unlock()
	reg.stall = true
}

// resume lets the stalled uploads go on, and the next ones through.
//
// Until then, a rerun of push waits too: the engine (20.10) does not
// abandon an upload whose push was cancelled while the registry holds its
// request, and the rerun joins that upload.
func (reg *intrRegistry) resume() {
	reg.mu.Lock()
	defer reg.mu.Unlock()
	if reg.stall {
		reg.stall = false
		close(reg.release)
	}
}

// uploadStalled checks that a blob upload is stalled.
func (reg *intrRegistry) uploadStalled(*intrRun) poll.Result {
	select {
	case <-reg.stalled:
		return poll.Success()
	default:
		return poll.Continue("waiting for a blob upload")
	}
}

// intrPushPhase is a phase of push made slow.
type intrPushPhase struct {
	name string
	// prepare returns the environment of the interrupted push and the check
	// that the phase is under way.
	prepare func(reg *intrRegistry) (slowEnv []string, underWay intrCheck)
}

var intrPushPhases = []intrPushPhase{
	{name: "build", prepare: func(*intrRegistry) ([]string, intrCheck) {
		return []string{"BUILD_SLEEP=" + intrSlow}, intrOutputHas("app: sleeping " + intrSlow + "s")
	}},
	{name: "upload", prepare: func(reg *intrRegistry) ([]string, intrCheck) {
		reg.stallUploads()
		return nil, reg.uploadStalled
	}},
}

// intrPush interrupts one phase of push --build, then pushes again.
func intrPush(t *testing.T, ph intrPushPhase, d intrDelivery) {
	reg := intrStartRegistry(t)
	p := newProject(t, "TestInterruptPush")
	// A layer of this run only (see the Dockerfile), committed: push wants
	// a clean tree.
	stamp := fmt.Sprintf("%s %d\n", p.Name, time.Now().UnixNano())
	assert.NilError(t, os.WriteFile(filepath.Join(p.Dir, "app", "stamp"), []byte(stamp), 0o644))
	p.commit("-a", "-m", "stamp")
	repo, tag := "picatest-e2e/"+p.Name, "1.0"
	image := reg.addr + "/" + repo + ":" + tag
	env := []string{"INTR_REGISTRY=" + reg.addr, "PICATEST_REGISTRY=" + reg.addr}
	// Logged in to the proxy: credentials are per registry host.
	p.withCredentials(reg.addr, registryUser, registryPassword)
	p.cleanupImages(image)
	p.intrCleanupBuildContainers()
	cleanRegistry(t, repo, tag)
	before := p.snapshot()
	imagesBefore, tagsBefore := p.imagesOf(reg.addr+"/"+repo), registryTags(t, repo)

	slowEnv, underWay := ph.prepare(reg)
	// --untested: no up before (the push tests check the test it relies
	// on); this one is about the interruption.
	run := p.intrStart(d.cli, append(env, slowEnv...), "picatest", "push", "--build", "--untested", "--progress", "plain")
	run.waitUnderWay(t, underWay)
	d.send(t, run)
	p.intrInterrupted(run, d, before)
	p.intrNoBuildContainer(t)
	assert.Check(t, is.DeepEqual(registryTags(t, repo), tagsBefore), "nothing reaches the registry")

	var rerun []string
	switch ph.name {
	case "build":
		// Nothing test-labelled, nor anything at all, under the tag: the
		// same images as before.
		assert.Check(t, is.DeepEqual(p.imagesOf(reg.addr+"/"+repo), imagesBefore), "an interrupted build tags nothing")
		assert.Equal(t, p.docker("image", "inspect", image).ExitCode, 1, "an interrupted build tags nothing")
		rerun = []string{"push", "--build", "--untested"}
	case "upload":
		// The production build is complete: push it again as it is.
		assert.Equal(t, p.inspect(image, `{{index .Config.Labels "net.picasoft.picatest.test-build"}}`), "")
		// The registry answers again.
		reg.resume()
		rerun = []string{"push", "--untested"}
	}
	r := p.intrPicatest(env, append(rerun, "--format", "json", "--progress", "quiet")...)
	assert.Equal(t, r.ExitCode, 0, "the rerun: %s", r)
	var report pushReport
	assert.NilError(t, json.Unmarshal([]byte(r.Stdout), &report), r.Stdout)
	assert.Equal(t, len(report.Images), 1, r.Stdout)
	code, digest, body := registryImageManifest(t, repo, tag)
	assert.Equal(t, code, http.StatusOK, string(body))
	assert.Equal(t, report.Images[0].Digest, digest)
	assert.Check(t, is.DeepEqual(registryTags(t, repo), []string{tag}))
	assert.Check(t, is.Contains(p.inspect(image, "{{json .RepoDigests}}"), reg.addr+"/"+repo+"@"+digest), "the local image is the one in the registry")
	assert.Equal(t, p.inspect(image, `{{index .Config.Labels "net.picasoft.picatest.test-build"}}`), "")
	p.assertTreeUnchanged(before)
}

// TestInterruptPush interrupts push --build while it builds and while it
// uploads (issue 6, item 3).
func TestInterruptPush(t *testing.T) {
	skipShort(t)
	startRegistry(t)
	deliveries := intrDeliveries(t)
	for _, ph := range intrPushPhases {
		t.Run(ph.name, func(t *testing.T) {
			t.Parallel()
			for _, d := range deliveries {
				t.Run(d.name, func(t *testing.T) { intrPush(t, ph, d) })
			}
		})
	}
}
