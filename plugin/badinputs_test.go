package plugin

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"testing"

	dockercli "github.com/docker/cli/cli"
	"github.com/moby/moby/client"
	"github.com/spf13/cobra"
	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"

	"github.com/picasoft/docker-picatest/internal/composetest"
	"github.com/picasoft/docker-picatest/internal/engine"
	"github.com/picasoft/docker-picatest/internal/exitcode"
)

// The Docker CLI prints only the first StatusError of an error chain: adapt
// must put the whole message, advice included, on top.
func TestAdaptKeepsTheMessageAroundAWrappedStatusError(t *testing.T) {
	for _, tc := range []struct {
		name     string
		err      error
		wantMsg  string
		wantCode int
	}{
		{
			name:     "classic build error wrapped by picatest",
			err:      fmt.Errorf("build failed: %w\nFix the Dockerfile", dockercli.StatusError{Status: "COPY failed: no such file", StatusCode: 1}),
			wantMsg:  "build failed: COPY failed: no such file\nFix the Dockerfile",
			wantCode: exitcode.Failed,
		},
		{
			name:     "status code 0 exits 1",
			err:      fmt.Errorf("starting the containers failed: %w", dockercli.StatusError{Status: "boom"}),
			wantMsg:  "starting the containers failed: boom",
			wantCode: exitcode.Failed,
		},
		{
			name:     "the code of the wrapped error is kept",
			err:      fmt.Errorf("starting the containers failed: %w", exitcode.Invalidf("bad input")),
			wantMsg:  "starting the containers failed: bad input",
			wantCode: exitcode.Invalid,
		},
		{
			name:     "a StatusError on top is left as is",
			err:      exitcode.With(exitcode.Refused, errors.New("refused")),
			wantMsg:  "refused",
			wantCode: exitcode.Refused,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			runE := adapt(func(context.Context, []string) error { return tc.err })
			cmd := &cobra.Command{}
			cmd.SetContext(context.Background())
			err := runE(cmd, nil)
			st, ok := err.(dockercli.StatusError)
			assert.Assert(t, ok, "%T on top of the chain", err)
			assert.Check(t, is.Equal(st.Error(), tc.wantMsg))
			assert.Check(t, is.Equal(exitcode.Of(err), tc.wantCode))
			assert.Check(t, errors.Is(err, tc.err), "the cause is kept")
		})
	}
}

func TestAdaptLeavesPlainErrorsAlone(t *testing.T) {
	plain := errors.New("plain")
	runE := adapt(func(context.Context, []string) error { return plain })
	cmd := &cobra.Command{}
	cmd.SetContext(context.Background())
	assert.Equal(t, runE(cmd, nil), plain)
}

func TestInvalidImageReferenceIsInvalidInput(t *testing.T) {
	b := &fakeBackend{project: composetest.Load(t, "services:\n  web:\n    image: Picatest/App:1\n  ok:\n    image: nginx:1.25\n", nil)}
	stdout, stderr, code := run(t, b, "config")
	assert.Equal(t, code, exitcode.Invalid)
	assert.Equal(t, stdout, "")
	for _, want := range []string{`service web: invalid image reference "Picatest/App:1"`, "must be lowercase", "in lowercase", "docker picatest check"} {
		assert.Check(t, is.Contains(stderr, want))
	}
}

func TestLoadErrorsOfMissingFilesSayWhichFlag(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want string
	}{
		{
			name: "-f",
			err:  fmt.Errorf("compose file %q is invalid: %w", "/srv/nope.yaml", &fs.PathError{Op: "open", Path: "/srv/nope.yaml", Err: fs.ErrNotExist}),
			want: "Check the paths given with -f (or COMPOSE_FILE)",
		},
		{
			name: "--env-file",
			err:  errors.New("couldn't find env file: /srv/nope.env"),
			want: "Check the paths given with --env-file (or COMPOSE_ENV_FILES)",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, stderr, code := run(t, &fakeBackend{err: tc.err}, "config")
			assert.Equal(t, code, exitcode.Invalid)
			assert.Check(t, is.Contains(stderr, tc.err.Error()))
			assert.Check(t, is.Contains(stderr, tc.want))
			assert.Check(t, !strings.Contains(stderr, "Fix the Compose file"))
		})
	}
}

// TestAdviseUnreachable: any command that cannot reach the engine says
// what to check, once.
func TestAdviseUnreachable(t *testing.T) {
	c, err := client.New(client.WithHost("unix:///nonexistent.sock"))
	assert.NilError(t, err)
	defer c.Close()
	_, pingErr := c.Ping(context.Background(), client.PingOptions{})
	assert.Assert(t, client.IsErrConnectionFailed(pingErr), pingErr)

	err = adviseUnreachable(fmt.Errorf("listing: %w", pingErr))
	assert.Equal(t, exitcode.Of(err), exitcode.Failed)
	assert.Check(t, is.Contains(err.Error(), "cannot reach the Docker engine"))
	assert.Check(t, is.Contains(err.Error(), "Check DOCKER_HOST"))

	advised := exitcode.With(exitcode.Failed, engine.UnreachableError(nil, pingErr))
	assert.Equal(t, adviseUnreachable(advised), advised, "advised twice")
	other := errors.New("no such service")
	assert.Equal(t, adviseUnreachable(other), other)
}
