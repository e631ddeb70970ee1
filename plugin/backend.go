package plugin

import (
	"context"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/docker/cli/cli/command"
	"github.com/docker/compose/v5/cmd/display"
	"github.com/docker/compose/v5/cmd/prompt"
	"github.com/docker/compose/v5/pkg/api"
	"github.com/docker/compose/v5/pkg/compose"
	"github.com/moby/moby/client/pkg/versions"

	"github.com/picasoft/docker-picatest/internal/exitcode"
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
	svc, err := compose.NewComposeService(dockerCli,
		compose.WithEventProcessor(ep),
		// What Compose prints itself (the classic builder's output) goes
		// to stderr, like its progress: stdout carries picatest's report.
		compose.WithOutputStream(dockerCli.Err()),
		compose.WithPrompt(prompt.NewPrompt(dockerCli.In(), dockerCli.Out()).Confirm),
	)
	if err != nil {
		return nil, err
	}
	if v, ok := svc.(apiVersioner); ok {
		return engineFeatureGuard{Backend: svc, versioner: v}, nil
	}
	return svc, nil
}

// apiVersioner is the part of the Compose SDK's service that tells the API
// version negotiated with the engine.
type apiVersioner interface {
	RuntimeAPIVersion(ctx context.Context) (string, error)
}

// engineFeatureGuard is a Backend whose Up first refuses a project that
// uses a feature the engine's API version lacks (see engineFeatureError):
// Compose finds out only when it creates the containers, after it has
// created the networks.
type engineFeatureGuard struct {
	Backend
	versioner apiVersioner
}

// Up checks the features of project against the engine, then starts it.
func (g engineFeatureGuard) Up(ctx context.Context, project *types.Project, options api.UpOptions) error {
	// An engine that cannot be asked fails the Up itself, with Compose's
	// own message.
	if version, err := g.versioner.RuntimeAPIVersion(ctx); err == nil {
		if err := engineFeatureError(project, version, os.Getenv("DOCKER_API_VERSION")); err != nil {
			return err
		}
	}
	return g.Backend.Up(ctx, project, options)
}

// engineFeature is a Compose feature that Compose refuses below an Engine
// API version.
type engineFeature struct {
	apiVersion, engine string
}

var (
	// featureInterfaceName is networks.<net>.interface_name of a service.
	featureInterfaceName = engineFeature{apiVersion: "1.49", engine: "28.1"}
	// featureImageVolume is a volume of type image.
	featureImageVolume = engineFeature{apiVersion: "1.48", engine: "28.0"}
)

// engineFeatureError returns an error (exit 1) naming each use in p of a
// feature that Compose refuses with the negotiated API version, nil when
// there is none. pinned is DOCKER_API_VERSION.
func engineFeatureError(p *types.Project, version, pinned string) error {
	var uses []string
	for _, name := range p.ServiceNames() {
		svc := p.Services[name]
		for _, net := range slices.Sorted(maps.Keys(svc.Networks)) {
			if cfg := svc.Networks[net]; cfg != nil && cfg.InterfaceName != "" && versions.LessThan(version, featureInterfaceName.apiVersion) {
				uses = append(uses, fmt.Sprintf("service %s: interface_name on network %s needs Docker Engine %s or later (API %s)", name, net, featureInterfaceName.engine, featureInterfaceName.apiVersion))
			}
		}
		for _, v := range svc.Volumes {
			if v.Type == types.VolumeTypeImage && versions.LessThan(version, featureImageVolume.apiVersion) {
				uses = append(uses, fmt.Sprintf("service %s: the volume of type image at %s needs Docker Engine %s or later (API %s)", name, v.Target, featureImageVolume.engine, featureImageVolume.apiVersion))
			}
		}
	}
	if len(uses) == 0 {
		return nil
	}
	const upgrade = "the Docker Engine of the test machine, or leave these out of the test with an override file ('docker picatest -f compose.yaml -f test.override.yaml up')"
	next := "Upgrade " + upgrade
	if pinned != "" {
		next = fmt.Sprintf("Unset DOCKER_API_VERSION (%s), or upgrade %s", pinned, upgrade)
	}
	return exitcode.With(exitcode.Failed, fmt.Errorf("the Docker engine speaks API %s, too old for the project; nothing was created:\n  %s\n%s", version, strings.Join(uses, "\n  "), next))
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
		return nil, exitcode.Invalidf("--progress %q is not supported: use one of auto, tty, plain, json, quiet", progress)
	}
}
