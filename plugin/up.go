package plugin

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/compose-spec/compose-go/v2/types"
	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/cli/cli/command"
	"github.com/docker/compose/v5/cmd/display"
	"github.com/docker/compose/v5/cmd/formatter"
	"github.com/docker/compose/v5/pkg/api"
	"github.com/moby/moby/client"
	"github.com/spf13/cobra"
	"golang.org/x/sync/errgroup"

	"github.com/picasoft/docker-picatest/internal/exitcode"
	"github.com/picasoft/docker-picatest/internal/safety"
	"github.com/picasoft/docker-picatest/smoke"
)

type upOptions struct {
	yes         bool
	noReset     bool
	takeover    bool
	follow      bool
	dryRun      bool
	waitTimeout time.Duration
	stable      time.Duration
	format      string
	checks      checkOptions
}

func newUpCommand(dockerCli command.Cli, newBackend BackendFunc, root *rootOptions) *cobra.Command {
	opts := upOptions{}
	cmd := &cobra.Command{
		Use:   "up [OPTIONS] [SERVICE...]",
		Short: "Test the service: reset, build, pull, start, wait until healthy, report",
		Long: `Runs the whole test of SPEC §4 with the transformed project: preflight
(engine, test-host guard, lock, owner, transforms, external networks), reset
(down -v --remove-orphans, external volumes removed and re-created empty)
with the build and the pull at the same time, start, wait until running
and healthy, a stability window, smoke checks through Traefik (--proxy /
PICATEST_PROXY, see 'docker picatest smoke --help') and a log scan, then a
report. Each phase is announced on stderr ("picatest: reset: ..."). On
failure the deployment is left running for debugging.

Exit codes: 0 healthy, 1 the test failed, 2 invalid input, 3 refused by a
safety rule, 130 interrupted.`,
		Example: `  docker picatest up --dry-run
  docker picatest up --yes --wait-timeout 2m
  docker picatest up --no-reset pad`,
		RunE: adapt(func(ctx context.Context, args []string) error {
			if err := opts.validate(); err != nil {
				return err
			}
			return runUp(ctx, dockerCli, newBackend, root, opts, args)
		}),
	}
	f := cmd.Flags()
	f.BoolVarP(&opts.yes, "yes", "y", false, "Answer yes to the confirmation of removing external volumes")
	f.BoolVar(&opts.noReset, "no-reset", false, "Keep containers and volumes: no down -v, no external volume reset")
	f.BoolVar(&opts.takeover, "takeover", false, "Replace a deployment owned by someone else")
	f.BoolVar(&opts.follow, "follow", false, "Stream the logs after a successful test, until Ctrl-C")
	f.BoolVar(&opts.dryRun, "dry-run", false, "Print the plan and change nothing")
	f.DurationVar(&opts.waitTimeout, "wait-timeout", 5*time.Minute, "Maximum time to wait for running and healthy containers")
	f.DurationVar(&opts.stable, "stable", 5*time.Second, "Time after all are ready during which no container may exit or restart")
	f.StringVar(&opts.format, "format", "text", "Format of the report. Values: [text | json]")
	opts.checks.addFlags(f, true)
	return cmd
}

// validate checks the flag combinations.
func (o upOptions) validate() error {
	if o.format != "text" && o.format != "json" {
		return exitcode.Invalidf("--format %q is not supported: use --format text or --format json", o.format)
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
	if o.dryRun && o.follow {
		return exitcode.Invalidf("--dry-run starts nothing to follow: drop --follow")
	}
	return nil
}

func runUp(ctx context.Context, dockerCli command.Cli, newBackend BackendFunc, root *rootOptions, opts upOptions, services []string) error {
	backend, err := newBackend(dockerCli, root.Progress)
	if err != nil {
		return err
	}
	tp, err := root.loadTestProject(ctx, backend, loadOptions{services: services, labels: true, containerOutput: !opts.dryRun})
	if err != nil {
		return err
	}
	p := tp.Project
	chk, err := prepareChecks(tp, opts.checks)
	if err != nil {
		return err
	}
	plan := newUpPlan(p, opts)
	if opts.dryRun {
		return root.masks.Write(dockerCli.Out(), plan.render(tp, chk))
	}
	apiClient := dockerCli.Client()
	phase := phaseWriter(dockerCli.Err(), root.Progress)

	// Preflight.
	release, err := safety.Guard(ctx, dockerCli.Client(), tp.Settings.TestHosts, p.Name, safety.CommandLine(), opts.takeover)
	if err != nil {
		return err
	}
	defer release()
	if err := checkExternalNetworks(ctx, apiClient, plan.networks); err != nil {
		return err
	}
	if opts.noReset {
		if err := checkExternalVolumes(ctx, apiClient, plan.externalVolumes); err != nil {
			return err
		}
	}

	// Reset, build and pull, at the same time: building and pulling touch
	// neither the project's containers nor its volumes, so the outcome is
	// the one of the sequence, sooner.
	if !opts.noReset && len(plan.externalVolumes) > 0 {
		question := fmt.Sprintf("Remove and re-create empty the external volumes %s of project %s?", strings.Join(plan.externalVolumes, ", "), p.Name)
		if err := safety.Confirm(dockerCli.In(), dockerCli.Err(), dockerCli.In().IsTerminal(), opts.yes, question); err != nil {
			return err
		}
	}
	var warnings []string
	eg, egCtx := errgroup.WithContext(ctx)
	if !opts.noReset {
		phase("reset: down -v --remove-orphans; external volumes re-created empty: %s", listOrNone(plan.externalVolumes))
		eg.Go(func() error {
			if err := backend.Down(egCtx, p.Name, api.DownOptions{Project: p, RemoveOrphans: true, Volumes: true}); err != nil {
				return fmt.Errorf("reset (down -v --remove-orphans) failed: %w", err)
			}
			return resetExternalVolumes(egCtx, apiClient, plan.externalVolumes)
		})
	}
	if len(plan.build) > 0 {
		phase("build: %s", strings.Join(plan.build, ", "))
		eg.Go(func() error {
			if err := backend.Build(egCtx, p, api.BuildOptions{Services: plan.build}); err != nil {
				return fmt.Errorf("build failed: %w\nFix the Dockerfile or the build context, then run 'docker picatest up' again", err)
			}
			return nil
		})
	}
	if len(plan.pull) > 0 {
		phase("pull: %s", strings.Join(plan.pull, ", "))
		eg.Go(func() error {
			w, err := pullImages(egCtx, backend, apiClient, p, plan.pull)
			warnings = w
			return err
		})
	}
	if err := eg.Wait(); err != nil {
		return err
	}

	// Start, then wait.
	phase("start")
	started := time.Now()
	err = backend.Up(ctx, p, api.UpOptions{
		Create: api.CreateOptions{Services: services, RemoveOrphans: true, Recreate: api.RecreateDiverged, RecreateDependencies: api.RecreateDiverged},
		Start:  api.StartOptions{Project: p, Services: services},
	})
	if err != nil {
		return fmt.Errorf("starting the containers failed: %w\nSee 'docker picatest status' and 'docker picatest logs'", err)
	}
	phase("wait: running and healthy within %s, then stable for %s", opts.waitTimeout, opts.stable)
	states, waitErr := smoke.Wait(ctx, apiClient, smoke.WaitOptions{
		Project:  p.Name,
		Services: smoke.ExpectFromProject(p),
		Timeout:  opts.waitTimeout,
		Stable:   opts.stable,
	})
	if ctx.Err() != nil {
		return ctx.Err()
	}
	report := newUpReport(tp, states, warnings, time.Since(started))
	var werr *smoke.WaitError
	if errors.As(waitErr, &werr) {
		report.fail(werr)
	} else if waitErr != nil {
		return waitErr
	} else {
		if !opts.checks.noSmoke {
			phase("smoke: %d URL(s) through %s, then a log scan", len(chk.targets), chk.proxy)
		}
		res, err := chk.run(ctx, dockerCli, p.Name, opts.waitTimeout, serviceHealth(states))
		if err != nil {
			return err
		}
		report.failChecks(res, time.Since(started))
	}
	// The report shows what the containers print (log scan, last log
	// lines): real secrets when they were started with --real-secrets.
	out, err := report.render(opts.format)
	if err != nil {
		return err
	}
	if err := root.masks.Write(dockerCli.Out(), out); err != nil {
		return err
	}
	if werr != nil {
		return exitcode.With(exitcode.Failed, fmt.Errorf("test failed: service %s: %s\nThe deployment is left running for debugging: 'docker picatest logs %s', 'docker picatest status'; 'docker picatest down' removes it", werr.Service, werr.Reason, werr.Service))
	}
	if err := checksError(report.checkResult); err != nil {
		return err
	}
	if opts.follow {
		consumer := formatter.NewLogConsumer(ctx, dockerCli.Out(), dockerCli.Err(), dockerCli.Out().IsTerminal(), true, false)
		return backend.Logs(ctx, p.Name, consumer, api.LogOptions{Project: p, Services: services, Follow: true, Since: started.Format(time.RFC3339)})
	}
	return nil
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

// upPlan is what up is going to do, for --dry-run and for the run itself.
type upPlan struct {
	reset           bool
	externalVolumes []string
	networks        []string
	build           []string
	pull            []string
}

func newUpPlan(p *types.Project, opts upOptions) upPlan {
	plan := upPlan{reset: !opts.noReset}
	for _, v := range p.Volumes {
		if bool(v.External) {
			plan.externalVolumes = append(plan.externalVolumes, v.Name)
		}
	}
	for _, n := range p.Networks {
		if bool(n.External) {
			plan.networks = append(plan.networks, n.Name)
		}
	}
	for name, s := range p.Services {
		if s.Build != nil {
			plan.build = append(plan.build, name)
		} else {
			plan.pull = append(plan.pull, name)
		}
	}
	for _, l := range [][]string{plan.externalVolumes, plan.networks, plan.build, plan.pull} {
		sort.Strings(l)
	}
	return plan
}

// render is the plan as up --dry-run prints it.
func (plan upPlan) render(tp *testProject, chk *checks) string {
	p := tp.Project
	var b strings.Builder
	fmt.Fprintf(&b, "Plan for project %s (dry run: nothing is changed)\n", p.Name)
	fmt.Fprintf(&b, "1. preflight: engine reachable, test host (%s), lock, owner, external networks: %s\n", strings.Join(tp.Settings.TestHosts, ", "), listOrNone(plan.networks))
	if plan.reset {
		fmt.Fprintf(&b, "2. reset: down -v --remove-orphans; external volumes removed and re-created empty: %s\n", listOrNone(plan.externalVolumes))
	} else {
		b.WriteString("2. reset: skipped (--no-reset)\n")
	}
	var builds, pulls []string
	for _, name := range plan.build {
		builds = append(builds, fmt.Sprintf("%s (%s)", name, p.Services[name].Image))
	}
	for _, name := range plan.pull {
		pulls = append(pulls, fmt.Sprintf("%s (%s)", name, p.Services[name].Image))
	}
	fmt.Fprintf(&b, "3. at the same time as the reset: build (labelled %s): %s\n   pull: %s\n", "test-build", listOrNone(builds), listOrNone(pulls))
	fmt.Fprintf(&b, "4. start and wait for running and healthy, then the stability window\n")
	if chk.opts.noSmoke {
		b.WriteString("5. smoke checks and log scan: skipped (--no-smoke)\n")
	} else {
		var urls []string
		for _, t := range chk.targets {
			urls = append(urls, t.URL())
		}
		fmt.Fprintf(&b, "5. smoke checks through %s: %s; then the log scan\n", chk.proxy, listOrNone(urls))
	}
	fmt.Fprintf(&b, "6. report; %d rewrites, %d example secrets (see 'docker picatest config --diff')\n", countChanges(tp, false), countChanges(tp, true))
	return b.String()
}

func listOrNone(l []string) string {
	if len(l) == 0 {
		return "none"
	}
	return strings.Join(l, ", ")
}

func countChanges(tp *testProject, examples bool) int {
	n := 0
	for _, c := range tp.Changes {
		if (c.Transform == "example-secrets") == examples {
			n++
		}
	}
	return n
}

// checkExternalNetworks fails (exit 1) when one of the external networks
// names is missing.
func checkExternalNetworks(ctx context.Context, c client.APIClient, names []string) error {
	missing, err := missingObjects(names, func(name string) error {
		_, err := c.NetworkInspect(ctx, name, client.NetworkInspectOptions{})
		return err
	})
	if err != nil || len(missing) == 0 {
		return err
	}
	return exitcode.With(exitcode.Failed, fmt.Errorf("external network %s does not exist: start the service that creates it (Traefik creates %q on the test machine), or create it with 'docker network create %s'",
		strings.Join(missing, ", "), missing[0], missing[0]))
}

// checkExternalVolumes fails (exit 1) when one of the external volumes
// names is missing, which only the reset re-creates (after an interrupted
// reset, say).
func checkExternalVolumes(ctx context.Context, c client.APIClient, names []string) error {
	missing, err := missingObjects(names, func(name string) error {
		_, err := c.VolumeInspect(ctx, name, client.VolumeInspectOptions{})
		return err
	})
	if err != nil || len(missing) == 0 {
		return err
	}
	return exitcode.With(exitcode.Failed, fmt.Errorf("external volume %s does not exist: run 'docker picatest up' without --no-reset, which re-creates the external volumes empty, or create it with 'docker volume create %s'",
		strings.Join(missing, ", "), missing[0]))
}

// missingObjects returns, sorted, the names that inspect does not find; any
// other error of inspect is returned.
func missingObjects(names []string, inspect func(name string) error) ([]string, error) {
	var missing []string
	for _, name := range names {
		if err := inspect(name); err != nil {
			if !cerrdefs.IsNotFound(err) {
				return nil, err
			}
			missing = append(missing, name)
		}
	}
	sort.Strings(missing)
	return missing, nil
}

// resetExternalVolumes removes each of the external volumes names and
// re-creates it empty with the same driver, options and labels (up cannot
// start without it).
func resetExternalVolumes(ctx context.Context, c client.APIClient, names []string) error {
	for _, name := range names {
		opts := client.VolumeCreateOptions{Name: name}
		existing, err := c.VolumeInspect(ctx, name, client.VolumeInspectOptions{})
		switch {
		case err == nil:
			opts.Driver, opts.DriverOpts, opts.Labels = existing.Volume.Driver, existing.Volume.Options, existing.Volume.Labels
			if _, err := c.VolumeRemove(ctx, name, client.VolumeRemoveOptions{}); err != nil {
				return fmt.Errorf("removing external volume %s: %w\nA container outside the project may use it: find it with 'docker ps -a --filter volume=%s'", name, err, name)
			}
		case !cerrdefs.IsNotFound(err):
			return err
		}
		if _, err := c.VolumeCreate(ctx, opts); err != nil {
			return fmt.Errorf("re-creating external volume %s: %w", name, err)
		}
	}
	return nil
}

// pullImages pulls the image of each service, all at the same time, one
// Compose pull per service so that each failure is known. A failed pull of
// an image present locally is a warning (the test machine may be offline);
// of an absent image, an error naming it.
func pullImages(ctx context.Context, backend Backend, c client.APIClient, p *types.Project, services []string) ([]string, error) {
	errs := make([]error, len(services))
	eg, egCtx := errgroup.WithContext(ctx)
	for i, name := range services {
		one := *p
		one.Services = types.Services{name: p.Services[name]}
		eg.Go(func() error {
			errs[i] = backend.Pull(egCtx, &one, api.PullOptions{Quiet: true})
			return nil
		})
	}
	_ = eg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var warnings, missing []string
	for i, name := range services {
		if errs[i] == nil {
			continue
		}
		image := api.GetImageNameOrDefault(p.Services[name], p.Name)
		if _, err := c.ImageInspect(ctx, image); err != nil {
			if !cerrdefs.IsNotFound(err) {
				return nil, err
			}
			missing = append(missing, fmt.Sprintf("%s (service %s: %v)", image, name, errs[i]))
			continue
		}
		warnings = append(warnings, fmt.Sprintf("could not pull %s (service %s), using the local image: %v", image, name, errs[i]))
	}
	if len(missing) > 0 {
		return nil, exitcode.With(exitcode.Failed, fmt.Errorf("image %s could not be pulled and is not present locally: check the image name and tag ('docker picatest check' finds untagged and latest images), the registry login ('docker login'), or build or load the image on this machine", strings.Join(missing, "; ")))
	}
	return warnings, nil
}
