package plugin

import (
	"context"
	"testing"

	"github.com/docker/cli/cli/command"
	"github.com/moby/moby/api/types/system"
	"github.com/moby/moby/client"
	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"

	"github.com/picasoft/docker-picatest/internal/composetest"
	"github.com/picasoft/docker-picatest/internal/exitcode"
)

// infoBackend is a fakeBackend whose engine answers `docker info`.
type infoBackend struct {
	*fakeBackend
	info system.Info
}

func (b infoBackend) Info(context.Context, client.InfoOptions) (client.SystemInfoResult, error) {
	b.record("Info")
	return client.SystemInfoResult{Info: b.info}, nil
}

// TestUpDryRunSaysWhyTheDaemonIsATestHost: the plan's preflight names the
// rule that makes the daemon a test host (the glob and where it comes
// from, or the label), says when it is not one, and lists the rules when
// the engine cannot be asked.
func TestUpDryRunSaysWhyTheDaemonIsATestHost(t *testing.T) {
	project := composetest.Load(t, "services:\n  db:\n    image: postgres:12\n", nil)
	for _, tc := range []struct {
		name  string
		env   string
		info  *system.Info
		want  string
		code  int
		calls []string
	}{
		{name: "environment", env: "*", info: &system.Info{Name: "vm"},
			want: `   test host: Docker daemon "vm" is a test host: its name matches "*" (from PICATEST_TEST_HOSTS)` + "\n"},
		{name: "default", info: &system.Info{Name: "pica01-test"},
			want: `   test host: Docker daemon "pica01-test" is a test host: its name matches "*-test" (from default)` + "\n"},
		{name: "label", info: &system.Info{Name: "pica01", Labels: []string{"net.picasoft.picatest.test-host=true"}},
			want: `   test host: Docker daemon "pica01" is a test host: it carries the label net.picasoft.picatest.test-host=true` + "\n"},
		{name: "not a test host", env: "ci-*", info: &system.Info{Name: "pica01"},
			want: `   test host: Docker daemon "pica01" is NOT a test host: up would refuse (exit 3); a test host is a daemon whose name matches ci-* (from PICATEST_TEST_HOSTS), or that carries the label net.picasoft.picatest.test-host=true` + "\n"},
		{name: "engine not asked",
			want: `   test host: a daemon whose name matches *-test, *-test.* (from default), or that carries the label net.picasoft.picatest.test-host=true (the engine was not asked)` + "\n"},
		{name: "malformed glob", env: "[x", info: &system.Info{Name: "vm"}, code: exitcode.Invalid, want: `invalid test-host glob "[x" (from PICATEST_TEST_HOSTS)`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("PICATEST_TEST_HOSTS", tc.env)
			fake := &fakeBackend{project: project}
			var b Backend = fake
			if tc.info != nil {
				b = infoBackend{fakeBackend: fake, info: *tc.info}
			}
			stdout, stderr, code := runWith(t, func(command.Cli, string) (Backend, error) { return b, nil }, "up", "--dry-run")
			assert.Equal(t, code, tc.code, stderr)
			if tc.code != 0 {
				assert.Check(t, is.Contains(stderr, tc.want))
				return
			}
			assert.Check(t, is.Contains(stdout, "1. preflight: engine reachable, test host, lock, owner, external networks: none\n"+tc.want))
			calls := []string{"LoadProject"}
			if tc.info != nil {
				calls = append(calls, "Info")
			}
			assert.Check(t, is.DeepEqual(fake.called(), calls), "a dry run only reads")
		})
	}
}
