package changed

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"gotest.tools/v3/assert"
)

// repo is a temporary git repository for the tests.
type repo struct {
	t   *testing.T
	dir string
}

func newRepo(t *testing.T, dir string) *repo {
	r := &repo{t: t, dir: dir}
	r.git("init", "-q", "-b", "main")
	return r
}

func (r *repo) git(args ...string) string {
	r.t.Helper()
	cmd := exec.Command("git", append([]string{"-c", "user.email=t@example.invalid", "-c", "user.name=t"}, args...)...)
	cmd.Dir = r.dir
	cmd.Env = append(os.Environ(), "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1")
	out, err := cmd.CombinedOutput()
	assert.NilError(r.t, err, "git %s: %s", strings.Join(args, " "), out)
	return strings.TrimSpace(string(out))
}

func (r *repo) write(files map[string]string) {
	r.t.Helper()
	for name, content := range files {
		p := filepath.Join(r.dir, filepath.FromSlash(name))
		assert.NilError(r.t, os.MkdirAll(filepath.Dir(p), 0o755))
		assert.NilError(r.t, os.WriteFile(p, []byte(content), 0o644))
	}
}

func (r *repo) commit(msg string) {
	r.t.Helper()
	r.git("add", "-A")
	r.git("commit", "-q", "--allow-empty", "-m", msg)
}

// base is the repository every case starts from: three service folders
// (one with a nested folder), a shared script and a .picatest.yml at the
// root.
var base = map[string]string{
	".picatest.yml":                  "test-domain: test.example.org\n",
	".gitignore":                     "*.log\n",
	"scripts/deploy.sh":              "echo deploy\n",
	"pica-pad/docker-compose.yml":    "services: {pad: {image: pad}}\n",
	"pica-pad/Dockerfile":            "FROM scratch\n",
	"pica-pad/conf/settings.json":    "{}\n",
	"pica-mail/compose.yaml":         "services: {mail: {image: mail}}\n",
	"pica-mail/.picatest.yml":        "proxy: 127.0.0.1\n",
	"pica-wiki/compose.yml":          "services: {wiki: {image: wiki}}\n",
	"pica-wiki/plugins/compose.yaml": "services: {plugin: {image: plugin}}\n",
	"pica-wiki/plugins/plugin.conf":  "a\n",
	"pica-wiki/README.md":            "wiki\n",
	"docs/compose.yaml.md":           "not a Compose file\n",
}

func TestFind(t *testing.T) {
	cases := []struct {
		name string
		// change runs on the repository after the base commit.
		change  func(r *repo)
		since   string
		folders []Folder
		shared  []string
	}{
		{
			name:   "nothing changed",
			change: func(r *repo) { r.commit("empty") },
		},
		{
			name: "committed on the last commit",
			change: func(r *repo) {
				r.write(map[string]string{"pica-pad/conf/settings.json": "{\"a\": 1}\n"})
				r.commit("pad")
			},
			folders: []Folder{{Dir: "pica-pad", Files: []string{"pica-pad/conf/settings.json"}}},
		},
		{
			name: "staged, unstaged and untracked; ignored excluded",
			change: func(r *repo) {
				r.commit("empty")
				r.write(map[string]string{"pica-pad/Dockerfile": "FROM scratch\nUSER 1\n"})
				r.git("add", "pica-pad/Dockerfile")
				r.write(map[string]string{"pica-mail/compose.yaml": "services: {mail: {image: mail:2}}\n"})
				r.write(map[string]string{"pica-mail/new.conf": "x\n", "pica-mail/debug.log": "ignored\n"})
			},
			folders: []Folder{
				{Dir: "pica-mail", Files: []string{"pica-mail/compose.yaml", "pica-mail/new.conf"}},
				{Dir: "pica-pad", Files: []string{"pica-pad/Dockerfile"}},
			},
		},
		{
			name: "a nested service folder owns its files; the outer one the rest",
			change: func(r *repo) {
				r.commit("empty")
				r.write(map[string]string{"pica-wiki/plugins/plugin.conf": "b\n", "pica-wiki/README.md": "wiki!\n"})
			},
			folders: []Folder{
				{Dir: "pica-wiki", Files: []string{"pica-wiki/README.md"}},
				{Dir: "pica-wiki/plugins", Files: []string{"pica-wiki/plugins/plugin.conf"}},
			},
		},
		{
			name: "shared files and the root .picatest.yml are reported, not guessed; a folder's own .picatest.yml is the folder's",
			change: func(r *repo) {
				r.commit("empty")
				r.write(map[string]string{
					".picatest.yml": "test-domain: test.example.net\n", "scripts/deploy.sh": "echo 2\n",
					"docs/compose.yaml.md": "still not\n", "pica-mail/.picatest.yml": "proxy: 127.0.0.2\n",
				})
			},
			folders: []Folder{{Dir: "pica-mail", Files: []string{"pica-mail/.picatest.yml"}}},
			shared:  []string{".picatest.yml", "docs/compose.yaml.md", "scripts/deploy.sh"},
		},
		{
			name: "a deleted file belongs to its folder; a removed service folder's files are shared",
			change: func(r *repo) {
				r.commit("empty")
				r.git("rm", "-q", "pica-pad/conf/settings.json")
				r.git("rm", "-q", "-r", "pica-mail")
			},
			folders: []Folder{{Dir: "pica-pad", Files: []string{"pica-pad/conf/settings.json"}}},
			shared:  []string{"pica-mail/.picatest.yml", "pica-mail/compose.yaml"},
		},
		{
			name:  "--since a branch: every commit since, and a rename gives both names",
			since: "main",
			change: func(r *repo) {
				r.git("checkout", "-q", "-b", "feature")
				r.git("mv", "pica-pad/Dockerfile", "pica-pad/Containerfile")
				r.commit("rename")
				r.write(map[string]string{"pica-wiki/compose.yml": "services: {wiki: {image: wiki:2}}\n"})
				r.commit("wiki")
			},
			folders: []Folder{
				{Dir: "pica-pad", Files: []string{"pica-pad/Containerfile", "pica-pad/Dockerfile"}},
				{Dir: "pica-wiki", Files: []string{"pica-wiki/compose.yml"}},
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := newRepo(t, t.TempDir())
			r.write(base)
			r.commit("base")
			tc.change(r)
			// Run from a subfolder: the whole repository counts.
			c, err := Find(filepath.Join(r.dir, "pica-pad"), tc.since)
			assert.NilError(t, err)
			assert.DeepEqual(t, c.Folders, tc.folders)
			assert.DeepEqual(t, c.Shared, tc.shared)
		})
	}
}

func TestDefaultSince(t *testing.T) {
	t.Run("merge base with the remote's default branch", func(t *testing.T) {
		origin := newRepo(t, t.TempDir())
		origin.write(base)
		origin.commit("base")
		clone := &repo{t: t, dir: filepath.Join(t.TempDir(), "clone")}
		(&repo{t: t, dir: filepath.Dir(clone.dir)}).git("clone", "-q", origin.dir, clone.dir)
		forked := clone.git("rev-parse", "HEAD")
		// main moves on after the branch was made: its change is not ours.
		origin.write(map[string]string{"pica-wiki/README.md": "moved on\n"})
		origin.commit("main moves")
		clone.git("fetch", "-q")
		clone.git("checkout", "-q", "-b", "feature")
		clone.write(map[string]string{"pica-pad/Dockerfile": "FROM scratch\nUSER 2\n"})
		clone.commit("one")
		clone.write(map[string]string{"pica-mail/compose.yaml": "services: {mail: {image: mail:3}}\n"})
		clone.commit("two")

		c, err := Find(clone.dir, "")
		assert.NilError(t, err)
		assert.Equal(t, c.Since, forked)
		assert.Equal(t, c.Why, "the merge base with origin/main")
		assert.DeepEqual(t, c.Folders, []Folder{
			{Dir: "pica-mail", Files: []string{"pica-mail/compose.yaml"}},
			{Dir: "pica-pad", Files: []string{"pica-pad/Dockerfile"}},
		})
	})
	t.Run("no remote: the previous commit", func(t *testing.T) {
		r := newRepo(t, t.TempDir())
		r.write(base)
		r.commit("base")
		r.write(map[string]string{"pica-pad/Dockerfile": "FROM scratch\nUSER 2\n"})
		r.commit("one")
		c, err := Find(r.dir, "")
		assert.NilError(t, err)
		assert.Equal(t, c.Since, "HEAD~1")
		assert.DeepEqual(t, c.Folders, []Folder{{Dir: "pica-pad", Files: []string{"pica-pad/Dockerfile"}}})
	})
	t.Run("one commit and no remote: say to give --since", func(t *testing.T) {
		r := newRepo(t, t.TempDir())
		r.write(base)
		r.commit("base")
		_, err := Find(r.dir, "")
		assert.ErrorContains(t, err, "--since main")
	})
}

func TestFindErrors(t *testing.T) {
	_, err := Find(t.TempDir(), "")
	assert.ErrorContains(t, err, "--changed needs a git work tree")
	r := newRepo(t, t.TempDir())
	r.write(base)
	r.commit("base")
	_, err = Find(r.dir, "no-such-branch")
	assert.ErrorContains(t, err, "--since no-such-branch: no such commit")
}
