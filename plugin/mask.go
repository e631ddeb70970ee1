package plugin

import (
	"context"

	"github.com/docker/cli/cli/command"
	"github.com/docker/compose/v5/pkg/api"
	"github.com/spf13/cobra"

	"github.com/picasoft/docker-picatest/internal/mask"
)

// maskingBackend masks the log lines of Logs with the Masker of the
// command (rootOptions.masks), whichever command streams them.
type maskingBackend struct {
	Backend
	masks *mask.Slot
}

// unwrap is the Backend it masks.
func (b maskingBackend) unwrap() Backend { return b.Backend }

func (b maskingBackend) Logs(ctx context.Context, project string, consumer api.LogConsumer, options api.LogOptions) error {
	return b.Backend.Logs(ctx, project, b.masks.Logs(consumer), options)
}

// withMasking returns newBackend whose backends mask secret values in the
// log lines they stream (see maskingBackend).
func (o *rootOptions) withMasking(newBackend BackendFunc) BackendFunc {
	return func(dockerCli command.Cli, progress string) (Backend, error) {
		b, err := newBackend(dockerCli, progress)
		if err != nil {
			return nil, err
		}
		return maskingBackend{Backend: b, masks: &o.masks}, nil
	}
}

// maskErrors wraps the RunE of a command so that its error message is
// masked with the Masker of the command. The exit code is kept.
func (o *rootOptions) maskErrors(run func(*cobra.Command, []string) error) func(*cobra.Command, []string) error {
	if run == nil {
		return nil
	}
	return func(cmd *cobra.Command, args []string) error {
		return o.masks.Error(run(cmd, args))
	}
}
