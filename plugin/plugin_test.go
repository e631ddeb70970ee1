package plugin

import (
	"bytes"
	"context"
	"io"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/docker/cli/cli/command"
	"github.com/docker/compose/v5/pkg/api"
	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"

	"github.com/picasoft/docker-picatest/internal/composetest"
	"github.com/picasoft/docker-picatest/internal/exitcode"
)

// fakeBackend is the smallest Backend: it returns a project loaded by
// compose-go in the test, records the options it was called with and the
// name of every method called, in order.
type fakeBackend struct {
	project *types.Project
	err     error
	got     api.ProjectLoadOptions

	mu    sync.Mutex
	calls []string
}

// record notes a call of method.
func (f *fakeBackend) record(method string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, method)
}

// called returns the methods called so far, in order.
func (f *fakeBackend) called() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.calls)
}

func (f *fakeBackend) LoadProject(_ context.Context, o api.ProjectLoadOptions) (*types.Project, error) {
	f.record("LoadProject")
	f.got = o
	return f.project, f.err
}

func (f *fakeBackend) Build(context.Context, *types.Project, api.BuildOptions) error {
	f.record("Build")
	return nil
}

func (f *fakeBackend) Pull(context.Context, *types.Project, api.PullOptions) error {
	f.record("Pull")
	return nil
}

func (f *fakeBackend) Create(context.Context, *types.Project, api.CreateOptions) error {
	f.record("Create")
	return nil
}

func (f *fakeBackend) Start(context.Context, string, api.StartOptions) error {
	f.record("Start")
	return nil
}

func (f *fakeBackend) Down(context.Context, string, api.DownOptions) error {
	f.record("Down")
	return nil
}

func (f *fakeBackend) Ps(context.Context, string, api.PsOptions) ([]api.ContainerSummary, error) {
	f.record("Ps")
	return nil, nil
}

func (f *fakeBackend) Logs(context.Context, string, api.LogConsumer, api.LogOptions) error {
	f.record("Logs")
	return nil
}

func (f *fakeBackend) Push(context.Context, *types.Project, api.PushOptions) error {
	f.record("Push")
	return nil
}

// run executes `docker picatest args...` with the fake backend and returns
// stdout, stderr and the exit code.
func run(t *testing.T, backend *fakeBackend, args ...string) (string, string, int) {
	t.Helper()
	return runWith(t, func(command.Cli, string) (Backend, error) { return backend, nil }, args...)
}

// runWith executes `docker picatest args...` with the given backend and
// returns stdout, stderr and the exit code.
func runWith(t *testing.T, newBackend BackendFunc, args ...string) (string, string, int) {
	t.Helper()
	var out, errOut bytes.Buffer
	cmd := RootCommand(testCli(t, &out, &errOut), newBackend)
	cmd.SetArgs(args)
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	err := cmd.ExecuteContext(context.Background())
	if err != nil {
		errOut.WriteString(err.Error())
	}
	return out.String(), errOut.String(), exitcode.Of(err)
}

// testCli is a Docker CLI writing to out and errOut, with an empty stdin.
func testCli(t *testing.T, out, errOut io.Writer) command.Cli {
	t.Helper()
	dockerCli, err := command.NewDockerCli(
		command.WithOutputStream(out),
		command.WithErrorStream(errOut),
		command.WithInputStream(io.NopCloser(strings.NewReader(""))),
	)
	assert.NilError(t, err)
	return dockerCli
}

func TestFlagErrorsAreInvalidInput(t *testing.T) {
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"config", "--format", "toml"}, "--format yaml or --format json"},
		{[]string{"config", "--diff", "--format", "json"}, "--diff prints a text diff"},
		{[]string{"config", "--no-such-flag"}, "unknown flag: --no-such-flag"},
		{[]string{"frobnicate"}, `unknown command "frobnicate"`},
		{[]string{"version", "x"}, "accepts no arguments"},
		{[]string{"down", "x"}, "accepts no arguments"},
	}
	for _, tc := range cases {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			_, stderr, code := run(t, &fakeBackend{}, tc.args...)
			assert.Equal(t, code, exitcode.Invalid)
			assert.Check(t, is.Contains(stderr, tc.want))
		})
	}
}

func TestConfigPassesComposeFlagsToTheLoader(t *testing.T) {
	b := &fakeBackend{project: composetest.Load(t, "services:\n  web:\n    image: nginx:1.25\n", nil)}
	_, _, code := run(t, b, "-f", "a.yml", "-p", "proj", "--profile", "debug", "config",
		"-f", "b.yml", "--project-directory", "/srv/x", "--env-file", "e.env", "web")
	assert.Equal(t, code, 0)
	assert.DeepEqual(t, b.got.ConfigPaths, []string{"a.yml", "b.yml"})
	assert.Equal(t, b.got.ProjectName, "proj")
	assert.DeepEqual(t, b.got.Profiles, []string{"debug"})
	assert.Equal(t, b.got.WorkingDir, "/srv/x")
	assert.DeepEqual(t, b.got.EnvFiles, []string{"e.env"})
	assert.DeepEqual(t, b.got.Services, []string{"web"})
}

func TestConfigPrintsTheTransformedModel(t *testing.T) {
	b := &fakeBackend{project: composetest.Load(t, `
services:
  pad:
    image: registry.picasoft.net/pica-pad:1.0
    env_file: pad.secrets
    labels:
      traefik.http.routers.pad.rule: Host(`+"`pad.picasoft.net`"+`)
`, map[string]string{"pad.secrets.example": "URL=https://pad.picasoft.net\n", "pad.secrets": "URL=https://real-secret-value.example\n", "Dockerfile": "FROM scratch\n"})}
	stdout, stderr, code := run(t, b, "config")
	assert.Equal(t, code, 0, stderr)
	assert.Check(t, is.Contains(stdout, "Host(`pad.test.picasoft.net`)"))
	assert.Check(t, is.Contains(stdout, "URL: https://pad.test.picasoft.net"))
	assert.Check(t, is.Contains(stdout, "image: registry.picasoft.net/pica-pad:1.0"))
	assert.Check(t, is.Contains(stdout, "net.picasoft.picatest.started"))
	assert.Check(t, !strings.Contains(stdout, "real-secret-value"))
}

func TestLoadErrorsSayWhatToDo(t *testing.T) {
	b := &fakeBackend{err: io.ErrUnexpectedEOF}
	_, stderr, code := run(t, b, "config")
	assert.Equal(t, code, exitcode.Invalid)
	assert.Check(t, is.Contains(stderr, "Fix the Compose file"))
}

func TestLogsFollowShorthandDoesNotClashWithFile(t *testing.T) {
	b := &fakeBackend{project: composetest.Load(t, "services:\n  web:\n    image: nginx:1.25\n", nil)}
	_, stderr, code := run(t, b, "-f", "a.yml", "logs", "-f", "--file", "b.yml", "web")
	assert.Equal(t, code, 0, stderr)
	assert.DeepEqual(t, b.got.ConfigPaths, []string{"a.yml", "b.yml"})
}

func TestUpDryRunPrintsThePlan(t *testing.T) {
	b := &fakeBackend{project: composetest.Load(t, `
services:
  pad:
    build: .
    image: registry.picasoft.net/pica-pad:1.0
    labels:
      traefik.http.routers.pad.rule: Host(`+"`pad.picasoft.net`"+`)
      traefik.http.routers.pad.tls: "true"
  db:
    image: postgres:12
volumes:
  data:
    name: pad-data
    external: true
`, map[string]string{"Dockerfile": "FROM scratch\n"})}
	stdout, stderr, code := run(t, b, "up", "--dry-run", "--proxy", "127.0.0.1:18443")
	assert.Equal(t, code, 0, stderr)
	for _, want := range []string{
		"dry run: nothing is changed",
		"external volumes removed and re-created empty: pad-data",
		"build (labelled test-build): pad (registry.picasoft.net/pica-pad:1.0)",
		"pull: db (postgres:12)",
		"5. smoke checks through 127.0.0.1:18443: https://pad.test.picasoft.net/; then the log scan",
	} {
		assert.Check(t, is.Contains(stdout, want))
	}
	stdout, _, _ = run(t, b, "up", "--dry-run", "--no-smoke")
	assert.Check(t, is.Contains(stdout, "5. smoke checks and log scan: skipped (--no-smoke)"))
}
