package plugin

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/docker/cli/cli/command"
	"github.com/docker/compose/v5/pkg/api"
	"github.com/spf13/cobra"
	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"

	"github.com/picasoft/docker-picatest/internal/exitcode"
)

func writeSecrets(t *testing.T, content string) string {
	t.Helper()
	f := filepath.Join(t.TempDir(), "app.secrets")
	assert.NilError(t, os.WriteFile(f, []byte(content), 0o600))
	return f
}

func TestRedactorValues(t *testing.T) {
	f := writeSecrets(t, "# a comment\nPASSWORD=s3cret-value\nMULTI=\"line-one-value\nline-two-value\"\nSHORT=abc\n")
	r, err := newRedactor([]string{f})
	assert.NilError(t, err)
	for in, want := range map[string]string{
		"login with s3cret-value failed": "login with ******** failed",
		`{"password": "s3cret-value"}`:   `{"password": "********"}`,
		"printed alone: line-two-value":  "printed alone: ********",
		"too short to mask: abc":         "too short to mask: abc",
		"a comment":                      "a comment",
	} {
		assert.Check(t, is.Equal(r.String(in), want))
	}
}

// The dotenv parser quotes the line it rejects in its error: the raw text
// after '=' is masked too.
func TestRedactorMalformedFile(t *testing.T) {
	f := writeSecrets(t, "TOKEN=\"unterminated-secret-token\nOTHER=1\n")
	r, err := newRedactor([]string{f})
	assert.NilError(t, err)
	assert.Check(t, is.Equal(r.String(`line 1: unterminated quoted value "unterminated-secret-token`), "line 1: unterminated quoted value ********"))
}

// A real secrets file that the command does not use is read when it can
// be, and ignored when it cannot.
func TestRedactorBestEffort(t *testing.T) {
	f := writeSecrets(t, "PASSWORD=best-effort-secret\n")
	r, err := newRedactor(nil, filepath.Join(t.TempDir(), "missing.secrets"), f)
	assert.NilError(t, err)
	assert.Check(t, is.Equal(r.String("best-effort-secret"), Masked))
	assert.Check(t, !r.IsSecretsFile(f), "not in use: config --diff may show it")

	_, err = newRedactor([]string{filepath.Join(t.TempDir(), "missing.secrets")})
	assert.Check(t, is.Equal(exitcode.Of(err), exitcode.Invalid))
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

func TestRedactingBackendLogs(t *testing.T) {
	root := &rootOptions{}
	inner := &logsBackend{lines: []string{"out: log-secret-1", "err: log-secret-1", "status"}}
	newBackend := root.withRedaction(func(_ command.Cli, _ string) (Backend, error) { return inner, nil })
	b, err := newBackend(nil, "")
	assert.NilError(t, err)

	var got recordedLogs
	assert.NilError(t, b.Logs(context.Background(), "p", &got, api.LogOptions{}))
	assert.Check(t, is.DeepEqual(got.lines, inner.lines), "no redactor yet: unchanged")

	root.redact, err = newRedactor([]string{writeSecrets(t, "X=log-secret-1\n")})
	assert.NilError(t, err)
	got = recordedLogs{}
	assert.NilError(t, b.Logs(context.Background(), "p", &got, api.LogOptions{}))
	assert.Check(t, is.DeepEqual(got.lines, []string{"out: ********", "err: ********", "status"}))
}

func TestRedactErrors(t *testing.T) {
	root := &rootOptions{}
	run := root.redactErrors(func(*cobra.Command, []string) error {
		return exitcode.With(exitcode.Invalid, errors.New("cannot parse err-secret-1"))
	})
	err := run(nil, nil)
	assert.Check(t, is.Error(err, "cannot parse err-secret-1"), "no redactor: unchanged")

	root.redact, err = newRedactor([]string{writeSecrets(t, "X=err-secret-1\n")})
	assert.NilError(t, err)
	err = run(nil, nil)
	assert.Check(t, is.Error(err, "cannot parse ********"))
	assert.Check(t, is.Equal(exitcode.Of(err), exitcode.Invalid))
	assert.Check(t, root.redactErrors(nil) == nil)
}
