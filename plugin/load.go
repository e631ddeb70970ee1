package plugin

import (
	"context"
	"strings"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"
	"github.com/docker/compose/v5/pkg/api"

	"github.com/picasoft/docker-picatest/internal/settings"
	"github.com/picasoft/docker-picatest/internal/testproject"
)

// testProject is a Compose project ready for the test machine.
type testProject = testproject.Project

// loadOptions tune loadTestProject for one command.
type loadOptions = testproject.LoadOptions

// composeOptions returns the Compose project flags and the settings flags
// given to the command.
func (o *rootOptions) composeOptions() testproject.Options {
	return testproject.Options{
		ProjectName: o.ProjectName,
		ConfigPaths: o.ConfigPaths,
		ProjectDir:  o.ProjectDir,
		EnvFiles:    o.EnvFiles,
		Profiles:    o.Profiles,
		RealSecrets: o.RealSecrets,
		Instance:    o.Instance,
		Settings:    o.given(),
	}
}

// loadTestProject loads the transformed project (testproject.Load), which
// installs its Masker in o.masks as soon as it knows it: every output of
// the command is masked from there on, errors of the load included.
func (o *rootOptions) loadTestProject(ctx context.Context, backend Backend, lo loadOptions) (*testProject, error) {
	lo.Masks = &o.masks
	return testproject.Load(ctx, backend, o.composeOptions(), lo)
}

// loadPushProject loads the project with no transform (push, check).
func (o *rootOptions) loadPushProject(ctx context.Context, backend Backend) (*types.Project, error) {
	return testproject.LoadUntransformed(ctx, backend, o.composeOptions())
}

// loadNameAndSettings loads the deployment's name, directory and settings
// (down, status).
func (o *rootOptions) loadNameAndSettings(ctx context.Context, backend Backend) (*types.Project, settings.Settings, error) {
	return testproject.LoadDeployment(ctx, backend, o.composeOptions())
}

// loadLogs loads the deployment for logs and installs the Masker of every
// real secrets file of the project.
func (o *rootOptions) loadLogs(ctx context.Context, backend Backend) (*types.Project, error) {
	p, _, m, err := testproject.LoadLogs(ctx, backend, o.composeOptions())
	if err != nil {
		return nil, err
	}
	o.masks.Set(m)
	return p, nil
}

// resolveSettings resolves the settings for the project in dir.
func (o *rootOptions) resolveSettings(dir string) (settings.Settings, error) {
	return o.composeOptions().ResolveSettings(dir)
}

// composeLoadOptions are the loader options of the Compose flags.
func (o *rootOptions) composeLoadOptions(services []string, fns ...cli.ProjectOptionsFn) api.ProjectLoadOptions {
	return o.composeOptions().ComposeLoadOptions(services, fns...)
}

// serviceNames lists the services of p for error messages.
func serviceNames(p *types.Project) string {
	return strings.Join(p.ServiceNames(), ", ")
}
