// Package testproject loads a Compose project exactly as Compose does
// (through the Compose SDK's loader) and makes it ready for the test
// machine: settings and .picatest.yml, the transform pipeline of the
// transforms packages (example secrets, test URLs, config files, test
// labels), the assertions that make a transformed project safe to run,
// and the Masker of the real secrets files. It also loads the project for
// the commands that need no transform (push, check) or only the name of a
// deployment (down, status, logs).
package testproject

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"
	"github.com/docker/compose/v5/pkg/api"

	"github.com/picasoft/docker-picatest/internal/exitcode"
	"github.com/picasoft/docker-picatest/internal/gitrepo"
	"github.com/picasoft/docker-picatest/internal/mask"
	"github.com/picasoft/docker-picatest/internal/registry"
	"github.com/picasoft/docker-picatest/internal/settings"
	"github.com/picasoft/docker-picatest/internal/treefile"
	"github.com/picasoft/docker-picatest/transforms"
	"github.com/picasoft/docker-picatest/transforms/buildcontext"
	"github.com/picasoft/docker-picatest/transforms/configfiles"
	"github.com/picasoft/docker-picatest/transforms/examplesecrets"
	"github.com/picasoft/docker-picatest/transforms/inferbuild"
	"github.com/picasoft/docker-picatest/transforms/instance"
	"github.com/picasoft/docker-picatest/transforms/testlabels"
	"github.com/picasoft/docker-picatest/transforms/testurls"
	"github.com/picasoft/docker-picatest/transforms/verify"
)

// Loader is the part of the Compose SDK that loads a project.
type Loader interface {
	LoadProject(ctx context.Context, options api.ProjectLoadOptions) (*types.Project, error)
}

// Options are Compose's project flags (with Compose's meaning) and
// picatest's settings flags, as the command line gave them.
type Options struct {
	ProjectName string
	ConfigPaths []string
	ProjectDir  string
	EnvFiles    []string
	Profiles    []string
	// RealSecrets uses the real secrets files even where a .example exists.
	RealSecrets bool
	// Instance is --instance: "" for the default deployment, an instance
	// name, or InstanceFromBranch (see InstanceName).
	Instance string
	// Settings holds the settings flags given, by flag name (see
	// settings.Resolve).
	Settings map[string]string
}

// ComposeLoadOptions are the options of the Compose SDK's loader for the
// project flags, the services named and the loader options.
func (o Options) ComposeLoadOptions(services []string, fns ...cli.ProjectOptionsFn) api.ProjectLoadOptions {
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

// ResolveSettings resolves picatest's settings for the project in dir.
func (o Options) ResolveSettings(dir string) (settings.Settings, error) {
	return settings.Resolve(dir, o.Settings, os.Getenv)
}

// Project is a Compose project ready for the test machine.
type Project struct {
	// Before is the project as Compose would run it, with the example
	// secrets already swapped in (so that it can be resolved at all).
	Before *types.Project
	// Project is Before with every transform applied.
	Project *types.Project
	// Changes lists every change, in pipeline order.
	Changes []transforms.Change
	// Files are the config files that reach the containers rewritten
	// (with LoadOptions.Files only).
	Files []configfiles.File
	// BuildContexts rewrites, for the test build only, the files of the
	// build contexts that hold a production host (see buildcontext).
	BuildContexts *buildcontext.Plan
	// Kept lists the production hosts the test-URL rule leaves in the
	// model on purpose (e-mail addresses, never-rewritten hosts, hosts
	// inside paths), SPEC §3.1 and §3.5.
	Kept []testurls.KeptHost
	// Settings are the resolved picatest settings.
	Settings settings.Settings
	// Masker hides the values of the real secrets files in use and, with
	// LoadOptions.ContainerOutput, also those of the real secrets files
	// replaced by their example: a deployment started with --real-secrets
	// prints them (smoke's log scan, logs).
	Masker *mask.Masker
}

// Rewrites are the changes of every transform but example-secrets.
func (p *Project) Rewrites() []transforms.Change {
	return p.changes(false)
}

// ExampleSecrets are the changes of example-secrets: the example files
// used instead of the real ones.
func (p *Project) ExampleSecrets() []transforms.Change {
	return p.changes(true)
}

func (p *Project) changes(examples bool) []transforms.Change {
	out := []transforms.Change{}
	for _, c := range p.Changes {
		if (c.Transform == examplesecrets.Name) == examples {
			out = append(out, c)
		}
	}
	return out
}

// LoadOptions tune Load for one command.
type LoadOptions struct {
	Services []string
	// Labels adds the test labels of a run started now (SPEC §3.4).
	Labels bool
	// ContainerOutput: the command shows what the containers print (the
	// log scan, the last log lines), so the values of every real secrets
	// file are masked, in use or not.
	ContainerOutput bool
	// Files keeps the original and rewritten text of every rewritten
	// file, for config --diff.
	Files bool
	// Masks receives the Masker as soon as it is known, so that the
	// errors of the rest of the load are masked too (the dotenv parser
	// quotes the line of a secrets file it rejects).
	Masks *mask.Slot
}

// Load loads the project as Compose does and applies the transforms of
// SPEC §3 in memory: load → example secrets → environment resolution →
// inferred builds → test URLs → config files → build contexts → test
// labels → assertions.
func Load(ctx context.Context, l Loader, o Options, lo LoadOptions) (*Project, error) {
	if err := o.checkTreeFiles(); err != nil {
		return nil, err
	}
	env, err := o.exampleEnvFiles(lo)
	if err != nil {
		return nil, err
	}
	swapped := o
	swapped.EnvFiles = env.files
	loaded, err := l.LoadProject(ctx, swapped.ComposeLoadOptions(lo.Services, cli.WithoutEnvironmentResolution))
	if err != nil {
		return nil, LoadError(err, o.ComposeFiles())
	}
	if err := examplesecrets.CheckEnvFiles(env.changes, loaded.WorkingDir); err != nil {
		return nil, exitcode.With(exitcode.Invalid, err)
	}
	if err := checkLoaded(loaded); err != nil {
		return nil, err
	}
	s, err := o.ResolveSettings(loaded.WorkingDir)
	if err != nil {
		return nil, err
	}
	rw, err := testurls.New(s.ProdDomain, s.TestDomain, s.NeverRewritten()...)
	if err != nil {
		return nil, exitcode.Invalidf("%v\nCheck --prod-domain and --test-domain (or PICATEST_PROD_DOMAIN, PICATEST_TEST_DOMAIN, %s).", err, settings.File)
	}
	ir, err := o.instanceRewriter(loaded.WorkingDir, s)
	if err != nil {
		return nil, err
	}
	tp := &Project{Settings: s, Changes: env.changes}
	if tp.Before, err = tp.withExampleSecrets(loaded, o.RealSecrets, lo.ContainerOutput, lo.Masks, env, hostRewriters(rw, ir)...); err != nil {
		return nil, err
	}
	pl := pipeline{tp: tp, rw: rw, hosts: rw, files: lo.Files, homeMade: registry.HomeMade(s.Registry)}
	steps := []transforms.Func{pl.inferBuild, pl.testURLs}
	if ir != nil {
		// One host everywhere: the files get the test-URL rule then the
		// instance suffix, as the model does.
		pl.instance, pl.hosts = ir, transforms.Chain{rw, ir}
		steps = append(steps, pl.instanceOf)
	}
	steps = append(steps, pl.configFiles, pl.buildContexts)
	if lo.Labels {
		pl.labels = testLabelsFor(loaded.WorkingDir, time.Now())
		steps = append(steps, pl.testLabels)
	}
	p, changes, err := transforms.Apply(tp.Before, steps...)
	if err != nil {
		return nil, exitcode.With(exitcode.Invalid, err)
	}
	tp.Changes = append(tp.Changes, changes...)
	// The assertion looks for every production host, never-rewritten ones
	// included: a Traefik rule on the test machine must not route any.
	strict, err := testurls.New(s.ProdDomain, s.TestDomain)
	if err != nil {
		return nil, err
	}
	if err := verify.Check(tp.Before, p, strict); err != nil {
		return nil, exitcode.With(exitcode.Invalid, err)
	}
	tp.Project = p
	tp.Kept = testurls.KeptHosts(tp.Before, rw, tp.rewrittenTexts()...)
	return tp, nil
}

// rewrittenTexts are the original texts of the files the rewrite changes:
// the config files (read again; secrets files left out, as their values
// are never shown) and the files of the build contexts.
func (tp *Project) rewrittenTexts() []testurls.Text {
	var texts []testurls.Text
	seen := map[string]bool{}
	for _, c := range tp.Changes {
		if c.Transform != configfiles.Name || seen[c.Old] {
			continue
		}
		seen[c.Old] = true
		path := filepath.Join(tp.Before.WorkingDir, filepath.FromSlash(c.Old))
		if tp.Masker.IsSecretsFile(path) {
			continue
		}
		if b, err := treefile.ReadFile(path, treefile.TextFile); err == nil {
			texts = append(texts, testurls.Text{Name: c.Old, Content: string(b)})
		}
	}
	for _, f := range tp.BuildContexts.Files() {
		name := transforms.DisplayPath(tp.Before.WorkingDir, filepath.Join(f.Context, filepath.FromSlash(f.Path)))
		texts = append(texts, testurls.Text{Name: name, Content: f.Old})
	}
	return texts
}

// hostRewriters are the host rules a value goes through on its way to the
// model and the containers: the test-URL rule, then, with an instance, the
// instance's (see Load). The Masker masks a secret in each form.
func hostRewriters(rw *testurls.Rewriter, ir *instance.Rewriter) []mask.Rewriter {
	out := []mask.Rewriter{rw}
	if ir != nil {
		out = append(out, transforms.Chain{rw, ir})
	}
	return out
}

// withExampleSecrets swaps the example secrets in (recording the changes),
// builds the Masker from the real secrets files (their values also as
// rewriters rewrite them), then resolves the services' environment: a
// real secrets file missing on the test machine does not stop the load.
func (tp *Project) withExampleSecrets(loaded *types.Project, realSecrets, containerOutput bool, masks *mask.Slot, env envFiles, rewriters ...mask.Rewriter) (*types.Project, error) {
	opts := examplesecrets.Options{RealSecrets: realSecrets}
	p, changes, err := examplesecrets.Transform(loaded, opts)
	if err != nil {
		var missing *examplesecrets.MissingError
		var bad *examplesecrets.ExampleError
		if errors.As(err, &missing) || errors.As(err, &bad) {
			return nil, exitcode.With(exitcode.Invalid, err)
		}
		return nil, err
	}
	tp.Changes = append(tp.Changes, changes...)
	var replaced []string
	if containerOutput {
		replaced = examplesecrets.RealSecretsFiles(loaded, examplesecrets.Options{RealSecrets: true})
	}
	inUse := append(examplesecrets.RealSecretsFiles(p, opts), env.real...)
	if tp.Masker, err = mask.New(inUse, append(replaced, env.replaced...)...); err != nil {
		return nil, err
	}
	tp.Masker = tp.Masker.WithRewriters(rewriters...)
	if masks != nil {
		masks.Set(tp.Masker)
	}
	p, err = p.WithServicesEnvironmentResolved(true)
	if err != nil {
		return nil, exitcode.Invalidf("%v\nCheck that every env_file exists and is readable (see 'docker picatest config').", err)
	}
	return p, nil
}

// envFiles are Compose's project-level env files (--env-file) once the
// example secrets rule is applied (examplesecrets.EnvFiles).
type envFiles struct {
	files   []string
	changes []transforms.Change
	// real are the secrets files read as they are, whose values are
	// masked; replaced, with LoadOptions.ContainerOutput, the real files
	// replaced by their example.
	real, replaced []string
}

// exampleEnvFiles applies the example secrets rule to --env-file and, when
// a real secrets file is read, installs a Masker of its values before the
// load: the dotenv parser quotes the line it rejects.
func (o Options) exampleEnvFiles(lo LoadOptions) (envFiles, error) {
	opts := examplesecrets.Options{RealSecrets: o.RealSecrets}
	files, changes, err := examplesecrets.EnvFiles(o.EnvFiles, opts)
	if err != nil {
		var bad *examplesecrets.ExampleError
		if errors.As(err, &bad) {
			return envFiles{}, exitcode.With(exitcode.Invalid, err)
		}
		return envFiles{}, err
	}
	env := envFiles{files: files, changes: changes, real: examplesecrets.RealEnvFiles(o.EnvFiles, opts)}
	if lo.ContainerOutput {
		env.replaced = examplesecrets.RealEnvFiles(o.EnvFiles, examplesecrets.Options{RealSecrets: true})
	}
	if lo.Masks != nil && len(env.real)+len(env.replaced) > 0 {
		m, err := mask.New(env.real, env.replaced...)
		if err != nil {
			return envFiles{}, err
		}
		lo.Masks.Set(m)
	}
	return env, nil
}

// pipeline holds what the transform steps of Load are configured with.
type pipeline struct {
	tp *Project
	rw *testurls.Rewriter
	// hosts is the host rule of the files: rw, then the instance's.
	hosts    transforms.Rewriter
	instance *instance.Rewriter
	files    bool
	labels   testlabels.Labels
	homeMade func(image string) bool
}

// inferBuild gives the home-made images without a build section the build
// of the procedure (the folder's Dockerfile).
func (pl pipeline) inferBuild(p *types.Project) (*types.Project, []transforms.Change, error) {
	return inferbuild.Transform(p, pl.homeMade)
}

// testURLs rewrites production hosts into test hosts (SPEC §3.1).
func (pl pipeline) testURLs(p *types.Project) (*types.Project, []transforms.Change, error) {
	return testurls.Transform(p, pl.rw)
}

// instanceOf makes the project an instance beside the default deployment
// (SPEC §9); it acts on the test hosts testURLs wrote.
func (pl pipeline) instanceOf(p *types.Project) (*types.Project, []transforms.Change, error) {
	return instance.Transform(p, pl.instance)
}

// configFiles delivers the rewritten config files through the API (SPEC
// §3.2), keeping their text for config --diff when asked to.
func (pl pipeline) configFiles(p *types.Project) (*types.Project, []transforms.Change, error) {
	// The examples of bind-mounted secrets files reach the containers
	// through the API, never as a bind mount of the tree.
	opts := configfiles.Options{Copy: examplesecrets.Mounted(pl.tp.Changes)}
	if !pl.files {
		return configfiles.Transform(p, pl.hosts, opts)
	}
	out, changes, files, err := configfiles.TransformWithFiles(p, pl.hosts, opts)
	pl.tp.Files = files
	return out, changes, err
}

// buildContexts plans the rewrite of the build contexts for the test
// build; the project itself is unchanged (the copies are made by the
// build, buildcontext.Plan.Materialize).
func (pl pipeline) buildContexts(p *types.Project) (*types.Project, []transforms.Change, error) {
	plan, changes, err := buildcontext.Scan(p, pl.hosts, buildcontext.Options{})
	pl.tp.BuildContexts = plan
	return p, changes, err
}

// testLabels adds the test labels (SPEC §3.4).
func (pl pipeline) testLabels(p *types.Project) (*types.Project, []transforms.Change, error) {
	return testlabels.Transform(p, pl.labels)
}

// testLabelsFor returns the test labels of a run started now from dir.
func testLabelsFor(dir string, now time.Time) testlabels.Labels {
	branch, commit := gitrepo.Head(dir)
	return testlabels.Labels{
		Owner:   testlabels.CurrentOwner(),
		Branch:  branch,
		Commit:  commit,
		Started: now,
	}
}

// LoadUntransformed loads the project exactly as Compose does, with no
// transform at all (push publishes production images; check reviews the
// files as written). The services' environment is not resolved, so that a
// real secrets env_file that only exists on the production machine (its
// .example is in git) does not stop a build: building needs only the build
// section, whose args come from the interpolation of the Compose file
// (.env, --env-file, the environment).
func LoadUntransformed(ctx context.Context, l Loader, o Options) (*types.Project, error) {
	if err := o.checkTreeFiles(); err != nil {
		return nil, err
	}
	p, err := l.LoadProject(ctx, o.ComposeLoadOptions(nil, cli.WithoutEnvironmentResolution))
	if err != nil {
		return nil, LoadError(err, o.ComposeFiles())
	}
	return p, nil
}

// LoadToPush is LoadUntransformed with the builds of the procedure
// inferred (see inferbuild): push publishes a home-made image without a
// build section as the procedure builds it, from the folder's Dockerfile.
// Nothing else is transformed. It also returns the resolved settings.
func LoadToPush(ctx context.Context, l Loader, o Options) (*types.Project, settings.Settings, []transforms.Change, error) {
	p, err := LoadUntransformed(ctx, l, o)
	if err != nil {
		return nil, settings.Settings{}, nil, err
	}
	s, err := o.ResolveSettings(p.WorkingDir)
	if err != nil {
		return nil, s, nil, err
	}
	p, changes, err := inferbuild.Transform(p, registry.HomeMade(s.Registry))
	if err != nil {
		return nil, s, nil, exitcode.With(exitcode.Invalid, err)
	}
	return p, s, changes, nil
}

// LoadDeployment loads just enough of the project for commands that act
// on a deployment by name (down, status): its name, its directory and
// picatest's settings. With -p and no Compose file it does not need the
// Compose file at all.
func LoadDeployment(ctx context.Context, l Loader, o Options) (*types.Project, settings.Settings, error) {
	if err := o.checkTreeFiles(); err != nil {
		return nil, settings.Settings{}, err
	}
	p, err := l.LoadProject(ctx, o.ComposeLoadOptions(nil, cli.WithoutEnvironmentResolution, cli.WithDiscardEnvFile))
	return o.deployment(p, err)
}

// deployment is the project of a deployment loaded with err, or, with -p
// and no Compose file, a project of that name in the project directory.
func (o Options) deployment(p *types.Project, err error) (*types.Project, settings.Settings, error) {
	if err != nil {
		if o.ProjectName == "" || len(o.ConfigPaths) > 0 {
			return nil, settings.Settings{}, LoadError(err, o.ComposeFiles())
		}
		dir := o.ProjectDir
		if dir == "" {
			dir = "."
		}
		p = &types.Project{Name: o.ProjectName, WorkingDir: dir}
	}
	s, err := o.ResolveSettings(p.WorkingDir)
	if err != nil {
		return nil, s, err
	}
	p, err = o.withInstance(p, s)
	return p, s, err
}

// Deployments is the part of the Compose SDK that loads a project and
// lists the containers of a deployment.
type Deployments interface {
	Loader
	Ps(ctx context.Context, projectName string, options api.PsOptions) ([]api.ContainerSummary, error)
}

// LoadLogs loads, once, what `logs` needs: the deployment as
// LoadDeployment does, and a Masker of the values of every real secrets
// file of the project (example or not, --real-secrets or not), since logs
// shows what the deployment prints without knowing whether it was started
// with --real-secrets. Without a Compose file here (-p alone, away from the
// service folder), the Compose files are those the deployment's containers
// were created from (Compose's config_files and working_dir labels); when
// they cannot be read either, nothing is known to mask (a nil Masker).
func LoadLogs(ctx context.Context, d Deployments, o Options) (*types.Project, settings.Settings, *mask.Masker, error) {
	if err := o.checkTreeFiles(); err != nil {
		return nil, settings.Settings{}, nil, err
	}
	opts := o.ComposeLoadOptions(nil, cli.WithoutEnvironmentResolution)
	loaded, loadErr := d.LoadProject(ctx, opts)
	p, s, err := o.deployment(loaded, loadErr)
	if err != nil {
		return nil, s, nil, err
	}
	if loadErr != nil {
		loaded = nil
		containers, psErr := d.Ps(ctx, p.Name, api.PsOptions{All: true})
		if psErr == nil && len(containers) > 0 && containers[0].Labels[api.ConfigFilesLabel] != "" {
			labels := containers[0].Labels
			opts.ConfigPaths = strings.Split(labels[api.ConfigFilesLabel], ",")
			opts.WorkingDir = labels[api.WorkingDirLabel]
			loaded, _ = d.LoadProject(ctx, opts)
		}
	}
	if loaded == nil {
		return p, s, nil, nil
	}
	all := examplesecrets.Options{RealSecrets: true}
	real := append(examplesecrets.RealSecretsFiles(loaded, all), examplesecrets.RealEnvFiles(o.EnvFiles, all)...)
	m, err := mask.New(nil, real...)
	if err != nil {
		return p, s, nil, nil
	}
	// The containers got the secrets rewritten as up rewrote them.
	if rw, err := testurls.New(s.ProdDomain, s.TestDomain, s.NeverRewritten()...); err == nil {
		ir, _ := o.instanceRewriter(loaded.WorkingDir, s)
		m = m.WithRewriters(hostRewriters(rw, ir)...)
	}
	return p, s, m, nil
}
