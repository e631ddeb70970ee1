package plugin

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"
	"github.com/distribution/reference"
	"github.com/docker/compose/v5/pkg/api"
	"go.yaml.in/yaml/v4"

	"github.com/picasoft/docker-picatest/internal/exitcode"
	"github.com/picasoft/docker-picatest/internal/gitrepo"
	"github.com/picasoft/docker-picatest/internal/mask"
	"github.com/picasoft/docker-picatest/internal/safety"
	"github.com/picasoft/docker-picatest/internal/settings"
	"github.com/picasoft/docker-picatest/transforms"
	"github.com/picasoft/docker-picatest/transforms/configfiles"
	"github.com/picasoft/docker-picatest/transforms/examplesecrets"
	"github.com/picasoft/docker-picatest/transforms/testlabels"
	"github.com/picasoft/docker-picatest/transforms/testurls"
	"github.com/picasoft/docker-picatest/transforms/verify"
)

// testProject is a Compose project ready for the test machine.
type testProject struct {
	// Before is the project as Compose would run it, with the example
	// secrets already swapped in (so that it can be resolved at all).
	Before *types.Project
	// Project is Before with every transform applied.
	Project *types.Project
	// Changes lists every change, in pipeline order.
	Changes []transforms.Change
	// Files are the config files that reach the containers rewritten.
	Files []configfiles.File
	// Settings are the resolved picatest settings.
	Settings settings.Settings
	// Masker hides the values of the real secrets files in use and, with
	// loadOptions.containerOutput, also those of the real secrets files
	// replaced by their example: a deployment started with --real-secrets
	// prints them (smoke's log scan, logs).
	Masker *mask.Masker
}

// loadOptions tune loadTestProject for one command.
type loadOptions struct {
	services []string
	// labels adds the test labels of a run started now (SPEC §3.4).
	labels bool
	// containerOutput: the command shows what the containers print (the
	// log scan, the last log lines), so the values of every real secrets
	// file are masked, in use or not.
	containerOutput bool
	// files keeps the original and rewritten text of every rewritten
	// file, for config --diff (it reads the files a second time).
	files bool
}

// loadTestProject loads the project as Compose does and applies the
// transforms of SPEC §3 in memory:
// load → example secrets → environment resolution → test URLs → config
// files → test labels → assertions.
func (o *rootOptions) loadTestProject(ctx context.Context, backend Backend, lo loadOptions) (*testProject, error) {
	loaded, err := backend.LoadProject(ctx, o.projectLoadOptions(lo.services, cli.WithoutEnvironmentResolution))
	if err != nil {
		return nil, loadError(err, o.composeFiles())
	}
	if err := loaded.CheckContainerNameUnicity(); err != nil {
		return nil, exitcode.Invalidf("%v\nGive each service its own container_name.", err)
	}
	if err := checkImageReferences(loaded); err != nil {
		return nil, err
	}
	settings, err := o.settingsOptions.resolve(loaded.WorkingDir, os.Getenv)
	if err != nil {
		return nil, err
	}
	rw, err := testurls.New(settings.ProdDomain, settings.TestDomain, settings.NeverRewritten()...)
	if err != nil {
		return nil, exitcode.Invalidf("%v\nCheck --prod-domain and --test-domain (or PICATEST_PROD_DOMAIN, PICATEST_TEST_DOMAIN, %s).", err, settings.File)
	}

	tp := &testProject{Settings: settings}
	secretsOpts := examplesecrets.Options{RealSecrets: o.RealSecrets}
	p, changes, err := examplesecrets.Transform(loaded, secretsOpts)
	if err != nil {
		var missing *examplesecrets.MissingError
		if errors.As(err, &missing) {
			return nil, exitcode.With(exitcode.Invalid, err)
		}
		return nil, err
	}
	tp.Changes = append(tp.Changes, changes...)
	inUse := examplesecrets.RealSecretsFiles(p, secretsOpts)
	var replaced []string
	if lo.containerOutput {
		replaced = examplesecrets.RealSecretsFiles(loaded, examplesecrets.Options{RealSecrets: true})
	}
	if tp.Masker, err = mask.New(inUse, replaced...); err != nil {
		return nil, err
	}
	o.masks.Set(tp.Masker) // every output of the command, from here on
	p, err = p.WithServicesEnvironmentResolved(true)
	if err != nil {
		return nil, exitcode.Invalidf("%v\nCheck that every env_file exists and is readable (see 'docker picatest config').", err)
	}
	tp.Before = p

	steps := []func(*types.Project) (*types.Project, []transforms.Change, error){
		func(p *types.Project) (*types.Project, []transforms.Change, error) {
			return testurls.Transform(p, rw)
		},
		func(p *types.Project) (*types.Project, []transforms.Change, error) {
			if lo.files {
				files, err := configfiles.Rewritten(p, rw, configfiles.Options{})
				if err != nil {
					return nil, nil, err
				}
				tp.Files = files
			}
			return configfiles.Transform(p, rw, configfiles.Options{})
		},
	}
	if lo.labels {
		labels := testLabelsFor(loaded.WorkingDir, time.Now())
		steps = append(steps, func(p *types.Project) (*types.Project, []transforms.Change, error) {
			return testlabels.Transform(p, labels)
		})
	}
	for _, step := range steps {
		p, changes, err = step(p)
		if err != nil {
			return nil, exitcode.With(exitcode.Invalid, err)
		}
		tp.Changes = append(tp.Changes, changes...)
	}
	// The assertion looks for every production host, never-rewritten ones
	// included: a Traefik rule on the test machine must not route any.
	strict, err := testurls.New(settings.ProdDomain, settings.TestDomain)
	if err != nil {
		return nil, err
	}
	if err := verify.Check(tp.Before, p, strict); err != nil {
		return nil, exitcode.With(exitcode.Invalid, err)
	}
	tp.Project = p
	return tp, nil
}

// loadError explains a Compose load error and says what to do next.
func loadError(err error, files []string) error {
	msg := err.Error()
	if strings.Contains(msg, "yaml") {
		if located := locateYAMLError(files); located != "" {
			msg = located
		}
	}
	switch {
	case strings.Contains(msg, "no configuration file provided"):
		return exitcode.Invalidf("%s\nRun the command from the service folder, or name the Compose file with -f.", msg)
	case strings.Contains(msg, "couldn't find env file"):
		return exitcode.Invalidf("%s\nCheck the paths given with --env-file (or COMPOSE_ENV_FILES): each must exist.", msg)
	case strings.Contains(msg, "compose file") && errors.Is(err, fs.ErrNotExist):
		return exitcode.Invalidf("%s\nCheck the paths given with -f (or COMPOSE_FILE), relative to the current directory, or run the command from the service folder.", msg)
	case strings.Contains(msg, "no such service"):
		return exitcode.Invalidf("%s\nRun 'docker picatest config --services' to list the services.", msg)
	default:
		return exitcode.Invalidf("invalid Compose project: %s\nFix the Compose file, then check it with 'docker picatest config'.", msg)
	}
}

// checkImageReferences refuses (exit 2) an image name that the engine
// would reject, before anything is pulled, built or started: Compose
// itself only finds out when the engine answers the pull or the create.
// An image ID is accepted, as the engine accepts it.
func checkImageReferences(p *types.Project) error {
	var bad []string
	for _, name := range p.ServiceNames() {
		image := p.Services[name].Image
		if image == "" {
			continue
		}
		if _, err := reference.ParseAnyReference(image); err != nil {
			bad = append(bad, fmt.Sprintf("service %s: invalid image reference %q: %v", name, image, err))
		}
	}
	if len(bad) == 0 {
		return nil
	}
	return exitcode.Invalidf("%s\nWrite each image as [registry/]name:tag, in lowercase (e.g. postgres:12), then check the project with 'docker picatest check'.", strings.Join(bad, "\n"))
}

// testLabelsFor returns the test labels of a run started now from dir.
func testLabelsFor(dir string, now time.Time) testlabels.Labels {
	branch, commit := gitrepo.Head(dir)
	return testlabels.Labels{
		Owner:   safety.CurrentOwner(),
		Branch:  branch,
		Commit:  commit,
		Started: now,
	}
}

// serviceNames lists the services of p for error messages.
func serviceNames(p *types.Project) string {
	return strings.Join(p.ServiceNames(), ", ")
}

// composeFiles returns the Compose files the loader reads, for error
// messages: -f, else COMPOSE_FILE, else the default names in the project
// directory.
func (o *rootOptions) composeFiles() []string {
	if len(o.ConfigPaths) > 0 {
		return o.ConfigPaths
	}
	if v := os.Getenv("COMPOSE_FILE"); v != "" {
		sep := os.Getenv("COMPOSE_PATH_SEPARATOR")
		if sep == "" {
			sep = string(os.PathListSeparator)
		}
		return strings.Split(v, sep)
	}
	dir := o.ProjectDir
	if dir == "" {
		dir = "."
	}
	var files []string
	for _, name := range []string{"compose.yaml", "compose.yml", "docker-compose.yml", "docker-compose.yaml"} {
		files = append(files, filepath.Join(dir, name))
	}
	return files
}

// locateYAMLError parses each file and returns "file: error" for the first
// one that is not valid YAML, so that the message names file and line.
func locateYAMLError(files []string) string {
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		var v any
		if err := yaml.Unmarshal(b, &v); err != nil {
			return fmt.Sprintf("%s: %v", f, err)
		}
	}
	return ""
}

// loadNameAndSettings loads just enough of the project for commands that
// act on a deployment by name (down, status, logs): its name, its directory
// and picatest's settings. With -p and no Compose file it does not need the
// Compose file at all.
func (o *rootOptions) loadNameAndSettings(ctx context.Context, backend Backend) (*types.Project, settings.Settings, error) {
	p, err := backend.LoadProject(ctx, o.projectLoadOptions(nil, cli.WithoutEnvironmentResolution, cli.WithDiscardEnvFile))
	if err != nil {
		if o.ProjectName == "" || len(o.ConfigPaths) > 0 {
			return nil, settings.Settings{}, loadError(err, o.composeFiles())
		}
		dir := o.ProjectDir
		if dir == "" {
			dir = "."
		}
		p = &types.Project{Name: o.ProjectName, WorkingDir: dir}
	}
	settings, err := o.settingsOptions.resolve(p.WorkingDir, os.Getenv)
	return p, settings, err
}

// projectLoadOptions are the options of the Compose SDK's loader for
// Compose's project flags, the services named and the loader options.
func (o *rootOptions) projectLoadOptions(services []string, fns ...cli.ProjectOptionsFn) api.ProjectLoadOptions {
	return api.ProjectLoadOptions{
		ProjectName:       o.ProjectName,
		ConfigPaths:       o.ConfigPaths,
		WorkingDir:        o.ProjectDir,
		EnvFiles:          o.EnvFiles,
		Profiles:          o.Profiles,
		Services:          services,
		ProjectOptionsFns: fns,
	}
}
