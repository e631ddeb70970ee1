package testrun

import (
	"context"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/docker/compose/v5/pkg/api"
)

// Backend is the part of the Compose SDK (api.Compose) that picatest
// drives. Keeping it narrow lets command wiring be tested with a small fake;
// behaviour is tested end to end against the real engine.
type Backend interface {
	LoadProject(ctx context.Context, options api.ProjectLoadOptions) (*types.Project, error)
	Build(ctx context.Context, project *types.Project, options api.BuildOptions) error
	Pull(ctx context.Context, project *types.Project, options api.PullOptions) error
	Create(ctx context.Context, project *types.Project, options api.CreateOptions) error
	Start(ctx context.Context, projectName string, options api.StartOptions) error
	Down(ctx context.Context, projectName string, options api.DownOptions) error
	Ps(ctx context.Context, projectName string, options api.PsOptions) ([]api.ContainerSummary, error)
	Logs(ctx context.Context, projectName string, consumer api.LogConsumer, options api.LogOptions) error
	Push(ctx context.Context, project *types.Project, options api.PushOptions) error
}
