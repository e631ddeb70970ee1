package plugin

import (
	"sort"
	"strings"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/docker/cli/cli/command"
	"github.com/docker/compose/v5/pkg/api"
	"github.com/spf13/cobra"

	"github.com/picasoft/docker-picatest/internal/exitcode"
)

// newCompletionCommand returns `completion bash|zsh|fish`. The Docker CLI
// plugin wrapper hides cobra's default completion command; this one is
// visible. The script is generated on the root command: in a plugin that is
// the docker command, whose hidden __complete request the Docker CLI
// forwards to its plugins, so that `docker picatest up <TAB>` completes the
// service names of the project.
func newCompletionCommand(dockerCli command.Cli) *cobra.Command {
	return &cobra.Command{
		Use:   "completion bash|zsh|fish",
		Short: "Print the shell completion script for bash, zsh or fish",
		Long: `Prints the shell completion script of the docker command, plugins included:
the Docker CLI asks each plugin for its completions, so that commands, flags
and the service names of the project complete as in 'docker compose'.

If your shell already completes 'docker' with a script from 'docker completion',
nothing more is needed; otherwise load this one.

Exit codes: 0 printed, 1 failed (output not writable), 2 invalid input
(unknown shell). Never 3.`,
		Example: `  source <(docker picatest completion bash)
  docker picatest completion zsh > "${fpath[1]}/_docker"
  docker picatest completion fish > ~/.config/fish/completions/docker.fish`,
		ValidArgs: []string{"bash", "zsh", "fish"},
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return exitcode.Invalidf("completion needs one shell: bash, zsh or fish\nSee 'docker picatest completion --help'.")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			root, out := cmd.Root(), dockerCli.Out()
			switch args[0] {
			case "bash":
				return root.GenBashCompletionV2(out, true)
			case "zsh":
				return root.GenZshCompletion(out)
			case "fish":
				return root.GenFishCompletion(out, true)
			default:
				return exitcode.Invalidf("shell %q is not supported: use bash, zsh or fish", args[0])
			}
		},
	}
}

// serviceCompletionCommands are the subcommands whose arguments are
// service names.
var serviceCompletionCommands = map[string]bool{
	"up": true, "logs": true, "status": true, "config": true, "push": true, "smoke": true,
}

// addServiceCompletion makes the subcommands of root that take service names
// complete them from the project, loaded with the root options as the
// command itself would load it; any error gives no completion.
func addServiceCompletion(root *cobra.Command, dockerCli command.Cli, newBackend BackendFunc, opts *rootOptions) {
	for _, sub := range root.Commands() {
		if serviceCompletionCommands[sub.Name()] && sub.ValidArgsFunction == nil {
			sub.ValidArgsFunction = completeServiceNames(dockerCli, newBackend, opts)
		}
	}
}

// completeServiceNames completes the service names of the project not yet
// given, as docker compose does (disabled services included).
func completeServiceNames(dockerCli command.Cli, newBackend BackendFunc, o *rootOptions) cobra.CompletionFunc {
	return func(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		backend, err := newBackend(dockerCli, "quiet")
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		// Only the names are needed: no environment resolution, so that a
		// missing env_file does not prevent completion; no remote loaders.
		p, err := backend.LoadProject(cmd.Context(), offline(o.composeLoadOptions(nil, cli.WithoutEnvironmentResolution, cli.WithDiscardEnvFile)))
		if err != nil || p == nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		given := map[string]bool{}
		for _, a := range args {
			given[a] = true
		}
		var values []cobra.Completion
		names := append(p.ServiceNames(), p.DisabledServiceNames()...)
		sort.Strings(names)
		for _, s := range names {
			if !given[s] && strings.HasPrefix(s, toComplete) {
				values = append(values, s)
			}
		}
		return values, cobra.ShellCompDirectiveNoFileComp
	}
}

// offline makes a load use no remote (git, OCI) loader.
func offline(o api.ProjectLoadOptions) api.ProjectLoadOptions {
	o.Offline = true
	return o
}
