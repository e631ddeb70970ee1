package testrun

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/docker/compose/v5/pkg/api"
	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"

	"github.com/picasoft/docker-picatest/internal/composetest"
	"github.com/picasoft/docker-picatest/internal/deploy"
	"github.com/picasoft/docker-picatest/internal/exitcode"
	"github.com/picasoft/docker-picatest/internal/testproject"
)

// loader returns the project of a test.
type loader struct{ p *types.Project }

func (l loader) LoadProject(context.Context, api.ProjectLoadOptions) (*types.Project, error) {
	return l.p, nil
}

// testProject loads composeYAML (with files beside it) as up does.
func testProject(t *testing.T, composeYAML string, files map[string]string) *testproject.Project {
	t.Helper()
	tp, err := testproject.Load(context.Background(), loader{composetest.Load(t, composeYAML, files)}, testproject.Options{}, testproject.LoadOptions{Labels: true})
	assert.NilError(t, err)
	return tp
}

const buildAndPull = `
services:
  web:
    image: registry.picasoft.net/web:1
    build: .
    volumes: [data:/data]
  db:
    image: postgres:12
volumes:
  data:
    name: web-data
    external: true
`

// TestNewPlansWithoutTheEngine: New reads the options into the plan (the
// reset or not) and the checks, and contacts nothing: it has no engine.
func TestNewPlansWithoutTheEngine(t *testing.T) {
	tp := testProject(t, buildAndPull, map[string]string{"Dockerfile": "FROM scratch\n"})
	r, err := New(tp, nil, Options{Reset: true, Checks: CheckOptions{NoSmoke: true}})
	assert.NilError(t, err)
	plan := r.Plan()
	assert.Check(t, plan.Reset)
	assert.Check(t, is.DeepEqual(plan.Build, []string{"web"}))
	assert.Check(t, is.DeepEqual(plan.Pull, []string{"db"}))
	assert.Check(t, is.DeepEqual(plan.ExternalVolumes, []string{"web-data"}))
	assert.Check(t, r.Checks().Opts.NoSmoke)
	assert.Check(t, is.Len(r.Checks().Targets, 0))
	assert.Check(t, r.Project() == tp.Project)
	assert.Check(t, r.Started().IsZero())
	r.Release() // before Test: nothing to release

	r, err = New(tp, nil, Options{})
	assert.NilError(t, err)
	assert.Check(t, !r.Plan().Reset, "no reset unless asked (up --no-reset)")
}

// TestNewRefusesBadCheckSettings: a proxy the checks cannot use is an
// invalid input (exit 2) before anything starts.
func TestNewRefusesBadCheckSettings(t *testing.T) {
	tp := testProject(t, buildAndPull, map[string]string{"Dockerfile": "FROM scratch\n"})
	tp.Settings.Proxy = "http://a b"
	_, err := New(tp, nil, Options{})
	assert.Check(t, is.Equal(exitcode.Of(err), exitcode.Invalid), "%v", err)
	assert.Check(t, is.ErrorContains(err, "--proxy / PICATEST_PROXY"))
}

// TestReportFailed: the test fails (exit 1) on the wait's failure first,
// else on the checks'; the record keeps the wait's reason alone.
func TestReportFailed(t *testing.T) {
	passed := &Report{Result: "ok"}
	assert.NilError(t, passed.Failed())
	assert.NilError(t, passed.verdict())

	wait := &Report{Result: "failed", WaitFailed: true, Failure: &FailureReport{Service: "pad", Reason: "unhealthy"}}
	err := wait.Failed()
	assert.Check(t, is.Equal(exitcode.Of(err), exitcode.Failed))
	assert.Check(t, strings.HasPrefix(err.Error(), "test failed: service pad: unhealthy\n"), err.Error())
	assert.Check(t, is.Contains(err.Error(), "'docker picatest down' removes it"))
	assert.Check(t, is.Error(wait.verdict(), "service pad: unhealthy"))

	checks := &Report{Result: "failed", CheckResult: CheckResult{Smoke: &SmokeSection{Checks: []SmokeCheck{{Service: "web", URL: "https://web/", Result: "no-router"}}}}}
	err = checks.Failed()
	assert.Check(t, is.Equal(exitcode.Of(err), exitcode.Failed))
	assert.Check(t, is.Contains(err.Error(), "test failed: service web: smoke check https://web/: no-router\n"))
	assert.Check(t, is.Contains(err.Error(), "rerun the checks with 'docker picatest smoke'"))
	assert.Check(t, is.Equal(checks.verdict().Error(), err.Error()))
}

// TestResetVolumes: what the reset re-creates, as the reset's phase line
// and the dry-run plan say it.
func TestResetVolumes(t *testing.T) {
	assert.Check(t, is.Equal(ResetVolumes(deploy.Plan{}), "none"))
	got := ResetVolumes(deploy.Plan{
		ExternalVolumes: []string{"pad-data", "pad-db"},
		InstanceVolumes: []string{"pad-x_data"},
		NotOwned:        []deploy.Object{{Kind: "volume", Name: "pad_cache"}},
	})
	assert.Check(t, strings.HasPrefix(got, "pad-data, pad-db; volumes of the instance, in place of the external ones, removed and created empty: pad-x_data; not created by this deployment, treated as external (volumes re-created empty, networks kept): volume pad_cache ("), got)
}

// fakeBackend records the names of the Backend methods called, in order.
type fakeBackend struct {
	Backend
	mu    sync.Mutex
	calls []string
}

func (f *fakeBackend) record(method string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, method)
}

func (f *fakeBackend) Build(context.Context, *types.Project, api.BuildOptions) error {
	f.record("Build")
	return nil
}

func (f *fakeBackend) Create(_ context.Context, _ *types.Project, o api.CreateOptions) error {
	f.record("Create " + strings.Join(o.Services, ","))
	return nil
}

// TestBuildThenCreate: without a reset and with nothing to pull, the run
// builds, then creates the containers of the services named, announcing
// each phase; it needs no engine for that.
func TestBuildThenCreate(t *testing.T) {
	tp := testProject(t, "services:\n  web:\n    image: registry.picasoft.net/web:1\n    build: .\n", map[string]string{"Dockerfile": "FROM scratch\n"})
	var phases []string
	b := &fakeBackend{}
	r, err := New(tp, b, Options{Services: []string{"web"}, Phase: func(format string, args ...any) {
		phases = append(phases, fmt.Sprintf(format, args...))
	}})
	assert.NilError(t, err)
	warnings, err := r.resetBuildPull(context.Background())
	assert.NilError(t, err)
	assert.Check(t, is.Len(warnings, 0))
	assert.Check(t, is.DeepEqual(b.calls, []string{"Build", "Create web"}))
	assert.Check(t, is.DeepEqual(phases, []string{"build: web", "start"}))
	assert.Check(t, !r.Started().IsZero())
}
