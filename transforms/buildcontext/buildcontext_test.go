package buildcontext_test

import (
	"os"
	"path/filepath"
	"sort"
	"testing"

	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"

	"github.com/picasoft/docker-picatest/internal/composetest"
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
