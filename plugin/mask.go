package plugin

import (
	"context"
	"strings"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/docker/cli/cli/command"
	"github.com/docker/compose/v5/pkg/api"
	"github.com/spf13/cobra"

	"github.com/picasoft/docker-picatest/internal/mask"
	"github.com/picasoft/docker-picatest/transforms/examplesecrets"
)

// maskingBackend masks the log lines of Logs with the Masker of the
// command (rootOptions.masks), whichever command streams them.
type maskingBackend struct {
	Backend
	masks *mask.Slot
}

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

// deployedRedactor masks the values of every real secrets file of the
// project (example or not, --real-secrets or not): for the commands that
// show what an existing deployment prints, without knowing whether it was
// started with --real-secrets. Without a Compose file here (-p alone, away
// from the service folder), the Compose files are those the deployment's
// containers were created from (Compose's config_files and working_dir
// labels); when they cannot be read either, nothing is known to mask.
func (o *rootOptions) deployedRedactor(ctx context.Context, backend Backend, project string) *mask.Masker {
	opts := o.projectLoadOptions(nil, cli.WithoutEnvironmentResolution)
	p, err := backend.LoadProject(ctx, opts)
	if err != nil {
		containers, psErr := backend.Ps(ctx, project, api.PsOptions{All: true})
		if psErr != nil || len(containers) == 0 || containers[0].Labels[api.ConfigFilesLabel] == "" {
			return nil
		}
		labels := containers[0].Labels
		opts.ConfigPaths = strings.Split(labels[api.ConfigFilesLabel], ",")
		opts.WorkingDir = labels[api.WorkingDirLabel]
		if p, err = backend.LoadProject(ctx, opts); err != nil {
			return nil
		}
	}
	r, err := mask.New(nil, examplesecrets.RealSecretsFiles(p, examplesecrets.Options{RealSecrets: true})...)
	if err != nil {
		return nil
	}
	return r
}
