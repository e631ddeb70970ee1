package release

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"gotest.tools/v3/assert"
)

// plugin is the name of the plugin's executable and of its Debian package.
const plugin = "docker-picatest"

// repoRoot is the repository's root directory, the parent of this package's.
func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs("..")
	assert.NilError(t, err)
	return dir
}

// releaseBin is the name of the release binary for this machine's OS and
// architecture, as scripts/release.sh writes it and install.sh looks for it.
func releaseBin() string {
	return plugin + "-" + runtime.GOOS + "-" + runtime.GOARCH
}

// pathWithoutGo is $PATH without the directories that hold a "go" command,
// as on a machine without Go.
func pathWithoutGo(t *testing.T) string {
	t.Helper()
	var keep []string
	for _, dir := range filepath.SplitList(os.Getenv("PATH")) {
		if dir == "" {
			continue
		}
		if fi, err := os.Stat(filepath.Join(dir, "go")); err == nil && !fi.IsDir() {
			continue
		}
		keep = append(keep, dir)
	}
	return strings.Join(keep, string(os.PathListSeparator))
}

// env is the test's environment with the variables of set ("NAME=value")
// replacing those of the same name.
func env(set ...string) []string {
	names := map[string]bool{}
	for _, kv := range set {
		name, _, _ := strings.Cut(kv, "=")
		names[name] = true
	}
	var out []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if !names[name] {
			out = append(out, kv)
		}
	}
	return append(out, set...)
}

// result is what a command printed and its exit code.
type result struct {
	stdout, stderr string
	code           int
}

// run runs name with args in dir with the environment environ (nil: the
// test's) and returns what it printed; only a command that cannot start fails
// the test.
func run(t *testing.T, dir string, environ []string, name string, args ...string) result {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = environ
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatalf("%s %s: %v", name, strings.Join(args, " "), err)
	}
	return result{stdout: stdout.String(), stderr: stderr.String(), code: cmd.ProcessState.ExitCode()}
}

// bash is the path of bash, looked up in the test's PATH.
func bash(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("bash")
	assert.NilError(t, err, "bash runs install.sh and scripts/release.sh")
	return path
}

// sha256File is the hex SHA-256 of the file at path.
func sha256File(t *testing.T, path string) string {
	t.Helper()
	f, err := os.Open(path)
	assert.NilError(t, err)
	defer f.Close()
	h := sha256.New()
	_, err = io.Copy(h, f)
	assert.NilError(t, err)
	return hex.EncodeToString(h.Sum(nil))
}

// assertNoPlugin checks that nothing was installed in the DOCKER_CONFIG cfg.
func assertNoPlugin(t *testing.T, cfg string) {
	t.Helper()
	_, err := os.Lstat(filepath.Join(cfg, "cli-plugins", plugin))
	assert.Assert(t, errors.Is(err, os.ErrNotExist), "%s/cli-plugins/%s exists (err %v): something was installed", cfg, plugin, err)
}
