package buildcontext_test

import (
	"os"
	"path/filepath"
	"sort"
	"syscall"
	"testing"

	"github.com/compose-spec/compose-go/v2/types"
	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"

	"github.com/picasoft/docker-picatest/internal/composetest"
	"github.com/picasoft/docker-picatest/internal/exitcode"
	"github.com/picasoft/docker-picatest/transforms/buildcontext"
	"github.com/picasoft/docker-picatest/transforms/testurls"
)

func rewriter(t *testing.T) *testurls.Rewriter {
	t.Helper()
	rw, err := testurls.New("picasoft.net", "test.picasoft.net", "registry.picasoft.net")
	assert.NilError(t, err)
	return rw
}

func TestScan(t *testing.T) {
	tests := []struct {
		name    string
		compose string
		files   map[string]string
		want    []string // rewritten paths, relative to the context
	}{
		{
			name:    "a copied config file with a production host",
			compose: "services:\n  pad:\n    image: registry.picasoft.net/pad:1\n    build: .\n",
			files: map[string]string{
				"Dockerfile":         "FROM registry.picasoft.net/base:1\nCOPY conf/ /etc/pad/\n",
				"conf/defaults.conf": "url=https://pad.picasoft.net/\ncontact=admin@picasoft.net\n",
				"conf/other.conf":    "nothing to rewrite\n",
			},
			want: []string{"conf/defaults.conf"},
		},
		{
			name:    ".dockerignore honoured; binary files pass",
			compose: "services:\n  pad:\n    image: registry.picasoft.net/pad:1\n    build: .\n",
			files: map[string]string{
				"Dockerfile":    "FROM scratch\n",
				".dockerignore": "secret/\n*.md\n",
				"secret/a.conf": "https://pad.picasoft.net\n",
				"README.md":     "https://pad.picasoft.net\n",
				"bin/blob":      "https://pad.picasoft.net\x00\x01",
				"app.ini":       "base = https://pad.picasoft.net\n",
			},
			want: []string{"app.ini"},
		},
		{
			name:    "build-rewrite: false turns it off",
			compose: "services:\n  pad:\n    image: registry.picasoft.net/pad:1\n    build: .\n    x-picatest:\n      build-rewrite: false\n",
			files:   map[string]string{"Dockerfile": "FROM scratch\n", "app.ini": "https://pad.picasoft.net\n"},
		},
		{
			name:    "build-rewrite: paths limit it",
			compose: "services:\n  pad:\n    image: registry.picasoft.net/pad:1\n    build: .\n    x-picatest:\n      build-rewrite: [\"conf/**\"]\n",
			files: map[string]string{
				"Dockerfile": "FROM scratch\n",
				"go.mod":     "module git.picasoft.net/pad\n",
				"conf/a.ini": "https://pad.picasoft.net\n",
			},
			want: []string{"conf/a.ini"},
		},
		{
			name:    "no build, nothing read",
			compose: "services:\n  db:\n    image: postgres:16\n",
			files:   map[string]string{"app.ini": "https://pad.picasoft.net\n"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := composetest.Load(t, tc.compose, tc.files)
			pl, changes, err := buildcontext.Scan(p, rewriter(t), buildcontext.Options{})
			assert.NilError(t, err)
			var got []string
			for _, f := range pl.Files() {
				got = append(got, f.Path)
			}
			sort.Strings(got)
			assert.Check(t, is.DeepEqual(got, tc.want))
			assert.Check(t, is.Len(changes, len(tc.want)))
			assert.Check(t, pl.Empty() == (len(tc.want) == 0))
		})
	}
}

func TestScanInvalidSetting(t *testing.T) {
	p := composetest.Load(t, "services:\n  pad:\n    image: registry.picasoft.net/pad:1\n    build: .\n    x-picatest:\n      build-rewrite: 3\n", map[string]string{"Dockerfile": "FROM scratch\n"})
	_, _, err := buildcontext.Scan(p, rewriter(t), buildcontext.Options{})
	assert.Check(t, is.ErrorContains(err, "service pad: x-picatest.build-rewrite must be true, false or a list of paths"))
}

func TestMaterialize(t *testing.T) {
	files := map[string]string{
		"Dockerfile":         "FROM scratch\nCOPY conf/ /etc/pad/\n",
		".dockerignore":      "ignored/\n",
		"conf/defaults.conf": "url=https://pad.picasoft.net/\n",
		"conf/keep.bin":      "\x00\x01https://pad.picasoft.net",
		"ignored/x.conf":     "https://pad.picasoft.net\n",
	}
	p := composetest.Load(t, "services:\n  pad:\n    image: registry.picasoft.net/pad:1\n    build: .\n", files)
	pl, _, err := buildcontext.Scan(p, rewriter(t), buildcontext.Options{})
	assert.NilError(t, err)
	tmp := t.TempDir()
	built, remove, err := pl.Materialize(p, tmp)
	assert.NilError(t, err)
	ctx := built.Services["pad"].Build.Context
	assert.Check(t, ctx != p.Services["pad"].Build.Context)
	assert.Check(t, is.Equal(p.Services["pad"].Build.Context, p.WorkingDir), "input not modified")
	read := func(dir, rel string) string {
		b, err := os.ReadFile(filepath.Join(dir, rel))
		assert.NilError(t, err)
		return string(b)
	}
	assert.Check(t, is.Equal(read(ctx, "conf/defaults.conf"), "url=https://pad.test.picasoft.net/\n"))
	assert.Check(t, is.Equal(read(ctx, "conf/keep.bin"), files["conf/keep.bin"]))
	assert.Check(t, is.Equal(read(ctx, "Dockerfile"), files["Dockerfile"]))
	assert.Check(t, is.Equal(read(ctx, ".dockerignore"), files[".dockerignore"]))
	_, err = os.Stat(filepath.Join(ctx, "ignored"))
	assert.Check(t, os.IsNotExist(err), "excluded files are not copied")
	assert.Check(t, is.Equal(read(p.WorkingDir, "conf/defaults.conf"), files["conf/defaults.conf"]), "the working tree is never written")

	remove()
	remove()
	entries, err := os.ReadDir(tmp)
	assert.NilError(t, err)
	assert.Check(t, is.Len(entries, 0), "the copy is removed")
}

// materialize writes files and the symbolic links links (path -> target)
// under a project whose service app builds from ./app, and materializes
// its plan under tmp.
func materialize(t *testing.T, files, links map[string]string, tmp string) (*types.Project, *types.Project, error) {
	t.Helper()
	files["compose.yaml"] = "services:\n  app:\n    image: registry.picasoft.net/app:1\n    build: ./app\n"
	files["app/app.ini"] = "url = https://pad.picasoft.net/\n" // a file to rewrite
	dir := composetest.Dir(t, files)
	for l, target := range links {
		assert.NilError(t, os.Symlink(target, filepath.Join(dir, filepath.FromSlash(l))))
	}
	p := composetest.LoadDir(t, dir)
	pl, _, err := buildcontext.Scan(p, rewriter(t), buildcontext.Options{})
	assert.NilError(t, err)
	built, remove, err := pl.Materialize(p, tmp)
	t.Cleanup(remove)
	return p, built, err
}

// TestMaterializeSymlinks: a symbolic link of the copy leads where the
// original leads, never to a path that another user of the machine can
// create in the temporary directory; one out of the project is refused.
func TestMaterializeSymlinks(t *testing.T) {
	t.Run("a Dockerfile in the project, out of the context", func(t *testing.T) {
		tmp := t.TempDir()
		// What a local user could plant where the relative link would lead
		// from a copy made in tmp.
		assert.NilError(t, os.MkdirAll(filepath.Join(tmp, "common"), 0o755))
		assert.NilError(t, os.WriteFile(filepath.Join(tmp, "common", "Dockerfile"), []byte("FROM evil\n"), 0o644))
		p, built, err := materialize(t, map[string]string{"common/Dockerfile": "FROM scratch\nCOPY app.ini /\n", "app/.keep": ""},
			map[string]string{"app/Dockerfile": "../common/Dockerfile"}, tmp)
		assert.NilError(t, err)
		ctx := built.Services["app"].Build.Context
		b, err := os.ReadFile(filepath.Join(ctx, "Dockerfile"))
		assert.NilError(t, err)
		assert.Check(t, is.Equal(string(b), "FROM scratch\nCOPY app.ini /\n"), "the original Dockerfile, not the one planted in the temporary directory")
		link, err := os.Readlink(filepath.Join(ctx, "Dockerfile"))
		assert.NilError(t, err)
		want, _ := filepath.EvalSymlinks(filepath.Join(p.WorkingDir, "common", "Dockerfile"))
		assert.Check(t, is.Equal(link, want))
	})
	t.Run("a link inside the context leads to the copy", func(t *testing.T) {
		tmp := t.TempDir()
		_, built, err := materialize(t, map[string]string{"app/Dockerfile": "FROM scratch\n", "app/conf/real.conf": "x\n"},
			map[string]string{"app/current.conf": "conf/real.conf", "app/conf/self.ini": "../app.ini", "app/dangling": "missing.conf"}, tmp)
		assert.NilError(t, err)
		ctx := built.Services["app"].Build.Context
		for l, want := range map[string]string{"current.conf": "conf/real.conf", "conf/self.ini": "../app.ini", "dangling": "missing.conf"} {
			got, err := os.Readlink(filepath.Join(ctx, l))
			assert.NilError(t, err)
			assert.Check(t, is.Equal(got, want), l)
		}
		b, err := os.ReadFile(filepath.Join(ctx, "conf", "self.ini"))
		assert.NilError(t, err)
		assert.Check(t, is.Equal(string(b), "url = https://pad.test.picasoft.net/\n"), "the rewritten file of the copy")
	})
	for name, target := range map[string]string{
		"a relative link out of the project":  "../../../outside.conf",
		"an absolute link out of the project": "/etc/hostname",
		"a dangling link out of the context":  "../../nowhere/x",
	} {
		t.Run(name, func(t *testing.T) {
			_, _, err := materialize(t, map[string]string{"app/Dockerfile": "FROM scratch\n"}, map[string]string{"app/link": target}, t.TempDir())
			assert.Check(t, is.Equal(exitcode.Of(err), exitcode.Invalid), "%v", err)
			assert.Check(t, is.ErrorContains(err, "the symbolic link "))
			assert.Check(t, is.ErrorContains(err, "app/link of the build context of service app points"))
		})
	}
}

// A .dockerignore that is not a regular file is refused, not read (a fifo
// would block the read for ever).
func TestScanSpecialIgnoreFile(t *testing.T) {
	dir := composetest.Dir(t, map[string]string{"compose.yaml": "services:\n  app:\n    image: registry.picasoft.net/app:1\n    build: .\n", "Dockerfile": "FROM scratch\n"})
	assert.NilError(t, syscall.Mkfifo(filepath.Join(dir, ".dockerignore"), 0o644))
	_, _, err := buildcontext.Scan(composetest.LoadDir(t, dir), rewriter(t), buildcontext.Options{})
	assert.Check(t, is.Equal(exitcode.Of(err), exitcode.Invalid), "%v", err)
	assert.Check(t, is.ErrorContains(err, "a named pipe"))
}
