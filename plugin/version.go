package plugin

import (
	"fmt"
	"runtime"

	"github.com/docker/cli/cli/command"
	"github.com/spf13/cobra"
)

type versionOptions struct {
	short bool
}

func newVersionCommand(dockerCli command.Cli) *cobra.Command {
	opts := versionOptions{}
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Show the docker picatest version information",
		Long: `Prints the version and git commit docker picatest was built from, with the
Go version and platform; --short prints the version number only.

Exit codes: 0 printed, 1 failed (output not writable), 2 invalid input
(unknown flag). Never 3.`,
		Example: `  docker picatest version
  docker picatest version --short`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runVersion(dockerCli, opts)
		},
	}
	cmd.Flags().BoolVar(&opts.short, "short", false, "Show only the version number")
	return cmd
}

func runVersion(dockerCli command.Cli, opts versionOptions) error {
	if opts.short {
		_, err := fmt.Fprintln(dockerCli.Out(), Version)
		return err
	}
	_, err := fmt.Fprintf(dockerCli.Out(), "docker picatest version %s, commit %s, %s %s/%s\n",
		Version, Commit, runtime.Version(), runtime.GOOS, runtime.GOARCH)
	return err
}
