package plugin

import (
	"strings"
	"testing"

	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"

	"github.com/picasoft/docker-picatest/internal/composetest"
	"github.com/picasoft/docker-picatest/internal/exitcode"
	"github.com/picasoft/docker-picatest/testrun"
	"github.com/picasoft/docker-picatest/transforms"
)

// TestUpDetachIsAccepted: -d/--detach, typed from the 'docker-compose up
// -d' habit, is accepted and changes nothing (up always leaves the
// deployment running); with --follow it contradicts itself.
func TestUpDetachIsAccepted(t *testing.T) {
	b := &fakeBackend{project: composetest.Load(t, "services:\n  db:\n    image: postgres:12\n", nil)}
	plain, stderr, code := run(t, b, "up", "--dry-run")
	assert.Equal(t, code, 0, stderr)
	cases := []struct {
		args []string
		code int
		want string
	}{
		{args: []string{"up", "-d", "--dry-run"}},
		{args: []string{"up", "--detach", "--dry-run"}},
		{args: []string{"up", "--dry-run", "-dy"}},
		{args: []string{"up", "-d", "--follow"}, code: exitcode.Invalid, want: "--detach and --follow contradict each other: drop --follow"},
	}
	for _, tc := range cases {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			stdout, stderr, code := run(t, b, tc.args...)
			assert.Equal(t, code, tc.code, stderr)
			if tc.code != 0 {
				assert.Check(t, is.Contains(stderr, tc.want))
				return
			}
			assert.Check(t, is.Equal(stdout, plain), "-d changes nothing")
		})
	}
}

// TestUpReportNamesFilesAsConfigDoes: the example secrets of up's report
// are named relative to the project inside it, absolute outside.
func TestUpReportNamesFilesAsConfigDoes(t *testing.T) {
	r := &testrun.Report{Project: "pad", Result: "ok", Dir: "/home/admin/services/pad", ExampleSecrets: []transforms.Change{
		{Transform: "example-secrets", Where: "services.pad.env_file[0]", Old: "/home/admin/services/pad/secrets/pad.secrets", New: "/home/admin/services/pad/secrets/pad.secrets.example"},
		{Transform: "example-secrets", Where: "secrets.db", Old: "/srv/docker/secrets/db.secrets", New: "/srv/docker/secrets/db.secrets.example"},
	}}
	out, err := renderReport(r, "text")
	assert.NilError(t, err)
	assert.Check(t, is.Contains(out, "0 rewrites, 2 example secrets used\n"+
		"  services.pad.env_file[0]: secrets/pad.secrets.example\n"+
		"  secrets.db: /srv/docker/secrets/db.secrets.example (details: docker picatest config --diff)\n"))
}

// TestUpDryRunChangesNothing: up --dry-run prints the plan and calls no
// Backend method that changes the engine (no Down, Build, Pull, Create,
// Start or Push), on a project with something to reset, build and pull.
func TestUpDryRunChangesNothing(t *testing.T) {
	b := &fakeBackend{project: composetest.Load(t, `
services:
  web:
    image: registry.picasoft.net/web:1
    build: .
    volumes: [data:/data]
  db:
    image: postgres:12
volumes:
  data:
    external: true
`, map[string]string{"Dockerfile": "FROM scratch\n"})}
	for _, args := range [][]string{{"up", "--dry-run"}, {"up", "--dry-run", "--yes"}, {"up", "--dry-run", "--no-reset", "web"}} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			b.calls = nil
			stdout, stderr, code := run(t, b, args...)
			assert.Equal(t, code, 0, stderr)
			assert.Check(t, is.Contains(stdout, "Plan for project"))
			assert.Check(t, is.DeepEqual(b.called(), []string{"LoadProject"}), "only the project is loaded")
		})
	}
}
