package e2e

import (
	"testing"

	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"
)

// TestConfigErrors checks that each bad input exits 2 with a message that
// says what is wrong and what to do, and leaves the tree unchanged.
func TestConfigErrors(t *testing.T) {
	cases := []struct {
		dir  string
		args []string
		want []string
	}{
		{"invalid-yaml", nil, []string{"compose.yaml", "L4", "Fix the Compose file"}},
		{"missing-example", nil, []string{"secrets/web.secrets", "secrets/token.secrets", "create secrets/web.secrets.example with test values"}},
		{"unknown-service", []string{"nope"}, []string{"no such service: nope", "config --services"}},
		{"unreadable-env-file", nil, []string{"app.env", "is a directory"}},
		{"broken-rule-assertion", nil, []string{"registry.picasoft.net (HostRegexp(`^registry[.]picasoft[.]net$`) matches it)", "traefik.http.routers.registry.rule"}},
	}
	for _, tc := range cases {
		t.Run(tc.dir, func(t *testing.T) {
			p := newProject(t, "TestConfigErrors/"+tc.dir)
			before := p.snapshot()
			r := p.picatest(append([]string{"config"}, tc.args...)...)
			assert.Equal(t, r.ExitCode, 2, r)
			assert.Equal(t, r.Stdout, "")
			for _, w := range tc.want {
				assert.Check(t, is.Contains(r.Stderr, w))
			}
			p.assertTreeUnchanged(before)
		})
	}
}
