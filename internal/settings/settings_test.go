package settings

import (
	"os"
	"path/filepath"
	"testing"

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
