package plugin

import (
	"bytes"
	"io"
	"strings"
	"testing"

	"github.com/docker/cli/cli/command"
	"github.com/spf13/cobra"
	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"
	"gotest.tools/v3/golden"
)

// TestHelp keeps the --help of every command stable: one golden file per
// command under testdata/help, updated with 'go test ./plugin -update'.
func TestHelp(t *testing.T) {
	root := helpRootCommand(t)
	cmds := map[string]*cobra.Command{"root": root}
	for _, sub := range root.Commands() {
		if sub.Name() == "help" || sub.Hidden {
			continue
		}
		cmds[sub.Name()] = sub
	}
	for _, name := range []string{"root", "up", "down", "status", "logs", "config", "smoke", "push", "check", "completion", "version"} {
		cmd, ok := cmds[name]
		delete(cmds, name)
		t.Run(name, func(t *testing.T) {
			assert.Assert(t, ok, "command %s not found", name)

			short := strings.TrimSpace(cmd.Short)
			assert.Check(t, short != "" && !strings.Contains(short, "\n"), "Short must be one line: %q", cmd.Short)
			assert.Check(t, !strings.HasSuffix(short, "."), "Short must not end with a period: %q", cmd.Short)

			var out bytes.Buffer
			cmd.SetOut(&out)
			assert.NilError(t, cmd.Help())
			got := out.String()
			assert.Check(t, is.Contains(got, "Examples:"))
			assert.Check(t, is.Contains(got, "Exit codes"))
			assert.Check(t, is.Contains(cmd.Example, "docker picatest"))
			golden.Assert(t, got, "help/"+name+".golden")
		})
	}
	for name := range cmds {
		t.Errorf("command %s has no golden help test: add it to the list", name)
	}
}

// helpRootCommand builds the root command as the plugin does, with the
// environment that feeds flag defaults cleared so that the help text does
// not depend on where the test runs. Help is rendered with cobra's template,
// which does not wrap to the terminal width (the Docker CLI's does).
func helpRootCommand(t *testing.T) *cobra.Command {
	t.Helper()
	t.Setenv("COMPOSE_ENV_FILES", "")
	t.Setenv("COMPOSE_PROGRESS", "")
	root := RootCommand(testCli(t, io.Discard, io.Discard), func(command.Cli, string) (Backend, error) { return &fakeBackend{}, nil })
	// As the Docker CLI runs a plugin (cli-plugins/plugin.newPluginCommand):
	// under a "docker" command, without [flags] in the usage lines.
	docker := &cobra.Command{Use: "docker"}
	docker.AddCommand(root)
	var noFlagsInUseLine func(*cobra.Command)
	noFlagsInUseLine = func(c *cobra.Command) {
		c.DisableFlagsInUseLine = true
		for _, sub := range c.Commands() {
			noFlagsInUseLine(sub)
		}
	}
	noFlagsInUseLine(docker)
	return root
}
