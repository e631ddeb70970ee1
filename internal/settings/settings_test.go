package settings

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"

	"github.com/picasoft/docker-picatest/internal/exitcode"
)

func TestDefaultsOutsideGit(t *testing.T) {
	got, err := Resolve(t.TempDir(), nil, func(string) string { return "" })
	assert.NilError(t, err)
	assert.DeepEqual(t, got, Default())
	assert.DeepEqual(t, got.NeverRewritten(), []string{"registry.picasoft.net"})
}

func TestFileErrors(t *testing.T) {
	cases := map[string]string{
		"prod-domain: x.org\nunknown-key: 1\n": "unknown-key",
		"prod-domain: \"\"\n":                  "prod-domain is empty",
		"prod-domain: [\n":                     "invalid",
	}
	for content, want := range cases {
		dir := t.TempDir()
		assert.NilError(t, os.WriteFile(filepath.Join(dir, File), []byte(content), 0o644))
		_, err := Resolve(dir, nil, func(string) string { return "" })
		assert.Check(t, is.ErrorContains(err, want))
		assert.Equal(t, exitcode.Of(err), exitcode.Invalid)
	}
}

// A committed .picatest.yml that is not a regular file (a symlink to
// /dev/zero, a fifo) or is huge is refused quickly, naming it: it is never
// read until the machine runs out of memory or waits for a writer.
func TestFileNotRegularOrTooBig(t *testing.T) {
	for name, create := range map[string]func(t *testing.T, path string){
		"symlink to /dev/zero": func(t *testing.T, path string) {
			assert.NilError(t, os.Symlink("/dev/zero", path))
		},
		"fifo": func(t *testing.T, path string) {
			assert.NilError(t, syscall.Mkfifo(path, 0o644))
		},
		"huge": func(t *testing.T, path string) {
			f, err := os.Create(path)
			assert.NilError(t, err)
			// Sparse: no disk used.
			assert.NilError(t, f.Truncate(1<<30))
			assert.NilError(t, f.Close())
		},
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, File)
			create(t, path)
			done := make(chan error, 1)
			go func() {
				_, err := Resolve(dir, nil, func(string) string { return "" })
				done <- err
			}()
			select {
			case err := <-done:
				assert.Check(t, is.ErrorContains(err, path))
				assert.Check(t, is.Equal(exitcode.Of(err), exitcode.Invalid))
			case <-time.After(10 * time.Second):
				t.Fatal("Resolve did not return within 10s")
			}
		})
	}
}
