package e2e

import (
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"

	"github.com/picasoft/docker-picatest/internal/junit"
	"github.com/picasoft/docker-picatest/internal/junit/junittest"
)

// TestUpChanged is up --changed on a repository of three service folders
// (alpha, beta, gamma), two of them changed on a branch: beta by a commit,
// alpha by an uncommitted change that makes its service unhealthy. Exactly
// alpha and beta are tested, alpha's failure does not stop beta's test,
// the combined report and the JUnit file list both, and the exit code is
// 1. --dry-run lists the same two folders with their changed files.
func TestUpChanged(t *testing.T) {
	p := newProject(t)
	// Each folder is its own Compose project (its name: in compose.yaml),
	// removed before and after the test as newProject does for p.
	for _, folder := range []string{"alpha", "beta", "gamma"} {
		q := &project{t: t, Name: "e2e_testupchanged_" + folder}
		q.cleanupProject()
		t.Cleanup(q.cleanupProject)
	}
	// up --changed refuses COMPOSE_PROJECT_NAME, which newProject sets for
	// p: an empty value is unset for Compose too.
	env := []string{"COMPOSE_PROJECT_NAME="}
	p.git("checkout", "-q", "-b", "feature")
	edit(t, filepath.Join(p.Dir, "beta", "compose.yaml"), `LOG_LINES: "starting beta"`, `LOG_LINES: "starting beta, version 2"`)
	p.commit("-am", "beta: version 2")
	edit(t, filepath.Join(p.Dir, "alpha", "compose.yaml"), `HEALTHY: "true"`, `HEALTHY: "false"`)
	assert.NilError(t, os.WriteFile(filepath.Join(p.Dir, "README.md"), []byte("shared, changed\n"), 0o644))
	// Run from a folder that did not change: the whole repository counts.
	sub := *p
	sub.Dir = filepath.Join(p.Dir, "gamma")

	t.Run("dry-run", func(t *testing.T) {
		for _, args := range [][]string{{"--since", "main"}, {}} { // the default: HEAD~1, no remote
			r := sub.dockerEnv(env, append([]string{"picatest", "up", "--changed", "--dry-run"}, args...)...)
			assert.Equal(t, r.ExitCode, 0, r)
			assert.Check(t, is.Contains(r.Stdout, "alpha: would run 'docker picatest up' in "+filepath.Join(p.Dir, "alpha")+", for its changed files:\n  alpha/compose.yaml\n"), r)
			assert.Check(t, is.Contains(r.Stdout, "beta: would run 'docker picatest up' in "+filepath.Join(p.Dir, "beta")+", for its changed files:\n  beta/compose.yaml\n"), r)
			assert.Check(t, !strings.Contains(r.Stdout, "gamma"), r)
			assert.Check(t, is.Contains(r.Stdout, "Changed outside every service folder (not tested"), r)
			assert.Check(t, is.Contains(r.Stdout, "\n  README.md\n"), r)
			assert.Equal(t, countProjectContainers(t, "alpha")+countProjectContainers(t, "beta"), 0, "a dry run starts nothing")
		}
	})

	t.Run("up", func(t *testing.T) {
		report := filepath.Join(t.TempDir(), "report.xml")
		r := sub.dockerEnv(env, "picatest", "up", "--changed", "--yes", "--stable", "1s", "--wait-timeout", "1m", "--progress", "plain", "--junit", report)
		assert.Equal(t, r.ExitCode, 1, r)
		// Each folder's own report, then the combined one.
		assert.Check(t, is.Contains(r.Stdout, "== alpha ==\n"), r)
		assert.Check(t, is.Contains(r.Stdout, "FAILED: service app: unhealthy"), r)
		assert.Check(t, is.Contains(r.Stdout, "== beta ==\n"), r)
		assert.Check(t, is.Contains(r.Stdout, "OK: project e2e_testupchanged_beta is up and healthy"), r)
		assert.Check(t, is.Regexp(`(?m)^alpha\s+e2e_testupchanged_alpha\s+failed\s+service app: unhealthy$`, r.Stdout), r)
		assert.Check(t, is.Regexp(`(?m)^beta\s+e2e_testupchanged_beta\s+ok\s+healthy \(`, r.Stdout), r)
		assert.Check(t, is.Contains(r.Stdout, "FAILED: 1 of 2 changed service folders passed"), r)
		assert.Check(t, !strings.Contains(r.Stdout, "gamma"), r)
		assert.Check(t, is.Contains(r.Stderr, "1 of 2 changed service folders did not pass: alpha"), r)
		assert.Equal(t, countProjectContainers(t, "gamma"), 0, "gamma did not change: not tested")
		assert.Equal(t, countProjectContainers(t, "beta"), 1)

		junittest.AssertValid(t, report)
		b, err := os.ReadFile(report)
		assert.NilError(t, err)
		var got junit.Report
		assert.NilError(t, xml.Unmarshal(b, &got), string(b))
		assert.Equal(t, len(got.Suites), 2, string(b))
		alpha, beta := got.Suites[0], got.Suites[1]
		assert.Equal(t, alpha.Name, "alpha")
		assert.Equal(t, alpha.Failures, 1, string(b))
		assert.Equal(t, alpha.Cases[0].Name, "wait app")
		assert.Assert(t, alpha.Cases[0].Failure != nil, string(b))
		assert.Check(t, is.Contains(alpha.Cases[0].Failure.Text, "Last log lines:\n  starting alpha"), string(b))
		assert.Equal(t, beta.Name, "beta")
		assert.Equal(t, beta.Failures+beta.Errors, 0, string(b))
		assert.Check(t, is.Contains(string(b), `<testcase name="logs app" classname="beta"`), string(b))
	})

	// up and smoke in one folder write their JUnit report too.
	t.Run("one folder", func(t *testing.T) {
		upReport, smokeReport := filepath.Join(t.TempDir(), "up.xml"), filepath.Join(t.TempDir(), "smoke.xml")
		r := sub.dockerEnv(env, "picatest", "up", "--yes", "--stable", "1s", "--progress", "plain", "--junit", upReport)
		assert.Equal(t, r.ExitCode, 0, r)
		junittest.AssertValid(t, upReport)
		r = sub.dockerEnv(env, "picatest", "smoke", "--junit", smokeReport)
		assert.Equal(t, r.ExitCode, 0, r)
		junittest.AssertValid(t, smokeReport)
		for path, want := range map[string]string{
			upReport:    `<testsuite name="e2e_testupchanged_gamma" tests="3" failures="0" errors="0" skipped="1"`,
			smokeReport: `<testsuite name="e2e_testupchanged_gamma" tests="2" failures="0" errors="0" skipped="1"`,
		} {
			b, err := os.ReadFile(path)
			assert.NilError(t, err)
			assert.Check(t, is.Contains(string(b), want), string(b))
		}
	})
}

// edit replaces old by new in the file at path (old must be there).
func edit(t *testing.T, path, old, new string) {
	t.Helper()
	b, err := os.ReadFile(path)
	assert.NilError(t, err)
	assert.Assert(t, strings.Contains(string(b), old), "%s has no %q", path, old)
	assert.NilError(t, os.WriteFile(path, []byte(strings.Replace(string(b), old, new, 1)), 0o644))
}

// countProjectContainers counts the containers of the TestUpChanged folder.
func countProjectContainers(t *testing.T, folder string) int {
	t.Helper()
	q := &project{t: t, Name: "e2e_testupchanged_" + folder}
	return q.countContainers()
}
