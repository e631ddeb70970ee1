package plugin

import (
	"context"
	"os"
	"time"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/docker/cli/cli/command"
	"github.com/docker/compose/v5/cmd/display"
	"github.com/docker/compose/v5/cmd/prompt"
	"github.com/docker/compose/v5/pkg/api"
	"github.com/docker/compose/v5/pkg/compose"
	"github.com/moby/moby/client"

	"github.com/picasoft/docker-picatest/internal/deploy"
	"github.com/picasoft/docker-picatest/internal/engine"
	"github.com/picasoft/docker-picatest/internal/exitcode"
	"github.com/picasoft/docker-picatest/internal/traefikapi"
	"github.com/picasoft/docker-picatest/testrun"
)

// Backend is the part of the Compose SDK that picatest drives
// (testrun.Backend, where the test run that drives most of it lives).
type Backend = testrun.Backend

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
		// A failed pull is reported once, by picatest (deploy.PullImages).
		compose.WithEventProcessor(deploy.PullProgress(ep)),
		// What Compose prints itself (the classic builder's output) goes
		// to stderr, like its progress: stdout carries picatest's report.
		compose.WithOutputStream(dockerCli.Err()),
		compose.WithPrompt(prompt.NewPrompt(dockerCli.In(), dockerCli.Out()).Confirm),
	)
	if err != nil {
		return nil, err
	}
	var b Backend = svc
	if v, ok := svc.(apiVersioner); ok {
		b = engineFeatureGuard{Backend: svc, versioner: v}
	}
	return listingBackend{Backend: b, dockerCli: dockerCli}, nil
}

// listingBackend is a Backend that also lists every container of the
// engine (traefikapi.Engine), for the routing checks of check and
// up --dry-run; the engine is only contacted when asked.
type listingBackend struct {
	Backend
	dockerCli command.Cli
}

// ContainerList lists the containers of the engine.
func (b listingBackend) ContainerList(ctx context.Context, options client.ContainerListOptions) (client.ContainerListResult, error) {
	return b.dockerCli.Client().ContainerList(ctx, options)
}

// Info is the engine's `docker info`, for the test-host line of
// up --dry-run.
func (b listingBackend) Info(ctx context.Context, options client.InfoOptions) (client.SystemInfoResult, error) {
	return b.dockerCli.Client().Info(ctx, options)
}

// VolumeInspect inspects a volume of the engine.
func (b listingBackend) VolumeInspect(ctx context.Context, volumeID string, options client.VolumeInspectOptions) (client.VolumeInspectResult, error) {
	return b.dockerCli.Client().VolumeInspect(ctx, volumeID, options)
}

// NetworkList lists the networks of the engine.
func (b listingBackend) NetworkList(ctx context.Context, options client.NetworkListOptions) (client.NetworkListResult, error) {
	return b.dockerCli.Client().NetworkList(ctx, options)
}

// engineOf is backend without its wrappers (unwrap): a listingBackend
// reads the engine when asked (up --dry-run, check), a test's fake does
// not.
func engineOf(backend Backend) Backend {
	for {
		u, ok := backend.(interface{ unwrap() Backend })
		if !ok {
			return backend
		}
		backend = u.unwrap()
	}
}

// routingFacts lists the containers of the engine for the routing checks
// (lint.RouterConflicts), nil when the backend cannot list them or the
// engine does not answer within 2 seconds.
func routingFacts(ctx context.Context, backend Backend, project string) *traefikapi.Facts {
	l, ok := engineOf(backend).(traefikapi.Engine)
	if !ok {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	f, err := traefikapi.Gather(ctx, l, project, "", "")
	if err != nil {
		return nil
	}
	return f
}

// apiVersioner is the part of the Compose SDK's service that tells the API
// version negotiated with the engine.
type apiVersioner interface {
	RuntimeAPIVersion(ctx context.Context) (string, error)
}

// engineFeatureGuard is a Backend whose Create first refuses a project
// that uses a feature the engine's API version lacks (see
// engine.FeatureError): Compose finds out only when it creates the
// containers, after it has created the networks.
type engineFeatureGuard struct {
	Backend
	versioner apiVersioner
}

// Create checks the features of project against the engine, then creates
// its containers.
func (g engineFeatureGuard) Create(ctx context.Context, project *types.Project, options api.CreateOptions) error {
	// An engine that cannot be asked fails the Create itself, with Compose's
	// own message.
	if version, err := g.versioner.RuntimeAPIVersion(ctx); err == nil {
		if err := engine.FeatureError(project, version, os.Getenv("DOCKER_API_VERSION")); err != nil {
			return err
		}
	}
	return g.Backend.Create(ctx, project, options)
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
