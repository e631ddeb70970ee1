package release

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"go.yaml.in/yaml/v4"
	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"
)

// TestDebVersion checks the mapping of a release VERSION to the Debian
// version of the package (scripts/release.sh's header documents it).
func TestDebVersion(t *testing.T) {
	root := repoRoot(t)
	for version, want := range map[string]string{
		"v0.3.0":                  "0.3.0",
		"0.3.0":                   "0.3.0",
		"v0.3.0-rc.1":             "0.3.0~rc.1",
		"v0.3.0-4-gabc1234":       "0.3.0+4.gabc1234",
		"v0.3.0-4-gabc1234-dirty": "0.3.0+4.gabc1234+dirty",
		"v1.0.0-rc.1-2-gdeadbee":  "1.0.0~rc.1+2.gdeadbee",
		"v1.2.3+build.5":          "1.2.3+build.5",
		"v1.2_3":                  "1.2.3",
		"dev":                     "0~dev",
		"abc1234-dirty":           "0~abc1234+dirty",
		"very":                    "0~very",
	} {
		r := run(t, root, nil, bash(t), "scripts/release.sh", "--deb-version", version)
		assert.Equal(t, r.code, 0, "%s: %s", version, r.stderr)
		assert.Equal(t, strings.TrimSpace(r.stdout), want, "Debian version of %s", version)
	}
	r := run(t, root, nil, bash(t), "scripts/release.sh", "--deb-version", "v1 2")
	assert.Equal(t, r.code, 1)
	assert.Check(t, is.Contains(r.stderr, "has characters a version cannot have"))
}

// TestInstallRefusals runs install.sh without Go and with release binaries
// it must refuse: each time it exits 1 with what to do next, and installs
// nothing. The binaries are small fake files: nothing here is built.
func TestInstallRefusals(t *testing.T) {
	root := repoRoot(t)
	noGo := pathWithoutGo(t)
	good := releaseBin()
	otherArch := "arm64"
	if runtime.GOARCH == "arm64" {
		otherArch = "amd64"
	}
	other := plugin + "-" + runtime.GOOS + "-" + otherArch
	getGo := "get Go 1.26.8 or newer from https://go.dev/dl/"
	getRelease := "download " + good + " and SHA256SUMS from a docker-picatest release"

	// bare is a folder with install.sh alone, as downloaded without a binary.
	bare := t.TempDir()
	script, err := os.ReadFile(filepath.Join(root, "install.sh"))
	assert.NilError(t, err)
	assert.NilError(t, os.WriteFile(filepath.Join(bare, "install.sh"), script, 0o755))

	// files writes name (fake binaries) and SHA256SUMS into a new folder;
	// sums "" leaves SHA256SUMS out.
	files := func(t *testing.T, name, content, sums string) string {
		dir := t.TempDir()
		assert.NilError(t, os.WriteFile(filepath.Join(dir, name), []byte(content), 0o755))
		if sums != "" {
			assert.NilError(t, os.WriteFile(filepath.Join(dir, "SHA256SUMS"), []byte(sums), 0o644))
		}
		return filepath.Join(dir, name)
	}
	const fake = "#!/bin/sh\necho fake\n"
	sumOf := func(t *testing.T, content string) string {
		p := filepath.Join(t.TempDir(), "f")
		assert.NilError(t, os.WriteFile(p, []byte(content), 0o644))
		return sha256File(t, p)
	}

	for _, tc := range []struct {
		name   string
		goVer  string // "": no Go in PATH, else a fake go that prints this version
		script string // install.sh to run
		args   func(t *testing.T) []string
		want   []string // in stderr
	}{
		{
			name:   "checkout without Go",
			script: filepath.Join(root, "install.sh"),
			args:   func(*testing.T) []string { return nil },
			want:   []string{"install.sh: error: 'go' not found in PATH; " + getGo, "or else " + getRelease, "./install.sh --binary ./" + good},
		},
		{
			name:   "checkout with Debian 12's Go",
			goVer:  "go1.19.8",
			script: filepath.Join(root, "install.sh"),
			args:   func(*testing.T) []string { return nil },
			want:   []string{"install.sh: error: found go1.19.8 (", "), need go1.26.8 or newer; " + getGo, "or else " + getRelease},
		},
		{
			name:   "install.sh alone, without Go",
			script: filepath.Join(bare, "install.sh"),
			args:   func(*testing.T) []string { return nil },
			want:   []string{"'go' not found in PATH, and no " + good + " beside it", getRelease, getGo},
		},
		{
			name:   "binary that does not exist",
			script: filepath.Join(root, "install.sh"),
			args:   func(t *testing.T) []string { return []string{"--binary", filepath.Join(t.TempDir(), good)} },
			want:   []string{good + ": no such file; " + getRelease},
		},
		{
			name:   "corrupted binary",
			script: filepath.Join(root, "install.sh"),
			args: func(t *testing.T) []string {
				return []string{"--binary", files(t, good, fake+"#", sumOf(t, fake)+"  "+good+"\n")}
			},
			want: []string{"does not match", "expected " + sumOf(t, fake), "nothing was installed", "download " + good + " and SHA256SUMS again"},
		},
		{
			name:   "no SHA256SUMS beside the binary",
			script: filepath.Join(root, "install.sh"),
			args:   func(t *testing.T) []string { return []string{"--binary", files(t, good, fake, "")} },
			want:   []string{"no SHA256SUMS beside", "download SHA256SUMS from the same release"},
		},
		{
			name:   "SHA256SUMS without the binary",
			script: filepath.Join(root, "install.sh"),
			args: func(t *testing.T) []string {
				return []string{"--binary", files(t, good, fake, sumOf(t, fake)+"  "+other+"\n")}
			},
			want: []string{"has no line for " + good},
		},
		{
			name:   "binary of another architecture",
			script: filepath.Join(root, "install.sh"),
			args: func(t *testing.T) []string {
				return []string{"--binary", files(t, other, fake, sumOf(t, fake)+"  "+other+"\n")}
			},
			want: []string{"is the release binary for " + runtime.GOOS + "/" + otherArch, "this machine is " + runtime.GOOS + "/" + runtime.GOARCH},
		},
		{
			name:   "renamed binary",
			script: filepath.Join(root, "install.sh"),
			args: func(t *testing.T) []string {
				return []string{"--binary", files(t, "picatest", fake, sumOf(t, fake)+"  picatest\n")}
			},
			want: []string{"is not named as a release binary (" + good + " on this machine)"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, path := t.TempDir(), noGo
			if tc.goVer != "" {
				dir := t.TempDir()
				fakeGo := "#!/bin/sh\necho go version " + tc.goVer + " " + runtime.GOOS + "/" + runtime.GOARCH + "\n"
				assert.NilError(t, os.WriteFile(filepath.Join(dir, "go"), []byte(fakeGo), 0o755))
				path = dir + string(os.PathListSeparator) + noGo
			}
			r := run(t, t.TempDir(), env("PATH="+path, "DOCKER_CONFIG="+cfg), bash(t), append([]string{tc.script}, tc.args(t)...)...)
			assert.Equal(t, r.code, 1, "stdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
			for _, w := range tc.want {
				assert.Check(t, is.Contains(r.stderr, w))
			}
			assertNoPlugin(t, cfg)
			_, err := os.Stat(filepath.Join(cfg, "cli-plugins"))
			assert.Check(t, os.IsNotExist(err), "cli-plugins created before the checks passed")
		})
	}
}

// TestCIFile checks that .gitlab-ci.yml is valid YAML, builds the release on
// a version tag with the repository's own script, keeps the release folder as
// artifacts, and runs only command lines that the README names (it cannot run
// here: there is no GitLab runner).
func TestCIFile(t *testing.T) {
	root := repoRoot(t)
	data, err := os.ReadFile(filepath.Join(root, ".gitlab-ci.yml"))
	assert.NilError(t, err)
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	assert.NilError(t, err)

	// Every command line of every job, and of the defaults, is in the README.
	var all map[string]any
	assert.NilError(t, yaml.Load(data, &all), ".gitlab-ci.yml")
	nlines := 0
	for name, v := range all {
		job, ok := v.(map[string]any)
		if !ok {
			continue
		}
		for _, key := range []string{"before_script", "script", "after_script"} {
			lines, _ := job[key].([]any)
			for _, line := range lines {
				s, ok := line.(string)
				assert.Assert(t, ok, "%s.%s: %v is not a command line", name, key, line)
				assert.Check(t, strings.Contains(string(readme), s), "README.md does not name the command %q of %s.%s", s, name, key)
				nlines++
			}
		}
	}

	var ci struct {
		Release struct {
			Image     string
			Rules     []struct{ If string }
			Script    []string
			Artifacts struct {
				Paths    []string
				ExpireIn string `yaml:"expire_in"`
			}
		}
	}
	assert.NilError(t, yaml.Load(data, &ci), ".gitlab-ci.yml")
	job := ci.Release
	assert.Assert(t, job.Image != "", "the release job names its image")
	assert.Assert(t, is.Len(job.Rules, 1))
	assert.Check(t, is.Contains(job.Rules[0].If, "$CI_COMMIT_TAG"), "the release job runs on a tag")
	assert.Assert(t, is.Len(job.Script, 1))
	fields := strings.Fields(job.Script[0])
	assert.Assert(t, len(fields) == 4 && fields[0] == "scripts/release.sh" && fields[1] == "--out",
		"the release job runs scripts/release.sh --out DIR VERSION, got %q", job.Script[0])
	assert.Check(t, is.Equal(fields[3], `"$CI_COMMIT_TAG"`))
	assert.Check(t, is.DeepEqual(job.Artifacts.Paths, []string{fields[2] + "/"}), "artifacts: the --out folder")
	assert.Check(t, is.Equal(job.Artifacts.ExpireIn, "never"))
	t.Logf(".gitlab-ci.yml: %d command lines checked against README.md", nlines)
}
