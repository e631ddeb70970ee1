package treefile_test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"

	"github.com/picasoft/docker-picatest/internal/exitcode"
	"github.com/picasoft/docker-picatest/internal/treefile"
)

func TestReadFile(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		assert.NilError(t, os.WriteFile(p, []byte(content), 0o644))
		return p
	}
	small := write("small", "hello\n")
	exact := write("exact", "123456")
	over := write("over", "1234567")
	link := filepath.Join(dir, "link")
	assert.NilError(t, os.Symlink(small, link))
	zero := filepath.Join(dir, "zero")
	assert.NilError(t, os.Symlink("/dev/zero", zero))
	fifo := filepath.Join(dir, "fifo")
	assert.NilError(t, syscall.Mkfifo(fifo, 0o644))

	for _, tc := range []struct {
		name, path string
		want       string // content, when err is empty
		err        string
	}{
		{name: "regular", path: small, want: "hello\n"},
		{name: "exactly the limit", path: exact, want: "123456"},
		{name: "symlink to a regular file", path: link, want: "hello\n"},
		{name: "one byte over", path: over, err: over + " is larger than 6 bytes"},
		{name: "symlink to a device", path: zero, err: zero + " is a character device, not a regular file"},
		{name: "fifo", path: fifo, err: fifo + " is a named pipe (fifo), not a regular file"},
		{name: "directory", path: dir, err: dir + " is a directory, not a regular file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := treefile.ReadFile(tc.path, 6)
			if tc.err != "" {
				assert.ErrorContains(t, err, tc.err)
				assert.Check(t, is.Equal(exitcode.Of(err), exitcode.Invalid))
				return
			}
			assert.NilError(t, err)
			assert.Check(t, is.Equal(string(b), tc.want))
		})
	}
}

func TestReadFileNotFound(t *testing.T) {
	_, err := treefile.ReadFile(filepath.Join(t.TempDir(), "missing"), treefile.SmallFile)
	assert.Check(t, errors.Is(err, fs.ErrNotExist), err)
}
