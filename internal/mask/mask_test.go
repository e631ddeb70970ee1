package mask

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"

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

func TestMaskerValues(t *testing.T) {
	f := writeSecrets(t, "# a comment\nPASSWORD=s3cret-value\nMULTI=\"line-one-value\nline-two-value\"\nSHORT=abc\n")
	r, err := New([]string{f})
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
func TestMaskerMalformedFile(t *testing.T) {
	f := writeSecrets(t, "TOKEN=\"unterminated-secret-token\nOTHER=1\n")
	r, err := New([]string{f})
	assert.NilError(t, err)
	assert.Check(t, is.Equal(r.String(`line 1: unterminated quoted value "unterminated-secret-token`), "line 1: unterminated quoted value ********"))
}

// A real secrets file that the command does not use is read when it can
// be, and ignored when it cannot.
func TestMaskerBestEffort(t *testing.T) {
	f := writeSecrets(t, "PASSWORD=best-effort-secret\n")
	r, err := New(nil, filepath.Join(t.TempDir(), "missing.secrets"), f)
	assert.NilError(t, err)
	assert.Check(t, is.Equal(r.String("best-effort-secret"), Masked))
	assert.Check(t, !r.IsSecretsFile(f), "not in use: config --diff may show it")

	_, err = New([]string{filepath.Join(t.TempDir(), "missing.secrets")})
	assert.Check(t, is.Equal(exitcode.Of(err), exitcode.Invalid))
}

// A secrets file is read bounded: a fifo or a symlink to a device is exit
// 2 naming it (never a read that waits or fills the memory), and a
// best-effort one is skipped.
func TestMaskerNotRegularFile(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo.secrets")
	assert.NilError(t, syscall.Mkfifo(fifo, 0o600))
	zero := filepath.Join(dir, "zero.secrets")
	assert.NilError(t, os.Symlink("/dev/zero", zero))
	for _, f := range []string{fifo, zero} {
		_, err := New([]string{f})
		assert.Check(t, is.ErrorContains(err, f+" is a"))
		assert.Check(t, is.Equal(exitcode.Of(err), exitcode.Invalid))
		_, err = New(nil, f)
		assert.Check(t, err)
	}
}

type recordedLogs struct{ lines []string }

func (r *recordedLogs) Log(_, m string) { r.lines = append(r.lines, m) }

func (r *recordedLogs) Err(_, m string) { r.lines = append(r.lines, m) }

func (r *recordedLogs) Status(_, m string) { r.lines = append(r.lines, m) }

func TestSlot(t *testing.T) {
	var slot Slot
	var got recordedLogs
	logs := slot.Logs(&got)
	logs.Log("web-1", "secret-value-1")
	err := slot.Error(errors.New("cannot parse secret-value-1"))
	assert.Check(t, is.Error(err, "cannot parse secret-value-1"), "nothing installed: unchanged")
	assert.Check(t, slot.Error(nil) == nil)

	m, err := New([]string{writeSecrets(t, "X=secret-value-1\n")})
	assert.NilError(t, err)
	slot.Set(m)
	logs.Log("web-1", "out: secret-value-1")
	logs.Err("web-1", "err: secret-value-1")
	logs.Status("web-1", "status")
	assert.Check(t, is.DeepEqual(got.lines, []string{"secret-value-1", "out: ********", "err: ********", "status"}))
	err = slot.Error(exitcode.With(exitcode.Invalid, errors.New("cannot parse secret-value-1")))
	assert.Check(t, is.Error(err, "cannot parse ********"))
	assert.Check(t, is.Equal(exitcode.Of(err), exitcode.Invalid), "the exit code is kept")
	assert.Check(t, is.Equal(slot.String("a secret-value-1"), "a ********"))
}
