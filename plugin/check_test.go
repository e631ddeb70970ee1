package plugin

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"testing"

	"github.com/docker/cli/cli/command"
	"github.com/docker/compose/v5/pkg/compose"
	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"

	"github.com/picasoft/docker-picatest/internal/exitcode"
	"github.com/picasoft/docker-picatest/internal/lint"
)

// runReal executes `docker picatest args...` with the real Compose SDK
// loader (no engine is needed to load a project) and returns stdout,
// stderr and the exit code.
func runReal(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	for _, env := range []string{"PICATEST_PROD_DOMAIN", "PICATEST_TEST_DOMAIN", "PICATEST_REGISTRY", "COMPOSE_FILE", "COMPOSE_PROJECT_NAME", "COMPOSE_PROFILES"} {
		t.Setenv(env, "")
	}
	return runWith(t, func(c command.Cli, _ string) (Backend, error) {
		return compose.NewComposeService(c)
	}, args...)
}

// fixture copies testdata/check/<name> into a fresh git work tree and
// returns its path. check's git findings are part of what is tested: without
// git the test fails, it never drops them.
func fixture(t *testing.T, name string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), name)
	assert.NilError(t, os.CopyFS(dir, os.DirFS(filepath.Join("testdata", "check", name))))
	_, err := exec.LookPath("git")
	assert.NilError(t, err, "git is needed by check's tests (apt-get install git)")
	out, err := exec.Command("git", "-C", dir, "init", "-q").CombinedOutput()
	assert.NilError(t, err, string(out))
	return dir
}

func checkJSON(t *testing.T, dir string) (checkReport, string, int) {
	t.Helper()
	stdout, stderr, code := runReal(t, "-f", filepath.Join(dir, "compose.yaml"), "check", "--format", "json")
	var r checkReport
	assert.NilError(t, json.Unmarshal([]byte(stdout), &r), "stdout: %s\nstderr: %s", stdout, stderr)
	return r, stderr, code
}

func TestCheckGoodFixtureHasNoFindings(t *testing.T) {
	dir := fixture(t, "good")
	r, stderr, code := checkJSON(t, dir)
	assert.Equal(t, code, 0, stderr)
	assert.Check(t, is.Len(r.Findings, 0), "%+v", r.Findings)

	stdout, stderr, code := runReal(t, "-f", filepath.Join(dir, "compose.yaml"), "check")
	assert.Equal(t, code, 0, stderr)
	assert.Check(t, is.Contains(stdout, "no findings"))
}

func TestCheckBadFixtureReportsEachRule(t *testing.T) {
	dir := fixture(t, "bad")
	// A real secrets file committed by mistake, and one not ignored.
	assert.NilError(t, os.WriteFile(filepath.Join(dir, "db.secrets"), []byte("hunter2\n"), 0o600))
	assert.NilError(t, os.WriteFile(filepath.Join(dir, "app.secrets"), []byte("TOKEN=x\n"), 0o600))
	out, err := exec.Command("git", "-C", dir, "add", "db.secrets").CombinedOutput()
	assert.NilError(t, err, string(out))

	r, stderr, code := checkJSON(t, dir)
	assert.Equal(t, code, exitcode.Failed, stderr)
	assert.Check(t, is.Contains(stderr, "check found"))

	type key struct{ severity, rule, service string }
	got := map[key]lint.Finding{}
	for _, f := range r.Findings {
		got[key{f.Severity, f.Rule, f.Service}] = f
		assert.Check(t, f.File == "compose.yaml", "%+v", f)
		assert.Check(t, f.Hint != "", "%+v", f)
	}
	want := map[key]int{ // line in compose.yaml
		{lint.Error, "image-untagged", "web"}:             3,
		{lint.Error, "traefik-test-host", "web"}:          6,
		{lint.Warning, "traefik-foreign-host", "web"}:     6,
		{lint.Warning, "traefik-network", "web"}:          7,
		{lint.Warning, "traefik-healthcheck", "web"}:      2,
		{lint.Warning, "traefik-external-network", "web"}: 2,
		{lint.Error, "image-latest", "app"}:               10,
		{lint.Error, "build-image-registry", "app"}:       10,
		{lint.Error, "secrets-example", "app"}:            11,
		{lint.Warning, "build-without-image", "worker"}:   13,
		{lint.Warning, "secrets-not-ignored", "app"}:      11,
		{lint.Error, "secrets-tracked", ""}:               19,
	}
	for k, line := range want {
		f, ok := got[k]
		if assert.Check(t, ok, "missing %+v in %+v", k, r.Findings) {
			assert.Check(t, is.Equal(f.Line, line), "%+v", f)
		}
	}
	assert.Check(t, is.Len(r.Findings, len(want)), "%+v", r.Findings)
	assert.Check(t, is.Equal(r.Errors+r.Warnings, len(r.Findings)))
	assert.Check(t, sort.SliceIsSorted(r.Findings, func(i, j int) bool { return r.Findings[i].Line < r.Findings[j].Line }))

	stdout, _, code := runReal(t, "-f", filepath.Join(dir, "compose.yaml"), "check")
	assert.Equal(t, code, exitcode.Failed)
	assert.Check(t, is.Contains(stdout, "SEVERITY  LOCATION         RULE                      MESSAGE\n"))
	assert.Check(t, is.Contains(stdout, "\nerror     compose.yaml:3   image-untagged            service web uses image nginx without a tag (latest is implied)\n"+
		"          hint: add an explicit version tag, e.g. nginx:1.0\n"))
	assert.Check(t, is.Contains(stdout, "\nwarning   compose.yaml:2   traefik-healthcheck       service web is routed by Traefik but has no healthcheck"))
	assert.Check(t, is.Contains(stdout, "\n          hint: add a healthcheck so that 'up' waits for the service to be ready; if the image declares its own HEALTHCHECK this is fine, but check cannot read the image statically\n"))
	assert.Check(t, is.Contains(stdout, "project bad: "))
}

func TestCheckRejectsUnknownFormat(t *testing.T) {
	_, stderr, code := run(t, &fakeBackend{}, "check", "--format", "yaml")
	assert.Equal(t, code, exitcode.Invalid)
	assert.Check(t, is.Contains(stderr, "--format text or --format json"))
}
