package buildcontext

import (
	"bytes"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"

	"github.com/picasoft/docker-picatest/internal/exitcode"
)

// TestCopyFileSparse: a sparse file is streamed and stays sparse: its
// holes are not written (nor held in memory).
func TestCopyFileSparse(t *testing.T) {
	dir := t.TempDir()
	src, dst := filepath.Join(dir, "sparse.img"), filepath.Join(dir, "copy.img")
	f, err := os.Create(src)
	assert.NilError(t, err)
	const size = 32 << 20
	_, err = f.WriteAt([]byte("head"), 0)
	assert.NilError(t, err)
	_, err = f.WriteAt([]byte("middle"), size/2)
	assert.NilError(t, err)
	assert.NilError(t, f.Truncate(size)) // ends with a hole
	assert.NilError(t, f.Close())

	assert.NilError(t, copyFile(src, dst, 0o640))
	st, err := os.Stat(dst)
	assert.NilError(t, err)
	assert.Check(t, is.Equal(st.Size(), int64(size)))
	assert.Check(t, is.Equal(st.Mode().Perm(), os.FileMode(0o640)))
	if sys, ok := st.Sys().(*syscall.Stat_t); ok {
		assert.Check(t, sys.Blocks*512 < 4<<20, "the copy stays sparse: %d bytes allocated", sys.Blocks*512)
	}
	got, err := os.ReadFile(dst)
	assert.NilError(t, err)
	want := make([]byte, size)
	copy(want, "head")
	copy(want[size/2:], "middle")
	assert.Check(t, bytes.Equal(got, want), "same content")
}

// TestCopyFileNotRegular: a file replaced after it was listed by a fifo or
// a symbolic link is neither waited for nor followed.
func TestCopyFileNotRegular(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	assert.NilError(t, syscall.Mkfifo(fifo, 0o644))
	err := copyFile(fifo, filepath.Join(dir, "a"), 0o644)
	assert.Check(t, is.Equal(exitcode.Of(err), exitcode.Invalid), "%v", err)

	link := filepath.Join(dir, "link")
	assert.NilError(t, os.Symlink("/etc/hostname", link))
	assert.Check(t, copyFile(link, filepath.Join(dir, "b"), 0o644) != nil, "a symbolic link is not followed")
}
