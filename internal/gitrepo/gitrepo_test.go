package gitrepo

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"gotest.tools/v3/assert"
)

func TestHeadMatchesGit(t *testing.T) {
	dir := t.TempDir()
	run := func(args ...string) {
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		assert.NilError(t, err, string(out))
	}
	run("init", "-q", "-b", "feature/x")
	branch, commit := Head(dir)
	assert.Equal(t, branch, "feature/x")
	assert.Equal(t, commit, "")
	assert.NilError(t, os.WriteFile(filepath.Join(dir, "f"), []byte("x"), 0o644))
	run("add", "f")
	run("-c", "user.email=a@b.invalid", "-c", "user.name=a", "commit", "-q", "-m", "m")
	want := Run(dir, "rev-parse", "HEAD")
	branch, commit = Head(filepath.Join(dir))
	assert.Equal(t, branch, "feature/x")
	assert.Equal(t, commit, want)
	run("pack-refs", "--all")
	branch, commit = Head(dir)
	assert.Equal(t, branch, "feature/x")
	assert.Equal(t, commit, want)
	run("checkout", "-q", "--detach")
	branch, commit = Head(dir)
	assert.Equal(t, branch, "HEAD")
	assert.Equal(t, commit, want)
}
