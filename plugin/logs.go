package plugin

import (
	"context"

	"github.com/docker/cli/cli/command"
	"github.com/docker/compose/v5/cmd/formatter"
	"github.com/docker/compose/v5/pkg/api"
	"github.com/spf13/cobra"

	"github.com/picasoft/docker-picatest/internal/termsafe"
)

type logsOptions struct {
	follow     bool
	tail       string
	since      string
	timestamps bool
}

func newLogsCommand(dockerCli command.Cli, newBackend BackendFunc, root *rootOptions) *cobra.Command {
	opts := logsOptions{}
	cmd := &cobra.Command{
		Use:   "logs [OPTIONS] [SERVICE...]",
		Short: "Show the logs of the test deployment (Compose logs)",
		Long: `Shows the logs of the containers of the test deployment, as 'docker compose
logs' does. With -p and no Compose file, the deployment is found by its
project name alone. -f is --follow here; name a Compose file with --file.

Exit codes: 0 shown, 1 failed (engine unreachable), 2 invalid input, 130
interrupted. Never 3: logs only reads.`,
		Example: `  docker picatest logs -f
  docker picatest logs --tail 50 pad
  docker picatest -p pad logs --since 10m`,
		RunE: adapt(func(ctx context.Context, args []string) error {
			return runLogs(ctx, dockerCli, newBackend, root, opts, args)
		}),
	}
	f := cmd.Flags()
	f.BoolVarP(&opts.follow, "follow", "f", false, "Follow log output")
	f.StringVarP(&opts.tail, "tail", "n", "all", "Number of lines to show from the end of the logs for each container")
	f.StringVar(&opts.since, "since", "", "Show logs since timestamp (e.g. 2013-01-02T13:23:37Z) or relative (e.g. 42m for 42 minutes)")
	f.BoolVarP(&opts.timestamps, "timestamps", "t", false, "Show timestamps")
	return cmd
}

func runLogs(ctx context.Context, dockerCli command.Cli, newBackend BackendFunc, root *rootOptions, opts logsOptions, services []string) error {
	backend, err := newBackend(dockerCli, root.Progress)
	if err != nil {
		return err
	}
	// The containers print what they got: real secrets when started with
	// --real-secrets. Their values are masked (see maskingBackend).
	p, err := root.loadLogs(ctx, backend)
	if err != nil {
		return err
	}
	printModelWarnings(dockerCli.Err(), root.masks.Get())
	// The lines reach the terminal escaped (termsafe).
	consumer := termsafe.Consumer(formatter.NewLogConsumer(ctx, dockerCli.Out(), dockerCli.Err(), dockerCli.Out().IsTerminal(), true, opts.timestamps))
	return backend.Logs(ctx, p.Name, consumer, api.LogOptions{
		Services:   services,
		Tail:       opts.tail,
		Since:      opts.since,
		Follow:     opts.follow,
		Timestamps: opts.timestamps,
	})
}
