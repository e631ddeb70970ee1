package plugin

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"

	"github.com/picasoft/docker-picatest/internal/composetest"
	"github.com/picasoft/docker-picatest/internal/exitcode"
)

// A bind-mounted secrets file reaches the container as its example,
// through the API (a config with content), and config never prints the
// real file's text, even when it holds a production host (which would
// have it delivered rewritten).
func TestConfigBindMountedSecretsFileGetsExample(t *testing.T) {
	p := composetest.Load(t, `
services:
  app:
    image: nginx:1.25
    volumes: ["./secrets/app.secrets:/run/app.env:ro"]
`, map[string]string{
		"secrets/app.secrets":         "CANARY=real-value-7d3f\nURL=https://db.picasoft.net\n",
		"secrets/app.secrets.example": "CANARY=example-value\n",
	})
	stdout, stderr, code := run(t, &fakeBackend{project: p}, "config")
	assert.Equal(t, code, 0, stderr)
	assert.Check(t, !strings.Contains(stdout, "real-value-7d3f"), stdout)
	assert.Check(t, is.Contains(stdout, "CANARY=example-value"))
	assert.Check(t, is.Contains(stdout, "target: /run/app.env"))
	assert.Check(t, !strings.Contains(stdout, "type: bind"), "the example is not bind-mounted:\n%s", stdout)

	// --real-secrets mounts the real file itself, and masks its values.
	stdout, stderr, code = run(t, &fakeBackend{project: p}, "config", "--real-secrets")
	assert.Equal(t, code, 0, stderr)
	assert.Check(t, !strings.Contains(stdout, "real-value-7d3f"), stdout)
}

// An example that is a symbolic link to the real file is refused: exit 2
// naming it, before anything prints the real values.
func TestConfigRefusesExampleLinkedToRealFile(t *testing.T) {
	p := composetest.Load(t, `
services:
  app:
    image: nginx:1.25
    env_file: secrets/app.secrets
`, map[string]string{"secrets/app.secrets": "CANARY=real-value-7d3f\n"})
	assert.NilError(t, os.Symlink("app.secrets", filepath.Join(p.WorkingDir, "secrets", "app.secrets.example")))
	stdout, stderr, code := run(t, &fakeBackend{project: p}, "config")
	assert.Equal(t, code, exitcode.Invalid, stderr)
	assert.Check(t, is.Contains(stderr, "secrets/app.secrets.example is the real file secrets/app.secrets itself"))
	assert.Check(t, !strings.Contains(stdout+stderr, "real-value-7d3f"))
}

// --env-file (the project-level env file of the interpolation) pointing at
// a secrets file: its example is given to the loader unless --real-secrets,
// and the values of the real file read are masked.
func TestEnvFileSecretsFile(t *testing.T) {
	dir := composetest.Dir(t, map[string]string{
		"app.secrets":         "TAG=real-tag-5e1c\n",
		"app.secrets.example": "TAG=example-tag\n",
	})
	t.Chdir(dir)
	// The fake loader returns this project whatever the env file: it stands
	// for the interpolation of TAG from the real file.
	p := composetest.Load(t, "services:\n  app:\n    image: nginx:1.25\n    environment:\n      TAG: real-tag-5e1c\n", nil)

	b := &fakeBackend{project: p}
	_, stderr, code := run(t, b, "--env-file", "app.secrets", "config")
	assert.Equal(t, code, 0, stderr)
	assert.Check(t, is.DeepEqual(b.got.EnvFiles, []string{"app.secrets.example"}))

	b = &fakeBackend{project: p}
	stdout, stderr, code := run(t, b, "--env-file", "app.secrets", "--real-secrets", "config")
	assert.Equal(t, code, 0, stderr)
	assert.Check(t, is.DeepEqual(b.got.EnvFiles, []string{"app.secrets"}))
	assert.Check(t, !strings.Contains(stdout, "real-tag-5e1c"), stdout)

	assert.NilError(t, os.Remove("app.secrets.example"))
	assert.NilError(t, os.Symlink("app.secrets", "app.secrets.example"))
	b = &fakeBackend{project: p}
	_, stderr, code = run(t, b, "--env-file", "app.secrets", "config")
	assert.Equal(t, code, exitcode.Invalid, stderr)
	assert.Check(t, is.Contains(stderr, "app.secrets.example is the real file"))
	assert.Check(t, is.DeepEqual(b.called(), []string(nil)), "refused before the load")
}

// A Compose file or an env file that Compose's loader would read whole is
// refused before the load when it is not a bounded regular file.
func TestLoadRefusesUnboundedTreeFiles(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	assert.NilError(t, syscall.Mkfifo("compose.yaml", 0o644))
	b := &fakeBackend{project: composetest.Load(t, "services:\n  app:\n    image: nginx:1.25\n", nil)}
	_, stderr, code := run(t, b, "config")
	assert.Equal(t, code, exitcode.Invalid, stderr)
	assert.Check(t, is.Contains(stderr, "compose.yaml is a named pipe (fifo)"))
	assert.NilError(t, os.Remove("compose.yaml"))

	assert.NilError(t, os.Symlink("/dev/zero", ".env"))
	_, stderr, code = run(t, b, "config")
	assert.Equal(t, code, exitcode.Invalid, stderr)
	assert.Check(t, is.Contains(stderr, ".env is a character device"))
	assert.Check(t, is.DeepEqual(b.called(), []string(nil)), "refused before the load")
}

// With Compose's own loader: --env-file pointing at a secrets file
// interpolates the Compose file from its example; with --real-secrets
// from the real file, whose values print masked. An --env-file that is a
// fifo is refused before the loader would block on it.
func TestEnvFileSecretsFileRealLoader(t *testing.T) {
	dir := composetest.Dir(t, map[string]string{
		"compose.yaml":        "services:\n  app:\n    image: nginx:1.25\n    environment:\n      TAG: ${TAG}\n",
		"app.secrets":         "TAG=real-tag-5e1c\n",
		"app.secrets.example": "TAG=example-tag\n",
	})
	t.Chdir(dir)
	stdout, stderr, code := runReal(t, "-f", "compose.yaml", "--env-file", "app.secrets", "config")
	assert.Equal(t, code, 0, stderr)
	assert.Check(t, is.Contains(stdout, "TAG: example-tag"))
	assert.Check(t, !strings.Contains(stdout+stderr, "real-tag-5e1c"))

	stdout, stderr, code = runReal(t, "-f", "compose.yaml", "--env-file", "app.secrets", "--real-secrets", "config")
	assert.Equal(t, code, 0, stderr)
	assert.Check(t, is.Contains(stdout, "TAG: '********'"))
	assert.Check(t, !strings.Contains(stdout+stderr, "real-tag-5e1c"))

	assert.NilError(t, syscall.Mkfifo("fifo.env", 0o644))
	_, stderr, code = runReal(t, "-f", "compose.yaml", "--env-file", "fifo.env", "config")
	assert.Equal(t, code, exitcode.Invalid, stderr)
	assert.Check(t, is.Contains(stderr, "fifo.env is a named pipe (fifo)"))
}
