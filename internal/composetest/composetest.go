// Package composetest loads inline Compose YAML into a *types.Project for
// tests, the way Compose's CLI loads it (compose-go, paths resolved,
// environment of env_file not yet resolved), and prints projects back as
// YAML.
package composetest

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"
	"gotest.tools/v3/assert"
)

// Dir writes files (relative path -> content) under a fresh temporary
// directory and returns it. A file named ".env" is used by Compose for
// interpolation as usual.
func Dir(t testing.TB, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		assert.NilError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		assert.NilError(t, os.WriteFile(p, []byte(content), 0o644))
	}
	return dir
}

// Load writes composeYAML as compose.yaml next to files in a temporary
// directory and loads it as project "test", without resolving env_file
// (as `docker compose` does before resolving the environment).
func Load(t testing.TB, composeYAML string, files map[string]string) *types.Project {
	t.Helper()
	all := map[string]string{"compose.yaml": composeYAML}
	for k, v := range files {
		all[k] = v
	}
	return LoadDir(t, Dir(t, all))
}

// LoadDir loads dir/compose.yaml as project "test".
func LoadDir(t testing.TB, dir string) *types.Project {
	t.Helper()
	opts, err := cli.NewProjectOptions([]string{filepath.Join(dir, "compose.yaml")},
		cli.WithWorkingDirectory(dir),
		cli.WithName("test"),
		cli.WithEnvFiles(),
		cli.WithDotEnv,
		cli.WithoutEnvironmentResolution,
	)
	assert.NilError(t, err)
	p, err := opts.LoadProject(context.Background())
	assert.NilError(t, err)
	return p
}

// YAML marshals p as `docker compose config` prints it, with the project
// directory replaced by "." so expectations stay readable.
func YAML(t testing.TB, p *types.Project) string {
	t.Helper()
	b, err := p.MarshalYAML()
	assert.NilError(t, err)
	return strings.ReplaceAll(string(b), p.WorkingDir, ".")
}

// PushProject is a project with services of every kind push tells apart:
// built under the registry (with and without a tag), official, not built,
// other registries, no image name.
const PushProject = `
services:
  pad:
    build: ./pad
    image: registry.picasoft.net/pica-pad:1.9
  api:
    build: ./api
    image: registry.picasoft.net/team/api
  db:
    image: postgres:16
  cache:
    image: registry.picasoft.net/redis-custom:7
  mirror:
    build: ./mirror
    image: ghcr.io/someone/mirror:2
  hub:
    build: ./hub
    image: someone/hub:1
  noname:
    build: ./noname
`
