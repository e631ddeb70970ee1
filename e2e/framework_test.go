// Package e2e drives the built docker-picatest plugin through the docker
// CLI, as a user does: the binary is installed in a temporary
// DOCKER_CONFIG/cli-plugins, each scenario copies testdata/<TestName>/ into
// a temporary folder and runs `docker picatest ...` there. The framework
// removes what each scenario's Compose project leaves on the engine,
// before the test and after it (newProject).
//
// Files: framework*_test.go hold what the scenarios share (the run and the
// projects, the engine, the registry, Traefik); every other file holds the
// tests of one scenario and the helpers only they use.
package e2e

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"gotest.tools/v3/assert"
)

// dockerConfig is the temporary DOCKER_CONFIG holding the plugin.
var dockerConfig string

func TestMain(m *testing.M) {
	flag.Parse()
	if testing.Short() {
		fmt.Println("e2e: skipped in -short mode (needs the docker CLI and engine)")
		os.Exit(m.Run())
	}
	code, err := setup(m)
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e setup:", err)
		os.Exit(1)
	}
	os.Exit(code)
}

func setup(m *testing.M) (int, error) {
	dir, err := os.MkdirTemp("", "picatest-e2e-config-")
	if err != nil {
		return 1, err
	}
	defer os.RemoveAll(dir)
	if err := os.MkdirAll(filepath.Join(dir, "cli-plugins"), 0o755); err != nil {
		return 1, err
	}
	if err := os.WriteFile(filepath.Join(dir, "config.json"), []byte("{}\n"), 0o600); err != nil {
		return 1, err
	}
	args := []string{"build", "-o", filepath.Join(dir, "cli-plugins", "docker-picatest"),
		"-ldflags", "-X github.com/picasoft/docker-picatest/plugin.Version=e2e"}
	// Coverage of what the plugin runs end to end (test.sh): the binary is
	// built with -cover and writes its counters into GOCOVERDIR, which every
	// command the tests run inherits.
	if cover := os.Getenv("PICATEST_E2E_COVERDIR"); cover != "" {
		if err := os.MkdirAll(cover, 0o755); err != nil {
			return 1, err
		}
		args = append(args, "-cover", "-coverpkg=github.com/picasoft/docker-picatest/...")
		os.Setenv("GOCOVERDIR", cover)
	}
	build := exec.Command("go", append(args, "../cmd/docker-picatest")...)
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		return 1, fmt.Errorf("building the plugin: %v\n%s", err, out)
	}
	// The Docker Compose CLI of the same module version, for conformance
	// tests (pinned in tools.go).
	build = exec.Command("go", "build", "-o", filepath.Join(dir, "cli-plugins", "docker-compose"), "github.com/docker/compose/v5/cmd")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		return 1, fmt.Errorf("building docker compose: %v\n%s", err, out)
	}
	if _, err := exec.LookPath("docker"); err != nil {
		return 1, errors.New("the docker CLI is not installed: run ./test.sh, which sets up Docker")
	}
	dockerConfig = dir
	if err := prepareEngine(); err != nil {
		return 1, err
	}
	if err := prepareBuildx(); err != nil {
		return 1, err
	}
	return m.Run(), nil
}

// skipShort skips an end-to-end test in -short mode.
func skipShort(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("end-to-end test: skipped in -short mode")
	}
}

// result is the outcome of one command.
type result struct {
	Cmd      string
	Stdout   string
	Stderr   string
	ExitCode int
}

func (r result) String() string {
	return fmt.Sprintf("$ %s\nexit %d\n--- stdout\n%s--- stderr\n%s", r.Cmd, r.ExitCode, r.Stdout, r.Stderr)
}

// project is a scenario folder copied from testdata.
type project struct {
	t    *testing.T
	Dir  string
	Name string
	Env  []string
	// externalVolumes are the external volumes the scenario's Compose
	// files declare, images those given to cleanupImages: cleanupProject
	// removes them.
	externalVolumes []string
	images          []string
	// plugins is the cli-plugins folder of the project's DOCKER_CONFIG
	// when it has its own (useBuilder); "" for the run's.
	plugins string
}

// projectName derives a Compose project name from the test name.
func projectName(t *testing.T) string {
	name := strings.ToLower(t.Name())
	name = regexp.MustCompile(`[^a-z0-9_-]+`).ReplaceAllString(name, "_")
	return "e2e_" + strings.Trim(name, "_")
}

// newProject copies testdata/<TestName>/ (or the folder given) into a
// temporary git work tree and commits it, as the Compose project named
// after the test (projectName).
func newProject(t *testing.T, testdata ...string) *project {
	t.Helper()
	folder := strings.SplitN(t.Name(), "/", 2)[0]
	if len(testdata) > 0 {
		folder = testdata[0]
	}
	return newProjectAs(t, projectName(t), folder)
}

// newProjectAs is newProject with the Compose project name given, for a
// test that has more than one project. Whatever an earlier run of the
// project left on the engine is removed before the test, and whatever the
// test leaves is removed after it (cleanupProject): no test has to ask.
func newProjectAs(t *testing.T, name, testdata string) *project {
	t.Helper()
	skipShort(t)
	src := filepath.Join("testdata", testdata)
	dir := filepath.Join(t.TempDir(), name)
	assert.NilError(t, copyTree(src, dir))
	p := &project{t: t, Dir: dir, Name: name, Env: []string{
		"PICATEST_TEST_HOSTS=*",
		"USER=e2e-user",
		"SUDO_USER=",
	}}
	p.externalVolumes = composeExternalVolumes(src, name)
	p.cleanupProject()
	t.Cleanup(p.cleanupProject)
	p.git("init", "-q", "-b", "main")
	p.git("add", "-A")
	p.commit("-m", "scenario")
	return p
}

func (p *project) git(args ...string) string {
	p.t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = p.Dir
	out, err := cmd.CombinedOutput()
	assert.NilError(p.t, err, "git %s: %s", strings.Join(args, " "), out)
	return string(out)
}

// commit runs git commit -q args... in the work tree, as the e2e author.
func (p *project) commit(args ...string) string {
	p.t.Helper()
	return p.git(append([]string{"-c", "user.email=e2e@example.invalid", "-c", "user.name=e2e", "commit", "-q"}, args...)...)
}

// picatest runs `docker picatest args...` in the project folder.
func (p *project) picatest(args ...string) result {
	p.t.Helper()
	return p.docker(append([]string{"picatest"}, args...)...)
}

// docker runs the docker CLI with the test DOCKER_CONFIG.
func (p *project) docker(args ...string) result {
	p.t.Helper()
	return p.dockerEnv(nil, args...)
}

// dockerEnv runs the docker CLI with extra environment variables.
func (p *project) dockerEnv(extraEnv []string, args ...string) result {
	p.t.Helper()
	return runCommand(p.t, p.command(context.Background(), extraEnv, "docker", args...))
}

// commandTimeout bounds a command whose context has no deadline: a hung
// command fails its test with its output, instead of the whole run at go
// test's -timeout. Generous: it is no timing assertion.
const commandTimeout = 15 * time.Minute

// killedAtDeadline holds the commands killed at their deadline, for
// runCommand to say so.
var killedAtDeadline sync.Map

// command returns name args... to run in p's folder, with the test
// DOCKER_CONFIG, p's project name and environment, and extraEnv. Without
// a deadline in ctx, the command gets one: commandTimeout, or shortly
// before the test's own deadline.
func (p *project) command(ctx context.Context, extraEnv []string, name string, args ...string) *exec.Cmd {
	if _, ok := ctx.Deadline(); !ok {
		deadline := time.Now().Add(commandTimeout)
		if d, ok := p.t.Deadline(); ok && d.Add(-30*time.Second).Before(deadline) {
			deadline = d.Add(-30 * time.Second)
		}
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, deadline)
		p.t.Cleanup(cancel)
	}
	cmd := exec.CommandContext(ctx, name, args...)
	// Killing the docker CLI orphans the plugin, which then stops as if
	// interrupted.
	cmd.Cancel = func() error {
		if ctx.Err() == context.DeadlineExceeded {
			killedAtDeadline.Store(cmd, true)
		}
		return cmd.Process.Kill()
	}
	cmd.Dir = p.Dir
	cmd.Env = append(cleanEnv(), "DOCKER_CONFIG="+dockerConfig, "COMPOSE_PROJECT_NAME="+p.Name)
	cmd.Env = append(append(cmd.Env, p.Env...), extraEnv...)
	return cmd
}

// runCommand runs cmd and returns its outputs and exit code; a command that
// cannot be run at all fails the test.
func runCommand(t *testing.T, cmd *exec.Cmd) result {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := result{Cmd: strings.Join(cmd.Args, " "), Stdout: stdout.String(), Stderr: stderr.String()}
	if _, killed := killedAtDeadline.LoadAndDelete(cmd); killed {
		t.Fatalf("%s: still running at its deadline, killed\n%s", r.Cmd, r)
	}
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		r.ExitCode = exit.ExitCode()
	case err != nil:
		t.Fatalf("running %s: %v", r.Cmd, err)
	}
	return r
}

// started is a docker command running in the background, whose
// output can be read while it runs.
type started struct {
	*exec.Cmd
	mu  sync.Mutex
	out bytes.Buffer
}

func (s *started) Write(b []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.out.Write(b)
}

// Output is stdout and stderr so far.
func (s *started) Output() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.out.String()
}

// start runs docker args in the background in p's folder.
func (p *project) start(extraEnv []string, args ...string) *started {
	p.t.Helper()
	s := &started{Cmd: p.command(context.Background(), extraEnv, "docker", args...)}
	s.Stdout, s.Stderr = s, s
	assert.NilError(p.t, s.Start())
	p.t.Cleanup(func() {
		if s.ProcessState == nil {
			_ = s.Process.Kill()
			_ = s.Wait()
		}
	})
	return s
}

// cleanEnv is the environment without the variables that would change
// picatest's or Compose's behaviour behind the test's back.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "PICATEST_") || strings.HasPrefix(k, "COMPOSE_") || k == "DOCKER_CONFIG" {
			continue
		}
		env = append(env, kv)
	}
	return env
}

// snapshot hashes every file of the work tree (.git excepted).
func (p *project) snapshot() map[string]string {
	p.t.Helper()
	sums := map[string]string{}
	err := filepath.WalkDir(p.Dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(p.Dir, path)
		if d.IsDir() {
			if rel == ".git" {
				return filepath.SkipDir
			}
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		h := sha256.New()
		if d.Type()&fs.ModeSymlink != 0 {
			target, err := os.Readlink(path)
			if err != nil {
				return err
			}
			h.Write([]byte("symlink:" + target))
		} else {
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			h.Write(b)
		}
		sums[rel] = fmt.Sprintf("%s %v %s", hex.EncodeToString(h.Sum(nil)), info.Mode(), info.ModTime())
		return nil
	})
	assert.NilError(p.t, err)
	return sums
}

// assertTreeUnchanged checks that git sees no change and that every file
// hashes as in before.
func (p *project) assertTreeUnchanged(before map[string]string) {
	p.t.Helper()
	assert.Equal(p.t, p.git("status", "--porcelain", "--ignored"), "")
	assert.DeepEqual(p.t, p.snapshot(), before)
}

func copyTree(src, dst string) error {
	return filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		target := filepath.Join(dst, rel)
		info, err := d.Info()
		if err != nil {
			return err
		}
		switch {
		case d.IsDir():
			return os.MkdirAll(target, 0o755)
		case d.Type()&fs.ModeSymlink != 0:
			link, err := os.Readlink(path)
			if err != nil {
				return err
			}
			return os.Symlink(link, target)
		default:
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			return os.WriteFile(target, b, info.Mode().Perm())
		}
	})
}

func errorAs(err error, target any) bool { return errors.As(err, target) }
