package settings

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"
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

func TestTestHostsFrom(t *testing.T) {
	for _, tc := range []struct {
		name, file, env string
		want            []string
		from            string // "file": the .picatest.yml
	}{
		{name: "default", want: []string{"*-test", "*-test.*"}, from: DefaultSource},
		{name: "file without the key", file: "prod-domain: example.org\n", want: []string{"*-test", "*-test.*"}, from: DefaultSource},
		{name: "file", file: "test-hosts: [\"pica01-test\", \"staging*\"]\n", want: []string{"pica01-test", "staging*"}, from: "file"},
		{name: "file with no test host", file: "test-hosts: []\n", want: []string{}, from: "file"},
		{name: "environment", env: "vm, ci-*", want: []string{"vm", "ci-*"}, from: TestHostsEnv},
		{name: "environment over file", file: "test-hosts: [\"pica01-test\"]\n", env: "vm", want: []string{"vm"}, from: TestHostsEnv},
		// The machine's admin may make every daemon of the machine a test
		// host: the environment is not the branch's.
		{name: "environment may match every daemon", env: "*", want: []string{"*"}, from: TestHostsEnv},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			file := filepath.Join(dir, File)
			if tc.file != "" {
				assert.NilError(t, os.WriteFile(file, []byte(tc.file), 0o644))
			}
			got, err := Resolve(dir, nil, func(k string) string {
				if k == TestHostsEnv {
					return tc.env
				}
				return ""
			})
			assert.NilError(t, err)
			assert.Check(t, is.DeepEqual(got.TestHosts, tc.want))
			want := tc.from
			if want == "file" {
				want = file
			}
			assert.Check(t, is.Equal(got.TestHostsFrom, want))
		})
	}
}

// TestFileCannotMakeEveryDaemonATestHost: a test-host glob of .picatest.yml
// that matches every daemon name is exit 2, naming the file and the fix,
// even when PICATEST_TEST_HOSTS replaces the file's list: the file is
// wrong whoever reads it.
func TestFileCannotMakeEveryDaemonATestHost(t *testing.T) {
	for _, g := range []string{"*", "**", "?*", "*?", "*.*", "*-*", "[a-z]*", "[^x]*", "*[0-9]*", "?", `\.*`} {
		for _, env := range []string{"", "vm"} {
			dir := t.TempDir()
			content := fmt.Sprintf("test-hosts: [\"pica01-test\", %q]\n", g)
			assert.NilError(t, os.WriteFile(filepath.Join(dir, File), []byte(content), 0o644))
			_, err := Resolve(dir, nil, func(k string) string {
				if k == TestHostsEnv {
					return env
				}
				return ""
			})
			assert.Check(t, is.Equal(exitcode.Of(err), exitcode.Invalid), "%q: %v", g, err)
			if err == nil {
				continue
			}
			msg := err.Error()
			for _, want := range []string{
				filepath.Join(dir, File), fmt.Sprintf("%q matches every Docker daemon", g),
				"PICATEST_TEST_HOSTS", "net.picasoft.picatest.test-host=true", "/etc/docker/daemon.json",
			} {
				assert.Check(t, is.Contains(msg, want), "%q", g)
			}
		}
	}
}

func TestFileTestHostErrors(t *testing.T) {
	for content, want := range map[string]string{
		"test-hosts: [\"[x\"]\n": `invalid glob "[x"`,
		"test-hosts: [\"\"]\n":   "empty glob",
		"test-hosts: pica\n":     "invalid",
	} {
		dir := t.TempDir()
		assert.NilError(t, os.WriteFile(filepath.Join(dir, File), []byte(content), 0o644))
		_, err := Resolve(dir, nil, func(string) string { return "" })
		assert.Check(t, is.ErrorContains(err, want), content)
		assert.Check(t, is.Equal(exitcode.Of(err), exitcode.Invalid), content)
	}
}

// representativeDaemons are daemon names of all shapes: short, qualified,
// hyphenated, one letter, production's and test machines'.
var representativeDaemons = []string{
	"prod", "vm", "a", "pica01", "srv1.picasoft.net", "pica01-test", "pica01-test.picasoft.net",
	"docker-desktop", "ip-10-0-0-1.ec2.internal", "localhost", "node_1", "ci-runner-3",
}

func TestMatchesEveryDaemon(t *testing.T) {
	matchesAll := func(g string, names []string) bool {
		for _, n := range names {
			if ok, _ := path.Match(strings.ToLower(g), n); !ok {
				return false
			}
		}
		return true
	}
	var qualified []string
	for _, n := range representativeDaemons {
		if strings.Contains(n, ".") {
			qualified = append(qualified, n)
		}
	}
	// Refused: each matches every name, every qualified name, or stands
	// for any letter or digit.
	for _, g := range []string{"*", "**", "***", "?*", "*?", "*.*", "*-*", "*.*.*", "[a-z]*", "[^x]*", "*[0-9]*", "?", "??*", `\.*`, "[vm]*", "*[\\a]*"} {
		assert.Check(t, MatchesEveryDaemon(g), "%q", g)
	}
	for _, g := range []string{"*", "**", "?*", "*?"} {
		assert.Check(t, matchesAll(g, representativeDaemons), "%q", g)
	}
	assert.Check(t, matchesAll("*.*", qualified))

	// Accepted: a literal letter or digit. None matches every
	// representative name: "a" and "vm" share no letter.
	for _, g := range []string{"*-test", "*-test.*", "vm", "pica0?", "staging*", "*test*", "*a*", "*1", `\a*`, "[a-z]*-test", "PICA*", "ci-*"} {
		assert.Check(t, !MatchesEveryDaemon(g), "%q", g)
		assert.Check(t, !matchesAll(g, representativeDaemons), "%q", g)
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
