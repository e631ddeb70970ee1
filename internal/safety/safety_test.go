package safety

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/system"
	"github.com/moby/moby/client"
	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"

	"github.com/picasoft/docker-picatest/internal/exitcode"
	"github.com/picasoft/docker-picatest/internal/settings"
	"github.com/picasoft/docker-picatest/transforms/testlabels"
)

type fakeInfoClient struct {
	info system.Info
	err  error
	host string
}

func (f fakeInfoClient) Info(context.Context, client.InfoOptions) (client.SystemInfoResult, error) {
	return client.SystemInfoResult{Info: f.info}, f.err
}

func (f fakeInfoClient) DaemonHost() string { return f.host }

func TestCheckTestHost(t *testing.T) {
	defaults := settings.Default().TestHosts
	const label = "net.picasoft.picatest.test-host"
	for _, tc := range []struct {
		name   string
		info   system.Info
		globs  []string
		want   TestHost // Daemon: the info's name
		why    string   // TestHost.String after the daemon's name
		refuse string   // in the refusal
	}{
		{name: "glob *-test", info: system.Info{Name: "pica-test"}, globs: defaults, want: TestHost{Glob: "*-test", From: "default"},
			why: `its name matches "*-test" (from default)`},
		{name: "glob *-test.*", info: system.Info{Name: "pica-test.example.org"}, globs: defaults, want: TestHost{Glob: "*-test.*", From: "default"}},
		{name: "case-insensitive", info: system.Info{Name: "PICA-Test"}, globs: defaults, want: TestHost{Glob: "*-test", From: "default"}},
		{name: "case-insensitive glob", info: system.Info{Name: "pica-test"}, globs: []string{"PICA-*"}, want: TestHost{Glob: "PICA-*", From: "default"}},
		{name: "label allows", info: system.Info{Name: "pica01", Labels: []string{"foo=bar", label + "=true"}}, globs: defaults, want: TestHost{Label: true},
			why: "it carries the label " + label + "=true"},
		{name: "label allows without globs", info: system.Info{Name: "pica01", Labels: []string{label + "=true"}}, want: TestHost{Label: true}},
		{name: "glob and label", info: system.Info{Name: "pica-test", Labels: []string{label + "=true"}}, globs: defaults, want: TestHost{Glob: "*-test", From: "default", Label: true},
			why: `its name matches "*-test" (from default) and it carries the label ` + label + "=true"},
		{name: "production", info: system.Info{Name: "pica01"}, globs: defaults, refuse: "(*-test, *-test.* from default) and it lacks the label " + label + "=true"},
		{name: "label false", info: system.Info{Name: "pica01", Labels: []string{label + "=false"}}, globs: defaults, refuse: `its label ` + label + ` is "false", and only the value true counts`},
		// Only the value true counts: not TRUE, yes, 1, " true" or none.
		{name: "label TRUE", info: system.Info{Name: "pica01", Labels: []string{label + "=TRUE"}}, refuse: `is "TRUE", and only the value true counts`},
		{name: "label yes", info: system.Info{Name: "pica01", Labels: []string{label + "=yes"}}, globs: defaults, refuse: `is "yes"`},
		{name: "label 1", info: system.Info{Name: "pica01", Labels: []string{label + "=1"}}, globs: defaults, refuse: `is "1"`},
		{name: "label with a space", info: system.Info{Name: "pica01", Labels: []string{label + "= true"}}, globs: defaults, refuse: `is " true"`},
		{name: "label without a value", info: system.Info{Name: "pica01", Labels: []string{label}}, globs: defaults, refuse: `is ""`},
		{name: "another label", info: system.Info{Name: "pica01", Labels: []string{label + "-x=true"}}, globs: defaults, refuse: "it lacks the label"},
		{name: "glob is anchored", info: system.Info{Name: "pica-test-prod"}, globs: []string{"*-test"}, refuse: "(*-test from default)"},
		{name: "no globs", info: system.Info{Name: "pica-test"}, refuse: "(none are set)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, err := CheckTestHost(context.Background(), fakeInfoClient{info: tc.info}, tc.globs, "default")
			assert.Check(t, is.Equal(h.Daemon, tc.info.Name))
			if tc.refuse == "" {
				assert.NilError(t, err)
				tc.want.Daemon = tc.info.Name
				assert.Check(t, is.DeepEqual(h, tc.want))
				if tc.why != "" {
					assert.Check(t, is.Equal(h.String(), fmt.Sprintf("Docker daemon %q is a test host: %s", tc.info.Name, tc.why)))
				}
				return
			}
			assert.Equal(t, exitcode.Of(err), exitcode.Refused)
			msg := err.Error()
			for _, want := range []string{
				`"` + tc.info.Name + `"`, tc.refuse,
				"PICATEST_TEST_HOSTS", "test-hosts:", ".picatest.yml",
				`"labels": ["net.picasoft.picatest.test-host=true"]`, "/etc/docker/daemon.json", "restart dockerd",
			} {
				assert.Check(t, is.Contains(msg, want))
			}
			for _, g := range tc.globs {
				assert.Check(t, is.Contains(msg, g))
			}
		})
	}
}

func TestTestHostString(t *testing.T) {
	for _, tc := range []struct {
		h    TestHost
		want string
	}{
		{TestHost{Daemon: "vm", Glob: "*", From: "PICATEST_TEST_HOSTS"}, `Docker daemon "vm" is a test host: its name matches "*" (from PICATEST_TEST_HOSTS)`},
		{TestHost{Daemon: "vm", Glob: "vm", From: "/srv/services/.picatest.yml"}, `Docker daemon "vm" is a test host: its name matches "vm" (from /srv/services/.picatest.yml)`},
		{TestHost{Daemon: "pica01", Label: true}, `Docker daemon "pica01" is a test host: it carries the label net.picasoft.picatest.test-host=true`},
	} {
		assert.Check(t, is.Equal(tc.h.String(), tc.want))
	}
}

func TestCheckTestHostUnreachable(t *testing.T) {
	t.Setenv("DOCKER_HOST", "tcp://nowhere:2375")
	c := fakeInfoClient{err: errors.New("Cannot connect to the Docker daemon at tcp://nowhere:2375. Is the docker daemon running?"), host: "tcp://nowhere:2375"}
	_, err := CheckTestHost(context.Background(), c, []string{"*-test"}, "default")
	assert.Equal(t, exitcode.Of(err), exitcode.Failed)
	msg := err.Error()
	for _, want := range []string{"cannot reach the Docker engine at tcp://nowhere:2375", "Is the docker daemon running?", "Check DOCKER_HOST (tcp://nowhere:2375)", "docker context", "`docker info`"} {
		assert.Check(t, is.Contains(msg, want))
	}
}

func TestCheckTestHostCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := CheckTestHost(ctx, fakeInfoClient{err: context.Canceled}, []string{"*-test"}, "default")
	assert.Check(t, errors.Is(err, context.Canceled))
}

func TestCheckTestHostBadGlob(t *testing.T) {
	_, err := CheckTestHost(context.Background(), fakeInfoClient{info: system.Info{Name: "x-test"}}, []string{"*-test", "[x"}, "PICATEST_TEST_HOSTS")
	assert.Equal(t, exitcode.Of(err), exitcode.Invalid)
	assert.Check(t, is.Contains(err.Error(), `"[x" (from PICATEST_TEST_HOSTS)`))
}

type fakeLister struct {
	items []container.Summary
	err   error
	got   client.ContainerListOptions
}

func (f *fakeLister) ContainerList(_ context.Context, o client.ContainerListOptions) (client.ContainerListResult, error) {
	f.got = o
	return client.ContainerListResult{Items: f.items}, f.err
}

func testContainer(name string, l *testlabels.Labels) container.Summary {
	labels := map[string]string{"com.docker.compose.project": "pad", "com.docker.compose.service": name}
	if l != nil {
		for k, v := range l.Map() {
			labels[k] = v
		}
	}
	return container.Summary{ID: strings.Repeat("0123456789ab", 5) + "cdef", Names: []string{"/pad-" + name + "-1"}, Labels: labels}
}

func TestCheckOwner(t *testing.T) {
	started := time.Now().Add(-(2*time.Hour + 5*time.Minute)).UTC().Truncate(time.Second)
	alice := &testlabels.Labels{Owner: "alice", Branch: "fix-smtp", Commit: "0123456789abcdef", Started: started}
	bob := &testlabels.Labels{Owner: "bob", Branch: "main", Commit: "fedcba9876543210", Started: started.Add(time.Minute)}

	t.Run("lists the project's containers", func(t *testing.T) {
		f := &fakeLister{}
		got, err := checkOwner(context.Background(), f, "pad", "alice", false)
		assert.NilError(t, err)
		assert.Check(t, got == nil)
		assert.Check(t, f.got.All)
		assert.Check(t, is.DeepEqual(f.got.Filters, client.Filters{"label": {"com.docker.compose.project=pad": true}}))
	})

	t.Run("same owner", func(t *testing.T) {
		f := &fakeLister{items: []container.Summary{testContainer("app", alice), testContainer("db", alice)}}
		got, err := checkOwner(context.Background(), f, "pad", "alice", false)
		assert.NilError(t, err)
		assert.Assert(t, got != nil)
		assert.Check(t, is.DeepEqual(*got, *alice))
	})

	t.Run("other owner refused", func(t *testing.T) {
		f := &fakeLister{items: []container.Summary{testContainer("app", alice), testContainer("db", alice)}}
		got, err := checkOwner(context.Background(), f, "pad", "bob", false)
		assert.Equal(t, exitcode.Of(err), exitcode.Refused)
		msg := err.Error()
		for _, want := range []string{
			"project pad is deployed by alice (branch fix-smtp, commit 0123456, started ",
			Time(started), ", 2h5m ago)",
			"ask them, or pass --takeover to replace their deployment",
		} {
			assert.Check(t, is.Contains(msg, want))
		}
		assert.Assert(t, got != nil)
		assert.Check(t, is.Equal(got.Owner, "alice"))
	})

	t.Run("other owner among mine refused", func(t *testing.T) {
		f := &fakeLister{items: []container.Summary{testContainer("app", alice), testContainer("db", bob)}}
		_, err := checkOwner(context.Background(), f, "pad", "alice", false)
		assert.Equal(t, exitcode.Of(err), exitcode.Refused)
		assert.Check(t, is.Contains(err.Error(), "deployed by bob (branch main, commit fedcba9,"))
	})

	t.Run("takeover", func(t *testing.T) {
		f := &fakeLister{items: []container.Summary{testContainer("app", alice), testContainer("web", nil)}}
		got, err := checkOwner(context.Background(), f, "pad", "bob", true)
		assert.NilError(t, err)
		assert.Assert(t, got != nil)
		assert.Check(t, is.DeepEqual(*got, *alice))
	})

	t.Run("not started by picatest", func(t *testing.T) {
		f := &fakeLister{items: []container.Summary{testContainer("web", nil), testContainer("app", nil)}}
		got, err := checkOwner(context.Background(), f, "pad", "alice", false)
		assert.Equal(t, exitcode.Of(err), exitcode.Refused)
		assert.Check(t, got == nil)
		assert.Check(t, is.Equal(err.Error(), "project pad is running containers not started by docker picatest (production or a manual test?): pad-app-1, pad-web-1; "+
			"stop them with `docker compose -p pad down`, or pass --takeover"))

		_, err = checkOwner(context.Background(), f, "pad", "alice", true)
		assert.NilError(t, err)
	})

	t.Run("mine and not picatest", func(t *testing.T) {
		f := &fakeLister{items: []container.Summary{testContainer("app", alice), testContainer("web", nil)}}
		_, err := checkOwner(context.Background(), f, "pad", "alice", false)
		assert.Equal(t, exitcode.Of(err), exitcode.Refused)
		assert.Check(t, is.Contains(err.Error(), "not started by docker picatest"))
	})

	t.Run("list error", func(t *testing.T) {
		f := &fakeLister{err: errors.New("boom")}
		_, err := checkOwner(context.Background(), f, "pad", "alice", false)
		assert.Equal(t, exitcode.Of(err), exitcode.Failed)
		assert.Check(t, is.Contains(err.Error(), "cannot list the containers of project pad: boom"))
	})
}

func TestConfirm(t *testing.T) {
	const q = "Remove the external volumes pad_db of project pad?"
	for _, tc := range []struct {
		name       string
		in         string
		isTerminal bool
		yes        bool
		code       int
		prompt     bool
	}{
		{name: "yes flag", yes: true},
		{name: "yes flag on a terminal", isTerminal: true, yes: true},
		{name: "terminal y", in: "y\n", isTerminal: true, prompt: true},
		{name: "terminal YES", in: " YES \r\n", isTerminal: true, prompt: true},
		{name: "terminal n", in: "n\n", isTerminal: true, prompt: true, code: exitcode.Refused},
		{name: "terminal empty line", in: "\n", isTerminal: true, prompt: true, code: exitcode.Refused},
		{name: "terminal end of input", isTerminal: true, prompt: true, code: exitcode.Refused},
		{name: "terminal other", in: "yeah\n", isTerminal: true, prompt: true, code: exitcode.Refused},
		{name: "no terminal", in: "y\n", code: exitcode.Refused},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			err := Confirm(strings.NewReader(tc.in), &out, tc.isTerminal, tc.yes, q)
			assert.Check(t, is.Equal(exitcode.Of(err), tc.code))
			if tc.prompt {
				assert.Check(t, strings.HasPrefix(out.String(), q+" [y/N] "), "prompt: %q", out.String())
			} else {
				assert.Check(t, is.Equal(out.String(), ""))
			}
			if tc.code != 0 && !tc.isTerminal {
				assert.Check(t, is.Equal(err.Error(), `"`+q+`" needs confirmation: pass -y/--yes to Confirm (no terminal to ask)`))
			}
			if tc.code != 0 && tc.isTerminal {
				assert.Check(t, is.Contains(err.Error(), "pass -y/--yes"))
			}
		})
	}
}

func TestConfirmReadsOneLineOnly(t *testing.T) {
	in := strings.NewReader("y\nrest")
	assert.NilError(t, Confirm(in, io.Discard, true, false, "Sure?"))
	rest, _ := io.ReadAll(in)
	assert.Check(t, is.Equal(string(rest), "rest"))
}

func TestSafetyAgo(t *testing.T) {
	now := time.Now()
	for d, want := range map[time.Duration]string{
		-time.Minute:                   "0s",
		42 * time.Second:               "42s",
		5*time.Minute + 12*time.Second: "5m12s",
		3*time.Hour + 5*time.Minute:    "3h5m",
		52 * time.Hour:                 "2d4h",
	} {
		assert.Check(t, is.Equal(Ago(now.Add(-d)), want), "%s", d)
	}
}

func TestCheckTestHostAPIVersionRefused(t *testing.T) {
	refused := errors.New("Error response from daemon: client version 1.11 is too old. Minimum supported API version is 1.12, please upgrade your client to a newer version")
	c := fakeInfoClient{err: refused, host: "unix:///var/run/docker.sock"}

	t.Setenv("DOCKER_API_VERSION", "1.11")
	_, err := CheckTestHost(context.Background(), c, []string{"*"}, "PICATEST_TEST_HOSTS")
	assert.Equal(t, exitcode.Of(err), exitcode.Failed)
	for _, want := range []string{"refuses the API version 1.11 asked by DOCKER_API_VERSION", "Minimum supported API version is 1.12", "Unset DOCKER_API_VERSION"} {
		assert.Check(t, is.Contains(err.Error(), want))
	}
	assert.Check(t, !errors.Is(err, context.Canceled))

	t.Setenv("DOCKER_API_VERSION", "")
	_, err = CheckTestHost(context.Background(), c, []string{"*"}, "PICATEST_TEST_HOSTS")
	assert.Check(t, is.Contains(err.Error(), "Set DOCKER_API_VERSION to a version the engine supports, or upgrade the Docker Engine"))
}
