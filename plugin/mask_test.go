package plugin

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/docker/cli/cli/command"
	"github.com/docker/compose/v5/pkg/api"
	"github.com/spf13/cobra"
	"go.yaml.in/yaml/v4"
	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"

	"github.com/picasoft/docker-picatest/internal/composetest"
	"github.com/picasoft/docker-picatest/internal/exitcode"
	"github.com/picasoft/docker-picatest/internal/mask"
	"github.com/picasoft/docker-picatest/testrun"
	"github.com/picasoft/docker-picatest/transforms"
	"github.com/picasoft/docker-picatest/transforms/testurls"
)

func writeSecrets(t *testing.T, content string) string {
	t.Helper()
	f := filepath.Join(t.TempDir(), "app.secrets")
	assert.NilError(t, os.WriteFile(f, []byte(content), 0o600))
	return f
}

type recordedLogs struct{ lines []string }

func (r *recordedLogs) Log(_, m string)    { r.lines = append(r.lines, m) }
func (r *recordedLogs) Err(_, m string)    { r.lines = append(r.lines, m) }
func (r *recordedLogs) Status(_, m string) { r.lines = append(r.lines, m) }

type logsBackend struct {
	fakeBackend
	lines []string
}

func (b *logsBackend) Logs(_ context.Context, _ string, c api.LogConsumer, _ api.LogOptions) error {
	c.Log("web-1", b.lines[0])
	c.Err("web-1", b.lines[1])
	c.Status("web-1", b.lines[2])
	return nil
}

func TestMaskingBackendLogs(t *testing.T) {
	root := &rootOptions{}
	inner := &logsBackend{lines: []string{"out: log-secret-1", "err: log-secret-1", "status"}}
	newBackend := root.withMasking(func(_ command.Cli, _ string) (Backend, error) { return inner, nil })
	b, err := newBackend(nil, "")
	assert.NilError(t, err)

	var got recordedLogs
	assert.NilError(t, b.Logs(context.Background(), "p", &got, api.LogOptions{}))
	assert.Check(t, is.DeepEqual(got.lines, inner.lines), "no redactor yet: unchanged")

	m, err := mask.New([]string{writeSecrets(t, "X=log-secret-1\n")})
	assert.NilError(t, err)
	root.masks.Set(m)
	got = recordedLogs{}
	assert.NilError(t, b.Logs(context.Background(), "p", &got, api.LogOptions{}))
	assert.Check(t, is.DeepEqual(got.lines, []string{"out: ********", "err: ********", "status"}))
}

func TestMaskErrors(t *testing.T) {
	root := &rootOptions{}
	run := root.maskErrors(func(*cobra.Command, []string) error {
		return exitcode.With(exitcode.Invalid, errors.New("cannot parse err-secret-1"))
	})
	err := run(nil, nil)
	assert.Check(t, is.Error(err, "cannot parse err-secret-1"), "no redactor: unchanged")

	m, err := mask.New([]string{writeSecrets(t, "X=err-secret-1\n")})
	assert.NilError(t, err)
	root.masks.Set(m)
	err = run(nil, nil)
	assert.Check(t, is.Error(err, "cannot parse ********"))
	assert.Check(t, is.Equal(exitcode.Of(err), exitcode.Invalid))
	assert.Check(t, root.maskErrors(nil) == nil)
}

// A secrets file the dotenv parser rejects is quoted in its error: the
// error is masked, the Masker being installed before the environment is
// resolved.
func TestLoadErrorOfAMalformedSecretsFileIsMasked(t *testing.T) {
	b := &fakeBackend{project: composetest.Load(t, "services:\n  app:\n    image: nginx:1.25\n    env_file: app.secrets\n",
		map[string]string{"app.secrets": "A=1\nB=\"canary-4f2a9c1e-unterminated\n"})}
	_, stderr, code := run(t, b, "config", "--real-secrets")
	assert.Equal(t, code, exitcode.Invalid, stderr)
	assert.Check(t, is.Contains(stderr, "unterminated"), stderr)
	assert.Check(t, !strings.Contains(stderr, "canary-4f2a9c1e"), stderr)
}

// A real secrets file of short common values (SPEC §4): config --format
// json and config stay valid JSON and YAML of the same types; the values
// are masked where they are the whole value of their variable, nowhere
// else; each is named once in a warning.
func TestConfigWithShortSecretsStaysValid(t *testing.T) {
	compose := "services:\n  db:\n    image: postgres:16\n    read_only: true\n    env_file: db.secrets\n    environment:\n      OTHER: postgres\n    ports:\n      - \"5432:5432\"\n"
	secrets := "POSTGRES_USER=postgres\nPGPORT=5432\nREAD_ONLY=true\nPOSTGRES_PASSWORD=canary-7d41e0-long\n"
	b := &fakeBackend{project: composetest.Load(t, compose, map[string]string{"db.secrets": secrets, "db.secrets.example": "POSTGRES_USER=u\nPGPORT=1\nREAD_ONLY=false\nPOSTGRES_PASSWORD=example\n"})}

	stdout, stderr, code := run(t, b, "config", "--real-secrets", "--format", "json")
	assert.Equal(t, code, 0, stderr)
	var model struct {
		Services map[string]struct {
			Image       string            `json:"image"`
			ReadOnly    bool              `json:"read_only"`
			Environment map[string]string `json:"environment"`
			Ports       []struct {
				Target    int    `json:"target"`
				Published string `json:"published"`
			} `json:"ports"`
		} `json:"services"`
	}
	assert.NilError(t, json.Unmarshal([]byte(stdout), &model), stdout)
	db := model.Services["db"]
	assert.Check(t, is.Equal(db.Image, "postgres:16"))
	assert.Check(t, db.ReadOnly)
	assert.Check(t, is.DeepEqual(db.Environment, map[string]string{
		"POSTGRES_USER": mask.Masked, "PGPORT": mask.Masked, "READ_ONLY": mask.Masked, "POSTGRES_PASSWORD": mask.Masked, "OTHER": "postgres",
	}))
	assert.Check(t, is.Len(db.Ports, 1))
	assert.Check(t, is.Equal(db.Ports[0].Target, 5432))
	assert.Check(t, is.Equal(db.Ports[0].Published, "5432"))
	assert.Check(t, !strings.Contains(stdout, "canary-7d41e0"))
	for _, key := range []string{"POSTGRES_USER", "PGPORT", "READ_ONLY"} {
		assert.Check(t, is.Equal(strings.Count(stderr, "WARNING: the value of "+key+" in "), 1), stderr)
	}
	assert.Check(t, !strings.Contains(stderr, "POSTGRES_PASSWORD"), "a long value is masked everywhere: no warning")

	stdout, stderr, code = run(t, b, "config", "--real-secrets")
	assert.Equal(t, code, 0, stderr)
	var y map[string]any
	assert.NilError(t, yaml.Unmarshal([]byte(stdout), &y), stdout)
	assert.Check(t, is.Contains(stdout, "image: postgres:16\n"))
	assert.Check(t, is.Contains(stdout, "read_only: true\n"))
	assert.Check(t, is.Contains(stdout, "POSTGRES_USER: '********'\n"))
	assert.Check(t, is.Contains(stdout, "OTHER: postgres\n"))
}

// A secret that holds a production host is rewritten to the test host: it
// is masked in that form too, in the model, its diff and the rewrites
// listed, with --real-secrets or in a secrets file without an example.
func TestConfigMasksRewrittenSecrets(t *testing.T) {
	const token = "tok-5be2c09a"
	compose := "services:\n  web:\n    image: nginx:1.25\n    env_file: [app.secrets, hooks.secrets]\n"
	files := map[string]string{
		"app.secrets":         "WEBHOOK=https://team.picasoft.net/hooks/" + token + "-a\n",
		"app.secrets.example": "WEBHOOK=https://team.picasoft.net/hooks/example\n",
		"hooks.secrets":       "ALERTS=https://chat.picasoft.net/hooks/" + token + "-b\n", // no example: always real
	}
	b := &fakeBackend{project: composetest.Load(t, compose, files)}
	for _, args := range [][]string{
		{"config"}, {"config", "--format", "json"}, {"config", "--diff"},
		{"config", "--real-secrets"}, {"config", "--real-secrets", "--format", "json"}, {"config", "--real-secrets", "--diff"},
	} {
		stdout, stderr, code := run(t, b, args...)
		assert.Check(t, is.Equal(code, 0), stderr)
		assert.Check(t, !strings.Contains(stdout+stderr, token), "%v:\n%s", args, stdout)
	}
	stdout, _, _ := run(t, b, "config", "--real-secrets", "--diff")
	assert.Check(t, is.Contains(stdout, "environment.WEBHOOK: ******** -> ********"), stdout)
	stdout, _, _ = run(t, b, "config")
	assert.Check(t, is.Contains(stdout, "WEBHOOK: https://team.test.picasoft.net/hooks/example\n"), "the example is not masked")
	assert.Check(t, is.Contains(stdout, "ALERTS: '********'\n"))
}

// The JUnit report of an up that stopped before its report (here, on a
// secrets file the dotenv parser rejects, whose error quotes the line) is
// masked as every output is.
func TestJUnitOfAnUpStoppedEarlyIsMasked(t *testing.T) {
	b := &fakeBackend{project: composetest.Load(t, "services:\n  app:\n    image: nginx:1.25\n    env_file: app.secrets\n",
		map[string]string{"app.secrets": "A=1\nB=\"canary-91c3d7e2-unterminated\n"})}
	report := filepath.Join(t.TempDir(), "report.xml")
	_, stderr, code := run(t, b, "up", "--real-secrets", "--junit", report)
	assert.Equal(t, code, exitcode.Invalid, stderr)
	assert.Check(t, !strings.Contains(stderr, "canary-91c3d7e2"), stderr)
	xml, err := os.ReadFile(report)
	assert.NilError(t, err)
	assert.Check(t, is.Contains(string(xml), "unterminated"), string(xml))
	assert.Check(t, is.Contains(string(xml), mask.Masked))
	assert.Check(t, !strings.Contains(string(xml), "canary-91c3d7e2"), string(xml))
}

// The JSON report of up lists the rewrite of a secret that holds a
// production host: both forms are masked, the report stays valid JSON of
// the same types (a short secret equal to a number is left alone).
func TestUpJSONReportMasksRewrittenSecrets(t *testing.T) {
	rw, err := testurls.New("picasoft.net", "test.picasoft.net")
	assert.NilError(t, err)
	m, err := mask.New([]string{writeSecrets(t, "WEBHOOK=https://team.picasoft.net/hooks/tok-0c8e5a71\nRESTARTS=2\n")})
	assert.NilError(t, err)
	root := &rootOptions{}
	root.masks.Set(m.WithRewriters(rw))
	rep := &testrun.Report{Project: "p", Result: "ok", Services: []testrun.ServiceReport{{Service: "web", State: "running", Restarts: 2}},
		Rewrites: []transforms.Change{{Transform: "test-urls", Where: "services.web.environment.WEBHOOK",
			Old: "https://team.picasoft.net/hooks/tok-0c8e5a71", New: "https://team.test.picasoft.net/hooks/tok-0c8e5a71"}}}
	out, err := renderReport(rep, "json")
	assert.NilError(t, err)
	var b strings.Builder
	assert.NilError(t, root.masks.WriteJSON(&b, out))
	assert.Check(t, !strings.Contains(b.String(), "tok-0c8e5a71"), b.String())
	var got struct {
		Services []struct{ Restarts int }
		Rewrites []transforms.Change
	}
	assert.NilError(t, json.Unmarshal([]byte(b.String()), &got), b.String())
	assert.Check(t, is.Equal(got.Services[0].Restarts, 2))
	assert.Check(t, is.Equal(got.Rewrites[0].Old, mask.Masked))
	assert.Check(t, is.Equal(got.Rewrites[0].New, mask.Masked))
	assert.Check(t, is.Equal(got.Rewrites[0].Where, "services.web.environment.WEBHOOK"))
}
