package plugin

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/docker/cli/cli/command"
	"github.com/docker/compose/v5/pkg/api"
	"github.com/spf13/cobra"
	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"

	"github.com/picasoft/docker-picatest/internal/composetest"
	"github.com/picasoft/docker-picatest/internal/exitcode"
	"github.com/picasoft/docker-picatest/internal/mask"
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
