package plugin

import (
	"strings"
	"testing"

	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"

	"github.com/picasoft/docker-picatest/internal/composetest"
)

// TestConfigDiffListsTestLabelsOneLinePerService: in the list of rewrites
// of config --diff, the test labels are one line per service, naming the
// labels set, after the rewrites a reviewer reads (URLs, files).
func TestConfigDiffListsTestLabelsOneLinePerService(t *testing.T) {
	t.Setenv("USER", "alice")
	t.Setenv("SUDO_USER", "")
	b := &fakeBackend{project: composetest.Load(t, `
services:
  pad:
    image: registry.picasoft.net/pica-pad:1.0
    build: ./pad
    environment:
      BASE_URL: https://pad.picasoft.net/
  db:
    image: postgres:12
`, map[string]string{"pad/Dockerfile": "FROM scratch\n"})}
	stdout, stderr, code := run(t, b, "config", "--diff")
	assert.Equal(t, code, 0, stderr)
	_, list, ok := strings.Cut(stdout, "\nRewrites (")
	assert.Assert(t, ok, stdout)
	list, _, _ = strings.Cut(list, "\n\n")
	// Not a git work tree: no branch, no commit.
	assert.Check(t, is.Equal(list, "6):\n"+
		"  test-urls  services.pad.environment.BASE_URL: https://pad.picasoft.net/ -> https://pad.test.picasoft.net/\n"+
		"  test-labels  services.db: labels owner, started (net.picasoft.picatest.*)\n"+
		"  test-labels  services.pad: labels owner, started; build.labels test-build (net.picasoft.picatest.*)"))
	assert.Check(t, is.Contains(stdout, "+      net.picasoft.picatest.owner: alice\n"), "the values are in the diff of the model")
}
