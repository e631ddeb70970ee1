package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"
)

// TestSecretsBindMount: a bind-mounted secrets file reaches the container
// as its example, copied through the API (not a bind mount of the tree),
// and no output shows the real content; an example that is a symbolic
// link to the real file is refused (exit 2) before anything runs.
func TestSecretsBindMount(t *testing.T) {
	p := newProject(t)
	canary := "picatest-canary-" + sharedRandom(t)
	real := filepath.Join(p.Dir, "secrets", "app.secrets")
	assert.NilError(t, os.WriteFile(real, []byte("CANARY="+canary+"\n"), 0o600))
	before := p.snapshot()

	t.Run("config", func(t *testing.T) {
		r := p.picatest("config")
		assert.Check(t, is.Equal(r.ExitCode, 0), r)
		sharedAssertNoCanary(t, r.Stdout+r.Stderr, canary, r)
		assert.Check(t, is.Contains(r.Stdout, "CANARY=example-value"), r)
		assert.Check(t, !strings.Contains(r.Stdout, "type: bind"), "the example must not be bind-mounted: %s", r)
	})
	t.Run("config --real-secrets", func(t *testing.T) {
		r := p.picatest("config", "--real-secrets")
		assert.Check(t, is.Equal(r.ExitCode, 0), r)
		sharedAssertNoCanary(t, r.Stdout+r.Stderr, canary, r)
	})
	t.Run("up", func(t *testing.T) {
		r := p.picatest("up", "--yes", "--stable", "0s", "--progress", "plain")
		assert.Assert(t, is.Equal(r.ExitCode, 0), r)
		sharedAssertNoCanary(t, r.Stdout+r.Stderr, canary, r)
		id := p.containerOf("app")
		// Read by the test itself, never printed by picatest.
		cat := p.docker("exec", id, "/app", "cat", "/run/app.env")
		assert.Check(t, is.Equal(cat.ExitCode, 0), cat)
		assert.Check(t, is.Equal(cat.Stdout, "CANARY=example-value\n"), "the container must see the example")
		mounts := p.inspect(id, "{{json .Mounts}}")
		assert.Check(t, !strings.Contains(mounts, "app.secrets"), "no bind mount of the tree: %s", mounts)
		r = p.picatest("down")
		assert.Check(t, is.Equal(r.ExitCode, 0), r)
	})
	// The real file is ignored by git: compare the files themselves.
	assert.DeepEqual(t, p.snapshot(), before)

	t.Run("example linked to the real file", func(t *testing.T) {
		example := real + ".example"
		assert.NilError(t, os.Remove(example))
		assert.NilError(t, os.Symlink("app.secrets", example))
		t.Cleanup(func() { p.git("checkout", "--", "secrets/app.secrets.example") })
		for _, args := range [][]string{{"config"}, {"up", "--yes", "--progress", "plain"}} {
			r := p.picatest(args...)
			assert.Check(t, is.Equal(r.ExitCode, 2), r)
			sharedAssertNoCanary(t, r.Stdout+r.Stderr, canary, r)
			assert.Check(t, is.Contains(r.Stderr, "secrets/app.secrets.example is the real file secrets/app.secrets itself"), r)
			assert.Check(t, is.Contains(r.Stderr, "Replace secrets/app.secrets.example by a regular file holding test values"), r)
		}
		assert.Check(t, is.Len(p.objects("container", ""), 0), "nothing started")
	})
}
