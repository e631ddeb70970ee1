package plugin

import (
	"testing"

	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"

	"github.com/picasoft/docker-picatest/internal/composetest"
	"github.com/picasoft/docker-picatest/internal/exitcode"
)

const instanceProject = `
services:
  pad:
    build: .
    image: registry.picasoft.net/pica-pad:1.0
    environment:
      BASE_URL: https://pad.picasoft.net/
    volumes:
      - data:/data
      - ./conf/settings.json:/etc/pad/settings.json:ro
    labels:
      traefik.http.routers.pad.rule: Host(` + "`pad.picasoft.net`" + `)
volumes:
  data:
    name: pad-data
    external: true
`

// One host everywhere: the model, the config files and the smoke checks
// of an instance name the instance's test host; its external volume is
// replaced, so nothing asks to reset the shared one.
func TestUpDryRunOfAnInstance(t *testing.T) {
	b := &fakeBackend{project: composetest.Load(t, instanceProject, map[string]string{
		"Dockerfile":         "FROM scratch\n",
		"conf/settings.json": `{"url": "https://pad.picasoft.net/", "auth": "https://auth.test.picasoft.net/"}` + "\n",
	})}
	stdout, stderr, code := run(t, b, "up", "--dry-run", "--instance", "b2")
	assert.Equal(t, code, 0, stderr)
	for _, want := range []string{
		"Plan for project test-b2",
		"external volumes removed and re-created empty: none; volumes of the instance, in place of the external ones, removed and created empty: pad-data-b2",
		"http://pad-b2.test.picasoft.net/",
	} {
		assert.Check(t, is.Contains(stdout, want))
	}
	stdout, stderr, code = run(t, b, "config", "--diff", "--instance", "b2")
	assert.Equal(t, code, 0, stderr)
	for _, want := range []string{
		"+      BASE_URL: https://pad-b2.test.picasoft.net/",
		"+      traefik.http.routers.pad-b2.rule: Host(`pad-b2.test.picasoft.net`)",
		"+      net.picasoft.picatest.instance: b2",
		`+{"url": "https://pad-b2.test.picasoft.net/", "auth": "https://auth-b2.test.picasoft.net/"}`,
		"+    name: pad-data-b2",
	} {
		assert.Check(t, is.Contains(stdout, want))
	}
}

// An instance whose names collide with the project's own is refused
// before anything is planned: instance "db" of a project with the
// external volumes pad and pad-db would make pad-db its own volume.
func TestUpDryRunOfACollidingInstance(t *testing.T) {
	b := &fakeBackend{project: composetest.Load(t, `
services:
  pad:
    image: pad:1
    volumes: [data:/data, shared:/shared]
    labels:
      traefik.http.routers.pad.rule: Host(`+"`pad.picasoft.net`"+`)
      traefik.http.routers.pad-db.rule: Host(`+"`db.pad.picasoft.net`"+`)
volumes:
  data: {name: pad, external: true}
  shared: {name: pad-db, external: true}
`, nil)}
	for _, cmd := range []string{"up", "down", "config"} {
		args := []string{cmd, "--instance", "db"}
		if cmd == "up" {
			args = append(args, "--dry-run")
		}
		stdout, stderr, code := run(t, b, args...)
		assert.Equal(t, code, exitcode.Invalid, cmd)
		assert.Check(t, is.Equal(stdout, ""), cmd)
		assert.Check(t, is.Contains(stderr, "volume pad-db (the instance's name for volume pad) is the name of the project's own external volume pad-db"), cmd)
		assert.Check(t, is.Contains(stderr, "Traefik http router pad-db (the instance's name for router pad) is the name of the project's own router pad-db"), cmd)
		assert.Check(t, is.Contains(stderr, "choose another --instance name"), cmd)
	}
}

func TestInstanceFlagErrors(t *testing.T) {
	b := &fakeBackend{project: composetest.Load(t, instanceProject, map[string]string{"Dockerfile": "FROM scratch\n"})}
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"config", "--instance", "Feature/X"}, "--instance: instance name \"Feature/X\" has the character 'F': use lower-case letters, digits and '-': e.g. --instance feature-x (or --instance branch for the git branch's)"},
		{[]string{"config", "--instance", "a-very-long-instance-name-that-is-too-long"}, "longer than 30 characters: e.g. --instance a-very-long-instance-6b0795fa"},
		{[]string{"status", "--all", "--instance", "x"}, "cannot be combined with --instance"},
		{[]string{"config", "--instance", "branch"}, "--instance branch: "},
	}
	for _, tc := range cases {
		_, stderr, code := run(t, b, tc.args...)
		assert.Equal(t, code, exitcode.Invalid, tc.args)
		assert.Check(t, is.Contains(stderr, tc.want), tc.args)
	}
	_, stderr, code := run(t, b, "push", "--instance", "x")
	assert.Equal(t, code, exitcode.Invalid)
	assert.Check(t, is.Contains(stderr, "unknown flag: --instance"))
}
