package plugin

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/docker/cli/cli/command"
	"github.com/docker/compose/v5/cmd/display"
	"github.com/docker/compose/v5/cmd/formatter"
	"github.com/docker/compose/v5/pkg/api"
	"github.com/moby/moby/client"
	"github.com/spf13/cobra"
	"golang.org/x/sync/errgroup"

	"github.com/picasoft/docker-picatest/internal/deploy"
	"github.com/picasoft/docker-picatest/internal/exitcode"
	"github.com/picasoft/docker-picatest/internal/lint"
	"github.com/picasoft/docker-picatest/internal/safety"
	"github.com/picasoft/docker-picatest/internal/settings"
	"github.com/picasoft/docker-picatest/internal/termsafe"
	"github.com/picasoft/docker-picatest/smoke"
	"github.com/picasoft/docker-picatest/transforms/testlabels"
)

type upOptions struct {
	yes         bool
	noReset     bool
	takeover    bool
	breakLock   bool
	follow      bool
	detach      bool
	dryRun      bool
	waitTimeout time.Duration
	stable      time.Duration
	format      string
	junit       string
	changed     bool
	since       string
	checks      checkOptions
	// quiet: the report is not printed (up --changed --format json
	// prints the reports of all folders in one document).
	quiet bool
}

func newUpCommand(dockerCli command.Cli, newBackend BackendFunc, root *rootOptions) *cobra.Command {
	opts := upOptions{}
	cmd := &cobra.Command{
		Use:   "up [OPTIONS] [SERVICE...]",
		Short: "Test the service: reset, build, pull, start, wait until healthy, report",
		Long: `Runs the whole test with the transformed project: preflight
(engine, test-host guard, lock, owner, transforms, external networks), reset
(down -v --remove-orphans, external volumes removed and re-created empty;
a volume the project names that exists but that Compose did not create
for this deployment is treated as an external one: confirmed, then
re-created empty; such a network is kept) with the build and the pull at
the same time (the services that need no built image start while the
build goes on), start, wait until running and healthy, a stability window, smoke checks through Traefik (--proxy /
PICATEST_PROXY, see 'docker picatest smoke --help') and a log scan, then a
report. Each phase is announced on stderr ("picatest: reset: ..."). On
failure the deployment is left running for debugging.

The deployment is always left running, as 'docker-compose up -d' leaves
it: -d/--detach is accepted from that habit and changes nothing.

--junit FILE also writes the report as JUnit XML (GitLab's
artifacts:reports:junit): one test suite per service folder, one test
case per container wait, smoke URL and log scan.

--changed, run anywhere in a git repository, tests every service folder
(a folder with a Compose file under Compose's own names) holding a file
changed since --since REF (default: the merge base with the remote's
default branch, else the previous commit), committed or not: each folder
in turn with its own up (lock, owner, report), whatever the others give,
then one combined report. A changed file outside every service folder is
listed, not tested. With --dry-run it lists the folders and their changed
files.

--instance NAME (or --instance branch, the name of the current git branch)
deploys a copy of the project beside the default deployment: project
<project>-NAME, the label next to the test domain suffixed in every test
host (pad.test.picasoft.net -> pad-NAME.test.picasoft.net), Traefik router,
service and middleware names and container_name suffixed, external volumes
replaced by empty volumes of the instance. The shared external volumes are
never touched. An instance whose names collide is refused (exit 2): with
names the project itself uses (instance db of a project with the volumes
pad and pad-db), or with what exists on the engine and is not this
instance's (a project, volume, network, container or Traefik router of
that name).

Exit codes: 0 healthy, 1 the test failed, 2 invalid input, 3 refused by a
safety rule, 130 interrupted. With --changed: the worst of the folders.`,
		Example: `  docker picatest up --dry-run
  docker picatest up --yes --wait-timeout 2m
  docker picatest up --no-reset pad
  docker picatest up --changed --yes --junit report.xml
  docker picatest up --instance branch`,
		RunE: adapt(func(ctx context.Context, args []string) error {
			if err := opts.validate(root, args, os.Getenv); err != nil {
				return err
			}
			return runUp(ctx, dockerCli, newBackend, root, opts, args)
		}),
	}
	f := cmd.Flags()
	f.BoolVarP(&opts.yes, "yes", "y", false, "Answer yes to the confirmation of removing external volumes (and the volumes the project names but did not create)")
	f.BoolVar(&opts.noReset, "no-reset", false, "Keep containers and volumes: no down -v, no external volume reset")
	f.BoolVar(&opts.takeover, "takeover", false, "Replace a deployment owned by someone else")
	f.BoolVar(&opts.breakLock, "break-lock", false, "Break the lock of the project held by a command that no longer runs (its machine restarted or gone)")
	f.BoolVar(&opts.follow, "follow", false, "Stream the logs after a successful test, until Ctrl-C")
	f.BoolVarP(&opts.detach, "detach", "d", false, "Accepted from the 'docker-compose up -d' habit: up always leaves the deployment running, so it changes nothing")
	f.BoolVar(&opts.dryRun, "dry-run", false, "Print the plan and change nothing")
	f.DurationVar(&opts.waitTimeout, "wait-timeout", 5*time.Minute, "Maximum time to wait for running and healthy containers")
	f.DurationVar(&opts.stable, "stable", 5*time.Second, "Time after all are ready during which no container may exit or restart")
	f.StringVar(&opts.format, "format", "text", "Format of the report. Values: [text | json]")
	f.StringVar(&opts.junit, "junit", "", "Also write the report as JUnit XML to `FILE` (GitLab artifacts:reports:junit)")
	f.BoolVar(&opts.changed, "changed", false, "Test every service folder of the git repository with a file changed since --since")
	f.StringVar(&opts.since, "since", "", "With --changed: the git `REF` to compare with (default: the merge base with the remote's default branch, else HEAD~1)")
	opts.checks.addFlags(f, true)
	return cmd
}

// validate checks the flag combinations (with the Compose flags of root,
// the services given and the environment, for --changed).
func (o upOptions) validate(root *rootOptions, services []string, getenv func(string) string) error {
	if err := checkFormat(o.format, "text", "json"); err != nil {
		return err
	}
	if o.waitTimeout <= 0 {
		return exitcode.Invalidf("--wait-timeout must be positive, e.g. --wait-timeout 5m")
	}
	if o.stable < 0 {
		return exitcode.Invalidf("--stable cannot be negative: use --stable 0s to skip the stability window")
	}
	if o.follow && o.format == "json" {
		return exitcode.Invalidf("--follow streams logs and cannot be combined with --format json: drop one of the two flags")
	}
	if o.detach && o.follow {
		return exitcode.Invalidf("--detach and --follow contradict each other: drop --follow to return at once (up always leaves the deployment running), or drop --detach to stream the logs")
	}
	if o.dryRun && o.follow {
		return exitcode.Invalidf("--dry-run starts nothing to follow: drop --follow")
	}
	if o.dryRun && o.junit != "" {
		return exitcode.Invalidf("--dry-run tests nothing to write in --junit: drop one of the two flags")
	}
	if o.since != "" && !o.changed {
		return exitcode.Invalidf("--since REF chooses the changes of --changed: add --changed, or drop --since")
	}
	if !o.changed {
		return nil
	}
	var conflicts []string
	for _, c := range []struct {
		name string
		set  bool
	}{
		{"-f/--file", len(root.ConfigPaths) > 0},
		{"-p/--project-name", root.ProjectName != ""},
		{"--project-directory", root.ProjectDir != ""},
		{"COMPOSE_FILE", getenv("COMPOSE_FILE") != ""},
		{"COMPOSE_PROJECT_NAME", getenv("COMPOSE_PROJECT_NAME") != ""},
		{"--follow", o.follow},
	} {
		if c.set {
			conflicts = append(conflicts, c.name)
		}
	}
	if len(conflicts) > 0 {
		return exitcode.Invalidf("--changed tests each changed service folder as its own project, from its own Compose file: drop %s (or drop --changed and run up in one folder)", strings.Join(conflicts, ", "))
	}
	if len(services) > 0 {
		return exitcode.Invalidf("--changed tests every service of each changed folder: drop the service names %s", strings.Join(services, " "))
	}
	return nil
}

func runUp(ctx context.Context, dockerCli command.Cli, newBackend BackendFunc, root *rootOptions, opts upOptions, services []string) error {
	if opts.changed {
		return runChanged(ctx, dockerCli, newBackend, root, opts)
	}
	if opts.junit == "" {
		_, err := upProject(ctx, dockerCli, newBackend, root, opts, services, nil)
		return err
	}
	written := false
	project, err := upProject(ctx, dockerCli, newBackend, root, opts, services, func(rep *upReport) error {
		written = true
		return writeJUnit(opts.junit, "docker picatest up", upSuite(rep.Project, rep, nil, opts.checks.noSmoke, root.masks.Get()))
	})
	if written || errors.Is(err, context.Canceled) {
		return err
	}
	// The test stopped before its report: the JUnit report says why.
	s := upSuite(cmp.Or(project, root.ProjectName, "up"), nil, err, opts.checks.noSmoke, root.masks.Get())
	if jerr := writeJUnit(opts.junit, "docker picatest up", s); jerr != nil {
		return errors.Join(err, jerr)
	}
	return err
}

// upProject runs up on the project of root's Compose flags and returns
// its name once known. done, when not nil, is called with the report once
// it is printed (before --follow streams the logs); its error is the
// command's.
func upProject(ctx context.Context, dockerCli command.Cli, newBackend BackendFunc, root *rootOptions, opts upOptions, services []string, done func(*upReport) error) (project string, err error) {
	backend, err := newBackend(dockerCli, root.Progress)
	if err != nil {
		return "", err
	}
	tp, err := root.loadTestProject(ctx, backend, loadOptions{Services: services, Labels: true, ContainerOutput: !opts.dryRun})
	if err != nil {
		return "", err
	}
	project = tp.Project.Name
	chk, err := prepareChecks(tp, opts.checks)
	if err != nil {
		return project, err
	}
	run := &upRun{
		dockerCli: dockerCli, backend: backend, root: root, opts: opts, services: services, done: done,
		tp: tp, p: tp.Project, plan: deploy.NewPlan(tp.Project, !opts.noReset), chk: chk,
		phase: phaseWriter(dockerCli.Err(), root.Progress),
	}
	if opts.dryRun {
		host, err := dryRunTestHost(ctx, backend, tp.Settings)
		if err != nil {
			return project, err
		}
		routing := lint.Routing(tp.Project, routingFacts(ctx, backend, tp.Project.Name))
		checked, err := run.dryRunOwnership(ctx, backend)
		if err != nil {
			return project, err
		}
		return project, root.masks.Write(dockerCli.Out(), renderPlan(run.plan, tp, chk, routing, host, checked))
	}
	run.engine = dockerCli.Client() // not before: a dry run needs no engine
	release, err := run.preflight(ctx)
	if err != nil {
		return project, err
	}
	defer release()
	run.release = release
	// The test record is written before the lock is released, with the
	// verdict: by report, or here when the test stops before it.
	run.rec = newTestRecorder(ctx, run)
	defer func() { run.rec.finish(ctx, err) }()
	warnings, err := run.resetBuildPull(ctx)
	if err != nil {
		return project, err
	}
	if w := deploy.ClientPathsWarning(run.p, run.engine.DaemonHost()); w != "" {
		warnings = append(warnings, w)
	}
	warnings = append(warnings, tp.Masker.Warnings()...)
	report, werr, err := run.startAndWait(ctx, warnings)
	if err != nil {
		return project, err
	}
	return project, run.report(ctx, report, werr)
}

// upRun is one run of up, phase by phase.
type upRun struct {
	dockerCli command.Cli
	engine    client.APIClient
	backend   Backend
	root      *rootOptions
	opts      upOptions
	services  []string
	tp        *testProject
	p         *types.Project
	plan      deploy.Plan
	chk       *checks
	phase     func(format string, args ...any)
	// done is called with the report once printed (upProject).
	done func(*upReport) error
	// started is when the containers were started.
	started time.Time
	// release frees the project's lock (idempotent): --follow frees it
	// once the report is printed, not when the user stops following.
	release func()
	// rec writes the test record (record.go).
	rec *testRecorder
}

// preflight applies the safety rules (test host, lock, owner), checks the
// external networks (and volumes, with --no-reset) and asks to confirm the
// reset of the external volumes. The caller must call release when done.
func (r *upRun) preflight(ctx context.Context) (release func(), err error) {
	release, err = safety.Guard(ctx, r.engine, safety.GuardOptions{
		TestHosts: r.tp.Settings.TestHosts, TestHostsFrom: r.tp.Settings.TestHostsFrom,
		OnTestHost: func(h safety.TestHost) { r.phase("preflight: %s", h) },
		Project:    r.p.Name, Command: safety.CommandLine(),
		Takeover: r.opts.takeover, BreakLock: r.opts.breakLock, Log: r.dockerCli.Err(),
	})
	if err != nil {
		return nil, err
	}
	if err := r.checkExternal(ctx); err != nil {
		release()
		return nil, err
	}
	return release, nil
}

// checkExternal refuses an instance whose names are taken on the engine,
// checks the external networks (and volumes, with --no-reset), finds the
// volumes and networks the project names but does not own, and asks to
// confirm the reset of the external volumes and of those.
func (r *upRun) checkExternal(ctx context.Context) error {
	if err := checkInstanceNames(ctx, r.engine, r.root, r.p); err != nil {
		return err
	}
	if err := deploy.CheckExternalNetworks(ctx, r.engine, r.plan.Networks); err != nil {
		return err
	}
	if !r.plan.Reset {
		return deploy.CheckExternalVolumes(ctx, r.engine, r.plan.ExternalVolumes)
	}
	notOwned, err := deploy.NotOwnedObjects(ctx, r.engine, r.p)
	if err != nil {
		return err
	}
	r.plan.NotOwned = notOwned
	question := deploy.ConfirmQuestion(r.p.Name, r.plan.ExternalVolumes, notOwned)
	if question == "" {
		return nil
	}
	in := r.dockerCli.In()
	return safety.Confirm(in, r.dockerCli.Err(), in.IsTerminal(), r.opts.yes, question)
}

// checkInstanceNames refuses (exit 2) the instance of --instance whose
// names are taken on the engine (deploy.CheckInstanceNames).
func checkInstanceNames(ctx context.Context, c deploy.InstanceClient, root *rootOptions, p *types.Project) error {
	inst, err := root.composeOptions().InstanceName(p.WorkingDir)
	if err != nil {
		return err
	}
	return deploy.CheckInstanceNames(ctx, c, p, inst)
}

// resetBuildPull resets, builds and pulls at the same time: building and
// pulling touch neither the project's containers nor its volumes, so the
// outcome is the one of the sequence, sooner. Once the reset and the pull
// are done, the services that need no built image (plan.Early) are created
// and start while the build goes on; once the build is done too, the
// containers of the other services are created, while the early ones may
// still be starting. It returns the warnings of the pull.
func (r *upRun) resetBuildPull(ctx context.Context) ([]string, error) {
	var warnings []string
	p, plan := r.p, r.plan
	// Selected before the build starts: Compose's build writes into the
	// services it builds.
	early, err := p.WithSelectedServices(plan.Early)
	if err != nil {
		return nil, err
	}
	// ready is closed once the old containers are gone and those of the
	// early services are created: the others can be created then.
	ready := make(chan struct{})
	eg, egCtx := errgroup.WithContext(ctx)
	if len(plan.Build) > 0 {
		r.phase("build: %s", strings.Join(plan.Build, ", "))
	}
	eg.Go(func() error {
		if len(plan.Build) > 0 {
			if err := r.build(egCtx); err != nil {
				return err
			}
		}
		select {
		case <-ready:
		case <-egCtx.Done():
			return egCtx.Err()
		}
		r.phase("start")
		if r.started.IsZero() {
			r.started = time.Now()
		}
		return r.create(egCtx, p, r.services)
	})
	eg.Go(func() error {
		w, err := r.resetAndPull(egCtx)
		warnings = w
		if err != nil {
			return err
		}
		if len(plan.Early) == 0 {
			close(ready)
			return nil
		}
		r.phase("start during the build: %s", strings.Join(plan.Early, ", "))
		r.started = time.Now()
		if err := r.create(egCtx, early, plan.Early); err != nil {
			return err
		}
		close(ready)
		return r.start(egCtx, early, plan.Early)
	})
	return warnings, eg.Wait()
}

// resetAndPull resets (unless --no-reset) and pulls at the same time, and
// returns the warnings of the pull.
func (r *upRun) resetAndPull(ctx context.Context) ([]string, error) {
	var warnings []string
	p, plan := r.p, r.plan
	eg, egCtx := errgroup.WithContext(ctx)
	if plan.Reset {
		down, kept, err := deploy.DownProject(ctx, r.engine, p, plan.NotOwned)
		if err != nil {
			return nil, err
		}
		r.phase("reset: down -v --remove-orphans%s; external volumes re-created empty: %s%s%s", keptNetworks(kept), listOrNone(plan.ExternalVolumes), instanceVolumes(plan), notOwnedObjects(plan.NotOwned))
		eg.Go(func() error {
			if err := r.backend.Down(egCtx, p.Name, api.DownOptions{Project: down, RemoveOrphans: true, Volumes: true}); err != nil {
				return fmt.Errorf("reset (down -v --remove-orphans) failed: %w", err)
			}
			return deploy.ResetExternalVolumes(egCtx, r.engine, append(slices.Clone(plan.ExternalVolumes), deploy.Volumes(plan.NotOwned)...))
		})
	}
	if len(plan.Pull) > 0 {
		r.phase("pull: %s", strings.Join(plan.Pull, ", "))
		eg.Go(func() error {
			w, err := deploy.PullImages(egCtx, r.backend, r.engine, p, plan.Pull)
			warnings = w
			return err
		})
	}
	return warnings, eg.Wait()
}

// build builds the images of the plan, from a temporary copy of each build
// context whose files hold production hosts (removed when the build ends,
// however it ends), so that the test image gets test URLs.
func (r *upRun) build(ctx context.Context) error {
	p, remove, err := r.tp.BuildContexts.Materialize(r.p, "")
	if err != nil {
		return err
	}
	defer remove()
	// Compose's Build writes into the project's services map, which the
	// pull reads at the same time: the build gets a map of its own.
	own := *p
	own.Services = maps.Clone(p.Services)
	if err := r.backend.Build(ctx, &own, api.BuildOptions{Services: r.plan.Build}); err != nil {
		return fmt.Errorf("build failed: %w\nFix the Dockerfile or the build context, then run 'docker picatest up' again", err)
	}
	return nil
}

// create creates the containers of p as Compose's up -d --remove-orphans
// does before it starts them, recreating only those whose configuration
// changed; services are the services named on the command line (all with
// none).
func (r *upRun) create(ctx context.Context, p *types.Project, services []string) error {
	err := r.backend.Create(ctx, p, api.CreateOptions{
		Services: services, RemoveOrphans: true, Recreate: api.RecreateDiverged, RecreateDependencies: api.RecreateDiverged,
	})
	if err != nil {
		return fmt.Errorf("creating the containers failed: %w\nSee 'docker picatest status' and 'docker picatest logs'", err)
	}
	return nil
}

// start starts the containers of the services of p that are not running,
// as Compose's up -d does once they are created.
func (r *upRun) start(ctx context.Context, p *types.Project, services []string) error {
	if err := r.backend.Start(ctx, p.Name, api.StartOptions{Project: p, Services: services}); err != nil {
		return fmt.Errorf("starting the containers failed: %w\nSee 'docker picatest status' and 'docker picatest logs'", err)
	}
	return nil
}

// startProject is the project whose containers up starts after the
// build (deploy.StartAfterBuild).
func (r *upRun) startProject(ctx context.Context) (*types.Project, error) {
	if len(r.plan.Early) == 0 {
		return r.p, nil
	}
	stopped, err := deploy.Stopped(ctx, r.engine, r.p.Name, r.plan.Early)
	if err != nil {
		return nil, err
	}
	return r.p.WithSelectedServices(deploy.StartAfterBuild(r.p, r.plan.Early, stopped), types.IgnoreDependencies)
}

// startAndWait starts the containers, waits until they are running and
// healthy and stable, then runs the smoke checks and the log scan. A
// failed test is in the report (and werr, when the wait failed), not in
// err.
func (r *upRun) startAndWait(ctx context.Context, warnings []string) (report *upReport, werr *smoke.WaitError, err error) {
	p, opts := r.p, r.opts
	start, err := r.startProject(ctx)
	if err != nil {
		return nil, nil, err
	}
	if err := r.start(ctx, start, r.services); err != nil {
		return nil, nil, err
	}
	r.phase("wait: running and healthy within %s, then stable for %s", opts.waitTimeout, opts.stable)
	states, waitErr := smoke.Wait(ctx, r.engine, smoke.WaitOptions{
		Project:  p.Name,
		Services: smoke.ExpectFromProject(p),
		Timeout:  opts.waitTimeout,
		Stable:   opts.stable,
	})
	if ctx.Err() != nil {
		return nil, nil, ctx.Err()
	}
	report = newUpReport(r.tp, states, warnings, time.Since(r.started))
	if errors.As(waitErr, &werr) {
		report.fail(werr)
		return report, werr, nil
	} else if waitErr != nil {
		return nil, nil, waitErr
	}
	if !opts.checks.noSmoke {
		r.phase("smoke: %d URL(s) through %s, then a log scan", len(r.chk.targets), r.chk.proxy)
	}
	res, err := r.chk.run(ctx, r.dockerCli, p.Name, opts.waitTimeout, serviceHealth(states))
	if err != nil {
		return nil, nil, err
	}
	report.failChecks(res, time.Since(r.started))
	return report, nil, nil
}

// report prints the report (masked: it shows what the containers print,
// real secrets when they were started with --real-secrets), returns the
// test's failure, and with --follow streams the logs.
func (r *upRun) report(ctx context.Context, report *upReport, werr *smoke.WaitError) error {
	testErr := checksError(report.checkResult)
	if werr != nil {
		testErr = fmt.Errorf("service %s: %s", werr.Service, werr.Reason)
	}
	r.rec.finish(ctx, testErr)
	if !r.opts.quiet {
		out, err := report.render(r.opts.format)
		if err != nil {
			return err
		}
		write := r.root.masks.Write
		if r.opts.format == "json" {
			write = r.root.masks.WriteJSON // valid JSON of the same types
		}
		if err := write(r.dockerCli.Out(), out); err != nil {
			return err
		}
	}
	if r.done != nil {
		if err := r.done(report); err != nil {
			return err
		}
	}
	if werr != nil {
		return exitcode.With(exitcode.Failed, fmt.Errorf("test failed: service %s: %s\nThe deployment is left running for debugging: 'docker picatest logs %s', 'docker picatest status'; 'docker picatest down' removes it", werr.Service, werr.Reason, werr.Service))
	}
	if err := checksError(report.checkResult); err != nil {
		return err
	}
	if r.opts.follow {
		// The test is over: another up or down of the project need not
		// wait for the user to stop following the logs.
		if r.release != nil {
			r.release()
		}
		out := r.dockerCli.Out()
		consumer := termsafe.Consumer(formatter.NewLogConsumer(ctx, out, r.dockerCli.Err(), out.IsTerminal(), true, false))
		return r.backend.Logs(ctx, r.p.Name, consumer, api.LogOptions{Project: r.p, Services: r.services, Follow: true, Since: r.started.Format(time.RFC3339)})
	}
	return nil
}

// dryRunOwnership, for --dry-run, refuses an instance whose names are
// taken on the engine and lists in the plan the volumes and networks the
// project names but does not own (deploy.NotOwnedObjects), when the
// engine answers within 5 seconds; checked is false when it does not
// (the dry run needs no engine).
func (r *upRun) dryRunOwnership(ctx context.Context, backend Backend) (checked bool, err error) {
	c, ok := engineOf(backend).(deploy.InstanceClient)
	if !ok {
		return false, nil
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	notOwned, err := deploy.NotOwnedObjects(ctx, c, r.p)
	if err != nil {
		return false, nil
	}
	if err := checkInstanceNames(ctx, c, r.root, r.p); err != nil && exitcode.Of(err) == exitcode.Invalid {
		return false, err
	}
	if r.plan.Reset {
		r.plan.NotOwned = notOwned
	}
	return true, nil
}

// phaseWriter returns a function announcing each phase of up on w (stderr)
// as one line, so that a person or a script knows where the test is; it
// prints nothing in the quiet and json progress modes.
func phaseWriter(w io.Writer, progress string) func(format string, args ...any) {
	if progress == display.ModeQuiet || progress == "none" || progress == display.ModeJSON {
		return func(string, ...any) {}
	}
	return func(format string, args ...any) {
		fmt.Fprintf(w, "picatest: "+format+"\n", args...)
	}
}

// dryRunTestHost is the test-host line of up --dry-run: whether the
// daemon is a test host and by which rule, when the engine answers within
// 2 seconds, else the rules. A malformed test-host glob is exit 2, as for
// up.
func dryRunTestHost(ctx context.Context, backend Backend, s settings.Settings) (string, error) {
	rules := fmt.Sprintf("a daemon whose name matches %s (from %s), or that carries the label %s=true",
		listOrNone(s.TestHosts), s.TestHostsFrom, testlabels.TestHost)
	c, ok := engineOf(backend).(interface {
		Info(context.Context, client.InfoOptions) (client.SystemInfoResult, error)
	})
	if !ok {
		return rules + " (the engine was not asked)", nil
	}
	tctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	h, err := safety.CheckTestHost(tctx, c, s.TestHosts, s.TestHostsFrom)
	switch {
	case ctx.Err() != nil:
		return "", ctx.Err()
	case err == nil:
		return h.String(), nil
	case exitcode.Of(err) == exitcode.Refused:
		return fmt.Sprintf("Docker daemon %q is NOT a test host: up would refuse (exit 3); a test host is %s", h.Daemon, rules), nil
	case exitcode.Of(err) == exitcode.Invalid:
		return "", err
	}
	return rules + " (the engine did not answer)", nil
}

// renderPlan is the plan as up --dry-run prints it; host is the test-host
// line (dryRunTestHost); ownershipChecked says whether the engine was asked
// which objects the project names but did not create.
func renderPlan(plan deploy.Plan, tp *testProject, chk *checks, routing []lint.Finding, host string, ownershipChecked bool) string {
	p := tp.Project
	var b strings.Builder
	fmt.Fprintf(&b, "Plan for project %s (dry run: nothing is changed)\n", p.Name)
	fmt.Fprintf(&b, "1. preflight: engine reachable, test host, lock, owner, external networks: %s\n   test host: %s\n", listOrNone(plan.Networks), host)
	if plan.Reset {
		fmt.Fprintf(&b, "2. reset: down -v --remove-orphans (networks Compose recorded are kept: up recreates one that changed); external volumes removed and re-created empty: %s%s%s\n", listOrNone(plan.ExternalVolumes), instanceVolumes(plan), notOwnedObjects(plan.NotOwned))
		if !ownershipChecked {
			b.WriteString("   (the engine did not answer: the volumes and networks the project names but did not create, which the reset would confirm first, are not listed)\n")
		}
		if len(plan.ExternalVolumes) > 0 || len(plan.NotOwned) > 0 {
			b.WriteString("   asks first (-y/--yes answers; refused without a terminal)\n")
		}
	} else {
		b.WriteString("2. reset: skipped (--no-reset)\n")
	}
	var builds, pulls []string
	for _, name := range plan.Build {
		builds = append(builds, fmt.Sprintf("%s (%s)", name, p.Services[name].Image))
	}
	for _, name := range plan.Pull {
		pulls = append(pulls, fmt.Sprintf("%s (%s)", name, p.Services[name].Image))
	}
	fmt.Fprintf(&b, "3. at the same time as the reset: build (labelled %s): %s\n   pull: %s\n", "test-build", listOrNone(builds), listOrNone(pulls))
	for _, line := range inferredLines(inferredBuilds(tp.Changes)) {
		b.WriteString("   " + line + "\n")
	}
	if len(plan.Early) > 0 {
		fmt.Fprintf(&b, "4. start (%s as soon as the reset and the pull are done, during the build), wait for running and healthy, then the stability window\n", strings.Join(plan.Early, ", "))
	} else {
		fmt.Fprintf(&b, "4. start and wait for running and healthy, then the stability window\n")
	}
	if chk.opts.noSmoke {
		b.WriteString("5. smoke checks and log scan: skipped (--no-smoke)\n")
	} else {
		var urls []string
		for _, t := range chk.targets {
			if t.Skip == "" {
				urls = append(urls, t.Display())
			}
		}
		fmt.Fprintf(&b, "5. smoke checks through %s: %s; then the log scan\n", chk.proxy, listOrNone(urls))
		api := "off"
		if chk.api != "" {
			api = chk.api + ", if it answers"
		}
		fmt.Fprintf(&b, "   failures explained from Traefik's API (%s)\n", api)
	}
	for _, f := range routing {
		fmt.Fprintf(&b, "   %s: %s (%s)\n", strings.ToUpper(f.Severity), f.Message, f.Rule)
		if f.Hint != "" {
			fmt.Fprintf(&b, "     hint: %s\n", f.Hint)
		}
	}
	fmt.Fprintf(&b, "6. report; %d rewrites, %d example secrets (see 'docker picatest config --diff')\n", len(tp.Rewrites()), len(tp.ExampleSecrets()))
	writeKept(&b, tp.Kept)
	return b.String()
}

// keptNetworks says which networks the reset keeps (deploy.DownProject).
func keptNetworks(kept []string) string {
	if len(kept) == 0 {
		return ""
	}
	return fmt.Sprintf(" (network %s kept: up recreates a network whose configuration changed)", strings.Join(kept, ", "))
}

// instanceVolumes names the volumes of an instance that the reset
// removes and up creates empty, after the external volumes.
func instanceVolumes(plan deploy.Plan) string {
	if len(plan.InstanceVolumes) == 0 {
		return ""
	}
	return "; volumes of the instance, in place of the external ones, removed and created empty: " + strings.Join(plan.InstanceVolumes, ", ")
}

// notOwnedObjects names the volumes and networks the project names but
// did not create (deploy.NotOwnedObjects), which the reset treats as
// external: confirmed, such a volume removed and re-created empty, such
// a network kept.
func notOwnedObjects(l []deploy.Object) string {
	if len(l) == 0 {
		return ""
	}
	var names []string
	for _, o := range l {
		names = append(names, o.String())
	}
	return "; not created by this deployment, treated as external (volumes re-created empty, networks kept): " + strings.Join(names, ", ")
}

func listOrNone(l []string) string {
	if len(l) == 0 {
		return "none"
	}
	return strings.Join(l, ", ")
}
