package plugin

import (
	"context"
	"fmt"
	"strings"

	"github.com/docker/cli/cli/command"
	"github.com/docker/compose/v5/pkg/api"
	"github.com/spf13/cobra"

	"github.com/picasoft/docker-picatest/internal/deploy"
	"github.com/picasoft/docker-picatest/internal/safety"
	"github.com/picasoft/docker-picatest/testrun"
)

type downOptions struct {
	takeover  bool
	breakLock bool
}

func newDownCommand(dockerCli command.Cli, newBackend BackendFunc, root *rootOptions) *cobra.Command {
	opts := downOptions{}
	cmd := &cobra.Command{
		Use:   "down [OPTIONS]",
		Short: "Remove the test deployment and its volumes; external volumes are kept",
		Long: `Removes the test deployment: containers, networks and the project's own
volumes (down -v --remove-orphans). External volumes are kept, and so is
a volume or network the project names that this deployment did not
create (another project's, or not created by Compose: no
com.docker.compose.project label of this project, or, for an instance,
not its net.picasoft.picatest.instance label). With --instance, the
instance's deployment and its volumes (those that replace the external
volumes included); the default deployment is left alone; an instance
whose names another deployment holds is refused (exit 2).

Exit codes: 0 removed, 1 failed, 2 invalid input, 3 refused by a safety rule
(not a test host, lock held, deployment owned by someone else), 130
interrupted.`,
		Example: `  docker picatest down
  docker picatest -p pad down
  docker picatest -p pad down --takeover
  docker picatest down --instance branch`,
		Args: noArgs,
		RunE: adapt(func(ctx context.Context, args []string) error {
			return runDown(ctx, dockerCli, newBackend, root, opts)
		}),
	}
	cmd.Flags().BoolVar(&opts.takeover, "takeover", false, "Remove a deployment owned by someone else")
	cmd.Flags().BoolVar(&opts.breakLock, "break-lock", false, "Break the lock of the project held by a command that no longer runs (its machine restarted or gone)")
	return cmd
}

func runDown(ctx context.Context, dockerCli command.Cli, newBackend BackendFunc, root *rootOptions, opts downOptions) error {
	backend, err := newBackend(dockerCli, root.Progress)
	if err != nil {
		return err
	}
	p, settings, err := root.loadNameAndSettings(ctx, backend)
	if err != nil {
		return err
	}
	phase := phaseWriter(dockerCli.Err(), root.Progress)
	release, err := safety.Guard(ctx, dockerCli.Client(), safety.GuardOptions{
		TestHosts: settings.TestHosts, TestHostsFrom: settings.TestHostsFrom,
		OnTestHost: func(h safety.TestHost) { phase("preflight: %s", h) },
		Project:    p.Name, Command: safety.CommandLine(),
		Takeover: opts.takeover, BreakLock: opts.breakLock, Log: dockerCli.Err(),
	})
	if err != nil {
		return err
	}
	defer release()
	engine := dockerCli.Client()
	if err := testrun.CheckInstanceNames(ctx, engine, root.Instance, p); err != nil {
		return err
	}
	down := api.DownOptions{RemoveOrphans: true, Volumes: true}
	if len(p.Services) > 0 {
		// The volumes and networks the project names but did not create
		// are kept, as the external ones are.
		notOwned, err := deploy.NotOwnedObjects(ctx, engine, p)
		if err != nil {
			return err
		}
		if len(notOwned) > 0 {
			var l []string
			for _, o := range notOwned {
				l = append(l, o.String())
			}
			phaseWriter(dockerCli.Err(), root.Progress)("down keeps %s: not created by this deployment, kept as an external volume is ('docker volume rm NAME', 'docker network rm NAME' remove one that is yours to remove)", strings.Join(l, ", "))
		}
		down.Project = deploy.WithoutNotOwned(p, notOwned)
	}
	if err := backend.Down(ctx, p.Name, down); err != nil {
		return fmt.Errorf("down failed: %w\nSee 'docker picatest status'", err)
	}
	return nil
}
