package e2e

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"gotest.tools/v3/assert"
)

// engineEndpoint is where the engine of the run listens: DOCKER_HOST
// (unix:// or tcp://), else Docker's default socket. Never hardcoded: the
// suite also runs against another engine (testdata/engine).
func engineEndpoint(t *testing.T) (network, address string) {
	t.Helper()
	h := os.Getenv("DOCKER_HOST")
	switch {
	case h == "":
		return "unix", "/var/run/docker.sock"
	case strings.HasPrefix(h, "unix://"):
		return "unix", strings.TrimPrefix(h, "unix://")
	case strings.HasPrefix(h, "tcp://"):
		return "tcp", strings.TrimPrefix(h, "tcp://")
	}
	t.Fatalf("DOCKER_HOST=%s: the remote-client tests forward to a unix:// or tcp:// engine only", h)
	return "", ""
}

// tcpEngine serves the engine of the run on a loopback TCP port, as a
// remote machine's engine would be reached, until the end of the test. It
// returns the DOCKER_HOST of that endpoint, tcp://127.0.0.1:PORT.
func tcpEngine(t *testing.T) string {
	t.Helper()
	network, address := engineEndpoint(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	assert.NilError(t, err)
	var wg sync.WaitGroup
	t.Cleanup(func() {
		l.Close()
		wg.Wait()
	})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go forward(c, network, address)
		}
	}()
	return "tcp://" + l.Addr().String()
}

// forward copies c to and from a new connection to the engine, each
// direction closed for writing when the other side is done (a hijacked
// attach or BuildKit session needs half-close).
func forward(c net.Conn, network, address string) {
	defer c.Close()
	up, err := net.Dial(network, address)
	if err != nil {
		return
	}
	defer up.Close()
	done := make(chan struct{}, 2)
	pipe := func(dst, src net.Conn) {
		_, _ = io.Copy(dst, src)
		if cw, ok := dst.(interface{ CloseWrite() error }); ok {
			_ = cw.CloseWrite()
		}
		done <- struct{}{}
	}
	go pipe(up, c)
	go pipe(c, up)
	<-done
	<-done
}

// nsClient is a client machine of its own on this machine: a private mount
// namespace (unshare -m) in which the projects, a DOCKER_CONFIG and /tmp
// are tmpfs that nothing outside sees, the daemon included; with a host
// name, a UTS namespace of its own too. Its commands run there (nsenter)
// against the engine through DOCKER_HOST or a docker context, never
// through a path of the test's machine.
type nsClient struct {
	t *testing.T
	// pid is the process that keeps the namespace; uts is set when the
	// client has a host name of its own.
	pid int
	uts bool
	// DockerConfig is the Docker config, inside the namespace only.
	DockerConfig string
	// Env is the environment of its commands, after the project's.
	Env []string
}

// The client's folders, in its namespace: /srv is a tmpfs there (and an
// empty folder outside), so the same paths serve every client.
const (
	nsRoot   = "/srv/picatest-client"
	nsConfig = nsRoot + "/config"
)

// nsDir is the folder of project p in a client.
func nsDir(p *project) string { return nsRoot + "/" + p.Name }

// newNSClient starts a client whose namespace holds a copy of the work
// trees of projects (committed, with .git) under nsDir, the plugins of the
// first project's commands and configJSON (config.json) as its
// DOCKER_CONFIG, and an empty /tmp of its own. hostname, when not "", is
// its host name (a UTS namespace). env is added to each project's
// environment (USER, DOCKER_HOST...).
func newNSClient(t *testing.T, hostname, configJSON string, env []string, projects ...*project) *nsClient {
	t.Helper()
	script := `set -e
mount -t tmpfs -o mode=0755 picatest-client /srv
mkdir -p "$ROOT/config/cli-plugins"
for p in $PROJECTS; do
	name=${p%%=*} src=${p#*=}
	mkdir "$ROOT/$name"
	cp -a "$src/." "$ROOT/$name/"
done
cp -L "$PLUGINS"/* "$ROOT/config/cli-plugins/"
printf '%s' "$CONFIG_JSON" > "$ROOT/config/config.json"
chmod 600 "$ROOT/config/config.json"
mount -t tmpfs -o mode=1777 picatest-client-tmp /tmp
if [ -n "$NEW_HOSTNAME" ]; then hostname "$NEW_HOSTNAME"; fi
echo ready
exec sleep 3600
`
	args := []string{"--mount", "--propagation", "private"}
	if hostname != "" {
		args = append(args, "--uts")
	}
	cmd := exec.Command("unshare", append(args, "sh", "-c", script)...)
	var list []string
	for _, p := range projects {
		assert.Assert(t, !strings.ContainsAny(p.Dir+p.Name, " ="), "plain paths only: %s", p.Dir)
		list = append(list, p.Name+"="+p.Dir)
	}
	cmd.Env = append(os.Environ(), "ROOT="+nsRoot, "PROJECTS="+strings.Join(list, " "), "PLUGINS="+projects[0].pluginsDir(),
		"CONFIG_JSON="+configJSON, "NEW_HOSTNAME="+hostname)
	// The namespace goes with the test process, however it ends.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	assert.NilError(t, err)
	assert.NilError(t, cmd.Start())
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	line, err := bufio.NewReader(out).ReadString('\n')
	assert.NilError(t, err, "the namespace of the client did not start")
	assert.Equal(t, strings.TrimSpace(line), "ready")
	return &nsClient{t: t, pid: cmd.Process.Pid, uts: hostname != "", DockerConfig: nsConfig, Env: env}
}

// command returns `docker args...` run in the client's namespace and p's
// folder there, with its DOCKER_CONFIG and /tmp, p's environment, c.Env
// and extraEnv. DOCKER_HOST and DOCKER_CONTEXT of the test process are not
// passed: the client names its engine in c.Env.
func (c *nsClient) command(ctx context.Context, p *project, extraEnv []string, args ...string) *exec.Cmd {
	ns := []string{"--target", strconv.Itoa(c.pid), "--mount", "--wdns=" + nsDir(p)}
	if c.uts {
		ns = append(ns, "--uts")
	}
	cmd := exec.CommandContext(ctx, "nsenter", append(append(ns, "docker"), args...)...)
	var env []string
	for _, kv := range cleanEnv() {
		k, _, _ := strings.Cut(kv, "=")
		if k != "DOCKER_HOST" && k != "DOCKER_CONTEXT" && k != "TMPDIR" {
			env = append(env, kv)
		}
	}
	env = append(env, "TMPDIR=/tmp", "COMPOSE_PROJECT_NAME="+p.Name)
	for _, kv := range p.Env {
		if !strings.HasPrefix(kv, "DOCKER_CONFIG=") {
			env = append(env, kv)
		}
	}
	env = append(env, "DOCKER_CONFIG="+c.DockerConfig)
	cmd.Env = append(append(env, c.Env...), extraEnv...)
	// Its own process group: the test kills the client, docker and
	// plugin, as a machine that goes away would.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	return cmd
}

// docker runs `docker args...` in the client, in p's folder.
func (c *nsClient) docker(p *project, args ...string) result {
	c.t.Helper()
	return c.dockerEnv(p, nil, args...)
}

// dockerEnv runs `docker args...` in the client with extra environment.
func (c *nsClient) dockerEnv(p *project, extraEnv []string, args ...string) result {
	c.t.Helper()
	return runCommand(c.t, c.command(context.Background(), p, extraEnv, args...))
}

// start runs `docker args...` in the client in the background.
func (c *nsClient) start(p *project, extraEnv []string, args ...string) *started {
	c.t.Helper()
	s := &started{Cmd: c.command(context.Background(), p, extraEnv, args...)}
	s.Stdout, s.Stderr = s, s
	assert.NilError(c.t, s.Start())
	c.t.Cleanup(func() {
		if s.ProcessState == nil {
			_ = syscall.Kill(-s.Process.Pid, syscall.SIGKILL)
			_ = s.Wait()
		}
	})
	return s
}

// killGroup sends SIGKILL to s's process group (docker and the plugin) and
// waits for docker; it returns once the plugin is gone too.
func killGroup(t *testing.T, s *started) {
	t.Helper()
	pgid := s.Process.Pid
	assert.NilError(t, syscall.Kill(-pgid, syscall.SIGKILL))
	_ = s.Wait()
	deadline := time.Now().Add(30 * time.Second)
	for {
		// Signal 0 to the group: ESRCH once no process of it is left.
		if err := syscall.Kill(-pgid, 0); errors.Is(err, syscall.ESRCH) {
			return
		}
		assert.Assert(t, time.Now().Before(deadline), "processes of group %d still run after SIGKILL", pgid)
		time.Sleep(50 * time.Millisecond)
	}
}
