package push

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"

	"github.com/picasoft/docker-picatest/internal/composetest"
	"github.com/picasoft/docker-picatest/internal/record"
)

// gitRepo makes a git repository of files under a temporary folder, all
// committed, and returns the folder.
func gitRepo(t *testing.T, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for name, text := range files {
		path := filepath.Join(root, filepath.FromSlash(name))
		assert.NilError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		assert.NilError(t, os.WriteFile(path, []byte(text), 0o644))
	}
	git(t, root, "init", "-q")
	git(t, root, "add", "-A")
	git(t, root, "-c", "user.email=a@b.invalid", "-c", "user.name=a", "commit", "-q", "-m", "m")
	return root
}

func git(t *testing.T, dir string, args ...string) {
	t.Helper()
	out, err := exec.Command("git", append([]string{"-C", dir}, args...)...).CombinedOutput()
	assert.NilError(t, err, string(out))
}

// A service built from a context outside the project folder, with a
// Dockerfile outside its context.
var outsideFiles = map[string]string{
	"svc/compose.yaml": `
services:
  app:
    image: registry.picasoft.net/app:1
    build:
      context: ../common
      dockerfile: ../docker/app.Dockerfile
`,
	"common/conf.ini":       "url=https://app.picasoft.net/\n",
	"docker/app.Dockerfile": "FROM scratch\nCOPY conf.ini /\n",
	"unrelated/notes.txt":   "x\n",
}

func TestCleanTreeCoversEveryInput(t *testing.T) {
	for _, tc := range []struct {
		name  string
		dirty map[string]string // written after the commit
		want  []string
	}{
		{name: "clean"},
		{name: "unrelated change elsewhere in the repository", dirty: map[string]string{"unrelated/notes.txt": "y\n"}},
		{name: "exactly one modified file in the folder", dirty: map[string]string{"svc/compose.yaml": "services: {}\n"}, want: []string{"compose.yaml"}},
		{name: "one untracked file in the folder", dirty: map[string]string{"svc/notes.txt": "wip\n"}, want: []string{"notes.txt"}},
		{name: "context outside the folder", dirty: map[string]string{"common/conf.ini": "url=changed\n"}, want: []string{"../common/conf.ini"}},
		{name: "untracked file in the outside context", dirty: map[string]string{"common/new.ini": "x\n"}, want: []string{"../common/new.ini"}},
		{name: "Dockerfile outside the context", dirty: map[string]string{"docker/app.Dockerfile": "FROM busybox\n"}, want: []string{"../docker/app.Dockerfile"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := gitRepo(t, outsideFiles)
			p := composetest.LoadDir(t, filepath.Join(root, "svc"))
			inputs := record.Inputs(p)
			for name, text := range tc.dirty {
				assert.NilError(t, os.WriteFile(filepath.Join(root, filepath.FromSlash(name)), []byte(text), 0o644))
			}
			commit, dirty, err := cleanTree(p.WorkingDir, inputs)
			assert.NilError(t, err)
			assert.Check(t, len(commit) == 40, commit)
			assert.Check(t, is.DeepEqual(dirty, tc.want))
		})
	}
}

func TestCleanTreeRefusesInputOutsideTheWorkTree(t *testing.T) {
	root := gitRepo(t, map[string]string{"svc/compose.yaml": "services: {}\n"})
	outside := t.TempDir()
	_, _, err := cleanTree(filepath.Join(root, "svc"), []string{filepath.Join(root, "svc"), outside})
	assert.ErrorContains(t, err, outside)
	assert.ErrorContains(t, err, "outside the git work tree of the project")
}
