package plugin

import (
	"encoding/json"
	"strings"
	"testing"

	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"

	"github.com/picasoft/docker-picatest/internal/composetest"
	"github.com/picasoft/docker-picatest/internal/exitcode"
)

func TestPushFlagsAndArgs(t *testing.T) {
	b := &fakeBackend{project: composetest.Load(t, composetest.PushProject, map[string]string{"Dockerfile": "FROM scratch\n"})}
	cases := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"push", "--format", "yaml"}, exitcode.Invalid, "--format text or --format json"},
		{[]string{"push", "--no-such-flag"}, exitcode.Invalid, "unknown flag: --no-such-flag"},
		{[]string{"push", "nosuch"}, exitcode.Invalid, "no such service: nosuch"},
	}
	for _, tc := range cases {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			_, stderr, code := run(t, b, tc.args...)
			assert.Equal(t, code, tc.code, stderr)
			assert.Check(t, is.Contains(stderr, tc.want))
		})
	}
}

// Without a target, push lists the skipped services and needs neither the
// registry nor git nor the engine.
func TestPushNothingToPush(t *testing.T) {
	b := &fakeBackend{project: composetest.Load(t, composetest.PushProject, map[string]string{"Dockerfile": "FROM scratch\n"})}
	stdout, stderr, code := run(t, b, "push", "--registry", "registry.example.org", "--format", "json")
	assert.Equal(t, code, 0, stderr)
	var report pushReport
	assert.NilError(t, json.Unmarshal([]byte(stdout), &report), stdout)
	assert.Equal(t, report.Result, "nothing to push")
	assert.Equal(t, report.Registry, "registry.example.org")
	assert.Equal(t, len(report.Images), 0)
	assert.Equal(t, len(report.Skipped), 7)

	stdout, stderr, code = run(t, b, "push", "--registry", "registry.example.org", "db", "pad")
	assert.Equal(t, code, 0, stderr)
	assert.Check(t, is.Contains(stdout, "Nothing to push to registry.example.org"))
	assert.Check(t, is.Contains(stdout, "official image"))
	assert.Check(t, is.Contains(stdout, "other registry"))
	assert.Check(t, !strings.Contains(stdout, "mirror"), "only the services named are listed")
}

func TestPushNotLoggedIn(t *testing.T) {
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	b := &fakeBackend{project: composetest.Load(t, composetest.PushProject, map[string]string{"Dockerfile": "FROM scratch\n"})}
	_, stderr, code := run(t, b, "push", "--dry-run")
	assert.Equal(t, code, exitcode.Failed, stderr)
	assert.Check(t, is.Contains(stderr, "docker login registry.picasoft.net"))
}
