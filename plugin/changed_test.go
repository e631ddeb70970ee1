package plugin

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"

	"github.com/picasoft/docker-picatest/internal/exitcode"
	"github.com/picasoft/docker-picatest/internal/junit"
	"github.com/picasoft/docker-picatest/internal/junit/junittest"
	"github.com/picasoft/docker-picatest/internal/mask"
	"github.com/picasoft/docker-picatest/smoke"
	"github.com/picasoft/docker-picatest/testrun"
)

func TestUpChangedRefusesConflictingFlags(t *testing.T) {
	t.Setenv("COMPOSE_FILE", "")
	t.Setenv("COMPOSE_PROJECT_NAME", "")
	cases := []struct {
		args []string
		env  string
		want string
	}{
		{args: []string{"-f", "a.yml", "up", "--changed"}, want: "drop -f/--file"},
		{args: []string{"up", "--changed", "-p", "x", "--project-directory", "/srv"}, want: "drop -p/--project-name, --project-directory"},
		{args: []string{"up", "--changed"}, env: "COMPOSE_PROJECT_NAME", want: "drop COMPOSE_PROJECT_NAME"},
		{args: []string{"up", "--changed"}, env: "COMPOSE_FILE", want: "drop COMPOSE_FILE"},
		{args: []string{"up", "--changed", "--follow"}, want: "drop --follow"},
		{args: []string{"up", "--changed", "pad"}, want: "drop the service names pad"},
		{args: []string{"up", "--since", "main"}, want: "add --changed, or drop --since"},
		{args: []string{"up", "--dry-run", "--junit", "r.xml"}, want: "drop one of the two flags"},
	}
	for _, tc := range cases {
		t.Run(strings.Join(tc.args, " ")+" "+tc.env, func(t *testing.T) {
			if tc.env != "" {
				t.Setenv(tc.env, "x")
			}
			_, stderr, code := run(t, &fakeBackend{}, tc.args...)
			assert.Equal(t, code, exitcode.Invalid, stderr)
			assert.Check(t, is.Contains(stderr, tc.want))
		})
	}
}

func TestUpChangedDryRunListsTheFolders(t *testing.T) {
	t.Setenv("COMPOSE_FILE", "")
	t.Setenv("COMPOSE_PROJECT_NAME", "")
	dir := t.TempDir()
	git := func(args ...string) {
		cmd := exec.Command("git", append([]string{"-c", "user.email=t@example.invalid", "-c", "user.name=t"}, args...)...)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		assert.NilError(t, err, "%s", out)
	}
	write := func(name, content string) {
		p := filepath.Join(dir, name)
		assert.NilError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		assert.NilError(t, os.WriteFile(p, []byte(content), 0o644))
	}
	git("init", "-q", "-b", "main")
	write("pad/compose.yaml", "services: {pad: {image: pad}}\n")
	write("mail/compose.yaml", "services: {mail: {image: mail}}\n")
	write("README.md", "repo\n")
	git("add", "-A")
	git("commit", "-q", "-m", "base")
	write("pad/conf.json", "{}\n")
	write("README.md", "repo!\n")
	t.Chdir(filepath.Join(dir, "mail"))

	stdout, stderr, code := run(t, &fakeBackend{}, "up", "--changed", "--since", "main", "--dry-run")
	assert.Equal(t, code, 0, stderr)
	assert.Check(t, is.Contains(stdout, "Changed service folders since main"))
	assert.Check(t, is.Contains(stdout, "pad: would run 'docker picatest up' in "+filepath.Join(dir, "pad")+", for its changed files:\n  pad/conf.json\n"))
	assert.Check(t, !strings.Contains(stdout, "mail:"))
	assert.Check(t, is.Contains(stdout, "Changed outside every service folder (not tested"))
	assert.Check(t, is.Contains(stdout, "\n  README.md\n"))

	_, stderr, code = run(t, &fakeBackend{}, "up", "--changed", "--since", "nope", "--dry-run")
	assert.Equal(t, code, exitcode.Invalid)
	assert.Check(t, is.Contains(stderr, "--since nope: no such commit"))
}

// upSuite builds the JUnit cases from the report of up: a wait each, a
// smoke URL each, a log scan each; the secrets masked.
func TestUpSuite(t *testing.T) {
	secrets := filepath.Join(t.TempDir(), "app.secrets")
	assert.NilError(t, os.WriteFile(secrets, []byte("TOKEN=hunter2secret\n"), 0o600))
	m, err := mask.New([]string{secrets})
	assert.NilError(t, err)
	var suites []junit.Suite

	t.Run("a failed wait, with its log lines; the checks not run", func(t *testing.T) {
		rep := &testrun.Report{Project: "pad", Result: "failed", WaitFailed: true,
			Services: []testrun.ServiceReport{
				{Service: "db", State: "running", Health: "healthy", Done: true},
				{Service: "pad", State: "running", Health: "unhealthy"},
				{Service: "worker", State: "created"},
			},
			Failure: &testrun.FailureReport{Service: "pad", Reason: "unhealthy", State: "running", Health: "unhealthy",
				LogTail: []string{"starting", "token hunter2secret rejected"}},
		}
		s := upSuite("pica-pad", rep, errors.New("test failed"), false, m)
		suites = append(suites, s)
		assert.DeepEqual(t, caseSummary(s), []string{
			"wait db: ok", "wait pad: failure unhealthy", "wait worker: skipped", "smoke checks and log scan: skipped",
		})
		text := s.Cases[1].Failure.Text
		assert.Check(t, is.Contains(text, "Last log lines:\n  starting\n  token ******** rejected\n"))
		assert.Check(t, !strings.Contains(text, "hunter2secret"))
	})
	t.Run("smoke checks and log scan", func(t *testing.T) {
		rep := &testrun.Report{Project: "pad", Result: "failed",
			Services: []testrun.ServiceReport{{Service: "pad", State: "running", Done: true}, {Service: "web", State: "running", Done: true}},
			CheckResult: testrun.CheckResult{
				Smoke: &testrun.SmokeSection{Checks: []testrun.SmokeCheck{
					{Service: "pad", URL: "https://pad.test.picasoft.net/", Result: string(smoke.OK)},
					{Service: "web", URL: "https://web.test.picasoft.net/", Result: "status 500", Line: "https://web.test.picasoft.net/ 500"},
					{Service: "web", Router: "web-regexp", Result: string(smoke.Skipped), Line: "skipped: HostRegexp"},
				}},
				Logs: &testrun.LogSection{Strict: true, Matches: []smoke.LogMatch{{Service: "web", Container: "web-1", Lines: []string{"error: boom"}, Total: 3}}},
			},
		}
		s := upSuite("pica-pad", rep, nil, false, nil)
		suites = append(suites, s)
		assert.DeepEqual(t, caseSummary(s), []string{
			"wait pad: ok", "wait web: ok",
			"smoke https://pad.test.picasoft.net/: ok", "smoke https://web.test.picasoft.net/: failure https://web.test.picasoft.net/: status 500",
			"smoke web router web-regexp: skipped",
			"logs pad: ok", "logs web: failure 3 error lines in the logs (--strict)",
		})
		assert.Check(t, is.Contains(s.Cases[3].Failure.Text, "Error lines in the logs of service web:\n  web-1 | error: boom\n  web-1 | ... 2 more"))
	})
	t.Run("stopped before the report", func(t *testing.T) {
		s := upSuite("pica-pad", nil, exitcode.With(exitcode.Refused, errors.New("project pad is owned by alice\nuse --takeover")), false, nil)
		suites = append(suites, s)
		assert.DeepEqual(t, caseSummary(s), []string{"up: error project pad is owned by alice"})
	})
	t.Run("stopped before the report, the error quoting a secret", func(t *testing.T) {
		s := upSuite("pica-pad", nil, errors.New("line 2: unexpected hunter2secret\nfix app.secrets"), false, m)
		suites = append(suites, s)
		assert.DeepEqual(t, caseSummary(s), []string{"up: error line 2: unexpected ********"})
		assert.Check(t, is.Equal(s.Cases[0].Error.Text, "line 2: unexpected ********\nfix app.secrets"))
	})
	// The suites of every case, written together, are valid JUnit.
	path := filepath.Join(t.TempDir(), "report.xml")
	assert.NilError(t, writeJUnit(path, "docker picatest up --changed", suites...))
	junittest.AssertValid(t, path)
}

func caseSummary(s junit.Suite) []string {
	var out []string
	for _, c := range s.Cases {
		switch {
		case c.Failure != nil:
			out = append(out, c.Name+": failure "+c.Failure.Message)
		case c.Error != nil:
			out = append(out, c.Name+": error "+c.Error.Message)
		case c.Skipped != nil:
			out = append(out, c.Name+": skipped")
		default:
			out = append(out, c.Name+": ok")
		}
	}
	return out
}
