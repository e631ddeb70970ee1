package plugin

import (
	"path/filepath"
	"strings"
	"testing"

	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"

	"github.com/picasoft/docker-picatest/internal/exitcode"
)

func TestCompletionListsServiceNames(t *testing.T) {
	file := filepath.Join("testdata", "check", "bad", "compose.yaml")
	for _, sub := range []string{"up", "logs", "status", "config", "push", "smoke"} {
		t.Run(sub, func(t *testing.T) {
			stdout, stderr, code := runReal(t, "-f", file, "__complete", sub, "")
			assert.Equal(t, code, 0, stderr)
			lines := strings.Split(strings.TrimSpace(stdout), "\n")
			assert.DeepEqual(t, lines, []string{"app", "web", "worker", ":4"})
		})
	}
	t.Run("prefix and already given", func(t *testing.T) {
		stdout, _, _ := runReal(t, "__complete", "-f", file, "up", "web", "w")
		assert.DeepEqual(t, strings.Split(strings.TrimSpace(stdout), "\n"), []string{"worker", ":4"})
	})
	t.Run("no project, no completion", func(t *testing.T) {
		stdout, _, code := runReal(t, "__complete", "-f", filepath.Join(t.TempDir(), "none.yaml"), "up", "")
		assert.Equal(t, code, 0)
		assert.Equal(t, strings.TrimSpace(stdout), ":4")
	})
}

func TestCompletionScripts(t *testing.T) {
	for shell, want := range map[string]string{
		"bash": "__start_picatest",
		"zsh":  "#compdef picatest",
		"fish": "complete -c picatest",
	} {
		stdout, stderr, code := runReal(t, "completion", shell)
		assert.Equal(t, code, 0, stderr)
		assert.Check(t, is.Contains(stdout, want), shell)
	}
	_, stderr, code := runReal(t, "completion", "powershell")
	assert.Equal(t, code, exitcode.Invalid)
	assert.Check(t, is.Contains(stderr, "bash, zsh or fish"))
	_, _, code = runReal(t, "completion")
	assert.Equal(t, code, exitcode.Invalid)
}
