package plugin

import (
	"context"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/docker/cli/cli/command"
	"github.com/docker/compose/v5/cmd/display"
	"github.com/docker/compose/v5/cmd/prompt"
	"github.com/docker/compose/v5/pkg/api"
	"github.com/docker/compose/v5/pkg/compose"
)

// Backend is the part of the Compose SDK (api.Compose) that picatest
// drives. Keeping it narrow lets command wiring be tested with a small fake;
// behaviour is tested end to end against the real engine.
type Backend interface {
	LoadProject(ctx context.Context, options api.ProjectLoadOptions) (*types.Project, error)
	Build(ctx context.Context, project *types.Project, options api.BuildOptions) error
	Pull(ctx context.Context, project *types.Project, options api.PullOptions) error
	Up(ctx context.Context, project *types.Project, options api.UpOptions) error
	Down(ctx context.Context, projectName string, options api.DownOptions) error
	Ps(ctx context.Context, projectName string, options api.PsOptions) ([]api.ContainerSummary, error)
	Logs(ctx context.Context, projectName string, consumer api.LogConsumer, options api.LogOptions) error
	Push(ctx context.Context, project *types.Project, options api.PushOptions) error
}

// BackendFunc creates the Backend for a Docker CLI, rendering progress in
// the given mode (--progress: auto, tty, plain, json, quiet).
type BackendFunc func(dockerCli command.Cli, progress string) (Backend, error)

// NewBackend returns the Compose SDK service for dockerCli, with Compose's
// own progress renderers on stderr.
func NewBackend(dockerCli command.Cli, progress string) (Backend, error) {
	ep, err := eventProcessor(dockerCli, progress)
	if err != nil {
		return nil, err
	}
	return compose.NewComposeService(dockerCli,
		compose.WithEventProcessor(ep),
		// What Compose prints itself (the classic builder's output) goes
		// to stderr, like its progress: stdout carries picatest's report.
		compose.WithOutputStream(dockerCli.Err()),
		compose.WithPrompt(prompt.NewPrompt(dockerCli.In(), dockerCli.Out()).Confirm),
	)
}

// progressModes are the values of --progress, as in Compose.
var progressModes = []string{display.ModeAuto, display.ModeTTY, display.ModePlain, display.ModeJSON, display.ModeQuiet}

// eventProcessor picks Compose's progress renderer, as docker compose does.
func eventProcessor(dockerCli command.Cli, progress string) (api.EventProcessor, error) {
	switch progress {
	case "", display.ModeAuto:
		if dockerCli.Err().IsTerminal() {
			display.Mode = display.ModeTTY
			return display.Full(dockerCli.Err(), dockerCli.Err(), true), nil
		}
		display.Mode = display.ModePlain
		return display.Plain(dockerCli.Err()), nil
	case display.ModeTTY:
		display.Mode = display.ModeTTY
		return display.Full(dockerCli.Err(), dockerCli.Err(), true), nil
	case display.ModePlain:
		display.Mode = display.ModePlain
		return display.Plain(dockerCli.Err()), nil
	case display.ModeQuiet, "none":
		display.Mode = display.ModeQuiet
		return display.Quiet(), nil
	case display.ModeJSON:
		display.Mode = display.ModeJSON
		return display.JSON(dockerCli.Err()), nil
	default:
		return nil, invalidf("--progress %q is not supported: use one of auto, tty, plain, json, quiet", progress)
	}
}
