package plugin

import (
	"strings"
	"testing"

	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"

	"github.com/picasoft/docker-picatest/internal/composetest"
	"github.com/picasoft/docker-picatest/internal/exitcode"
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
