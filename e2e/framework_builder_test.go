package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"gotest.tools/v3/assert"
)

// The two builders Compose builds with: classic without the docker-buildx
// CLI plugin (Compose warns and falls back), BuildKit through bake with it.
const (
	builderClassic  = "classic"
	builderBuildKit = "buildkit"
)

// builders are the builders every build test runs on.
var builders = []string{builderClassic, builderBuildKit}

// buildxPlugin is the docker-buildx binary of the run (testdata/buildx,
// built once and cached).
var buildxPlugin string

// prepareBuildx builds (or finds in the cache) the buildx plugin.
func prepareBuildx() error {
	out, err := exec.Command("../testdata/buildx/build.sh").Output()
	if err != nil {
		var stderr string
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		return fmt.Errorf("building the buildx plugin (testdata/buildx/build.sh): %v\n%s", err, stderr)
	}
	buildxPlugin = strings.TrimSpace(string(out))
	if _, err := os.Stat(buildxPlugin); err != nil {
		return fmt.Errorf("testdata/buildx/build.sh printed %q: %v", buildxPlugin, err)
	}
	return nil
}

// useBuilder makes p's commands build with builder: with BuildKit, p gets
// a DOCKER_CONFIG whose cli-plugins hold the plugins of the run and
// docker-buildx (a later withDockerConfig keeps them).
func (p *project) useBuilder(builder string) {
	p.t.Helper()
	if builder != builderBuildKit {
		return
	}
	plugins := filepath.Join(p.t.TempDir(), "cli-plugins")
	assert.NilError(p.t, os.MkdirAll(plugins, 0o755))
	entries, err := os.ReadDir(filepath.Join(dockerConfig, "cli-plugins"))
	assert.NilError(p.t, err)
	for _, e := range entries {
		assert.NilError(p.t, os.Symlink(filepath.Join(dockerConfig, "cli-plugins", e.Name()), filepath.Join(plugins, e.Name())))
	}
	assert.NilError(p.t, os.Symlink(buildxPlugin, filepath.Join(plugins, "docker-buildx")))
	p.plugins = plugins
	p.withDockerConfig("{}\n")
}

// pluginsDir is the cli-plugins folder of p's commands.
func (p *project) pluginsDir() string {
	if p.plugins != "" {
		return p.plugins
	}
	return filepath.Join(dockerConfig, "cli-plugins")
}

// assertBuiltWith checks that out, the output of a build, comes from
// builder.
func assertBuiltWith(t *testing.T, builder, out string) {
	t.Helper()
	classic := strings.Contains(out, "falling back to the classic builder")
	if builder == builderClassic {
		assert.Check(t, classic, "the classic builder: %s", out)
	} else {
		assert.Check(t, !classic, "BuildKit, through buildx: %s", out)
	}
}
