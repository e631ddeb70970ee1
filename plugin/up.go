package plugin

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/docker/cli/cli/command"
	"github.com/docker/compose/v5/cmd/display"
	"github.com/docker/compose/v5/cmd/formatter"
	"github.com/docker/compose/v5/pkg/api"
	"github.com/moby/moby/client"
	"github.com/spf13/cobra"

	"github.com/picasoft/docker-picatest/internal/deploy"
	"github.com/picasoft/docker-picatest/internal/exitcode"
	"github.com/picasoft/docker-picatest/internal/lint"
	"github.com/picasoft/docker-picatest/internal/safety"
	"github.com/picasoft/docker-picatest/internal/settings"
	"github.com/picasoft/docker-picatest/internal/termsafe"
	"github.com/picasoft/docker-picatest/testrun"
	"github.com/picasoft/docker-picatest/transforms/inferbuild"
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
	addCheckFlags(f, &opts.checks, true)
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
	project, err := upProject(ctx, dockerCli, newBackend, root, opts, services, func(rep *testrun.Report) error {
		written = true
		return writeJUnit(opts.junit, "docker picatest up", upSuite(rep.Project, rep, nil, opts.checks.NoSmoke, root.masks.Get()))
	})
	if written || errors.Is(err, context.Canceled) {
		return err
	}
	// The test stopped before its report: the JUnit report says why.
	s := upSuite(cmp.Or(project, root.ProjectName, "up"), nil, err, opts.checks.NoSmoke, root.masks.Get())
	if jerr := writeJUnit(opts.junit, "docker picatest up", s); jerr != nil {
		return errors.Join(err, jerr)
	}
	return err
}

// upProject runs up on the project of root's Compose flags and returns
// its name once known. done, when not nil, is called with the report once
// it is printed (before --follow streams the logs); its error is the
// command's.
func upProject(ctx context.Context, dockerCli command.Cli, newBackend BackendFunc, root *rootOptions, opts upOptions, services []string, done func(*testrun.Report) error) (project string, err error) {
	backend, err := newBackend(dockerCli, root.Progress)
	if err != nil {
		return "", err
	}
	tp, err := root.loadTestProject(ctx, backend, loadOptions{Services: services, Labels: true, ContainerOutput: !opts.dryRun})
	if err != nil {
		return "", err
	}
	project = tp.Project.Name
	run, err := testrun.New(tp, backend, opts.runOptions(dockerCli, root, services))
	if err != nil {
		return project, err
	}
	if opts.dryRun {
		return project, dryRun(ctx, dockerCli, backend, root, tp, run)
	}
	defer run.Release()
	report, err := run.Test(ctx, dockerCli.Client()) // not before: a dry run needs no engine
	if err != nil {
		return project, err
	}
	return project, reportUp(ctx, dockerCli, backend, root, opts, run, report, done)
}

// runOptions are the options of the test run of up.
func (o upOptions) runOptions(dockerCli command.Cli, root *rootOptions, services []string) testrun.Options {
	return testrun.Options{
		Reset: !o.noReset, Yes: o.yes, Takeover: o.takeover, BreakLock: o.breakLock,
		Services: services, WaitTimeout: o.waitTimeout, Stable: o.stable, Checks: o.checks,
		Instance: root.Instance, Phase: phaseWriter(dockerCli.Err(), root.Progress),
		In: dockerCli.In(), Log: dockerCli.Err(),
	}
}

// dryRun prints the plan of run (up --dry-run).
func dryRun(ctx context.Context, dockerCli command.Cli, backend Backend, root *rootOptions, tp *testProject, run *testrun.Run) error {
	host, err := dryRunTestHost(ctx, backend, tp.Settings)
	if err != nil {
		return err
	}
	routing := lint.Routing(tp.Project, routingFacts(ctx, backend, tp.Project.Name))
	plan := run.Plan()
	checked, err := dryRunOwnership(ctx, backend, root, tp.Project, &plan)
	if err != nil {
		return err
	}
	return root.masks.Write(dockerCli.Out(), renderPlan(plan, tp, run.Checks(), routing, host, checked))
}

// reportUp prints the report (masked: it shows what the containers print,
// real secrets when they were started with --real-secrets), returns the
// test's failure, and with --follow streams the logs.
func reportUp(ctx context.Context, dockerCli command.Cli, backend Backend, root *rootOptions, opts upOptions, run *testrun.Run, report *testrun.Report, done func(*testrun.Report) error) error {
	if !opts.quiet {
		out, err := renderReport(report, opts.format)
		if err != nil {
			return err
		}
		write := root.masks.Write
		if opts.format == "json" {
			write = root.masks.WriteJSON // valid JSON of the same types
		}
		if err := write(dockerCli.Out(), out); err != nil {
			return err
		}
	}
	if done != nil {
		if err := done(report); err != nil {
			return err
		}
	}
	if err := report.Failed(); err != nil {
		return err
	}
	if !opts.follow {
		return nil
	}
	// The test is over: another up or down of the project need not wait
	// for the user to stop following the logs.
	run.Release()
	out := dockerCli.Out()
	consumer := termsafe.Consumer(formatter.NewLogConsumer(ctx, out, dockerCli.Err(), out.IsTerminal(), true, false))
	return backend.Logs(ctx, run.Project().Name, consumer, api.LogOptions{Project: run.Project(), Services: run.Services(), Follow: true, Since: run.Started().Format(time.RFC3339)})
}

// dryRunOwnership, for --dry-run, refuses an instance whose names are
// taken on the engine and lists in plan the volumes and networks the
// project p names but does not own (deploy.NotOwnedObjects), when the
// engine answers within 5 seconds; checked is false when it does not
// (the dry run needs no engine).
func dryRunOwnership(ctx context.Context, backend Backend, root *rootOptions, p *types.Project, plan *deploy.Plan) (checked bool, err error) {
	c, ok := engineOf(backend).(deploy.InstanceClient)
	if !ok {
		return false, nil
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	notOwned, err := deploy.NotOwnedObjects(ctx, c, p)
	if err != nil {
		return false, nil
	}
	if err := testrun.CheckInstanceNames(ctx, c, root.Instance, p); err != nil && exitcode.Of(err) == exitcode.Invalid {
		return false, err
	}
	if plan.Reset {
		plan.NotOwned = notOwned
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
func renderPlan(plan deploy.Plan, tp *testProject, chk *testrun.Checks, routing []lint.Finding, host string, ownershipChecked bool) string {
	p := tp.Project
	var b strings.Builder
	fmt.Fprintf(&b, "Plan for project %s (dry run: nothing is changed)\n", p.Name)
	fmt.Fprintf(&b, "1. preflight: engine reachable, test host, lock, owner, external networks: %s\n   test host: %s\n", listOrNone(plan.Networks), host)
	if plan.Reset {
		fmt.Fprintf(&b, "2. reset: down -v --remove-orphans (networks Compose recorded are kept: up recreates one that changed); external volumes removed and re-created empty: %s\n", testrun.ResetVolumes(plan))
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
	for _, line := range inferredLines(inferbuild.Services(tp.Changes)) {
		b.WriteString("   " + line + "\n")
	}
	if len(plan.Early) > 0 {
		fmt.Fprintf(&b, "4. start (%s as soon as the reset and the pull are done, during the build), wait for running and healthy, then the stability window\n", strings.Join(plan.Early, ", "))
	} else {
		fmt.Fprintf(&b, "4. start and wait for running and healthy, then the stability window\n")
	}
	if chk.Opts.NoSmoke {
		b.WriteString("5. smoke checks and log scan: skipped (--no-smoke)\n")
	} else {
		var urls []string
		for _, t := range chk.Targets {
			if t.Skip == "" {
				urls = append(urls, t.Display())
			}
		}
		fmt.Fprintf(&b, "5. smoke checks through %s: %s; then the log scan\n", chk.Proxy, listOrNone(urls))
		api := "off"
		if chk.API != "" {
			api = chk.API + ", if it answers"
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

func listOrNone(l []string) string {
	if len(l) == 0 {
		return "none"
	}
	return strings.Join(l, ", ")
}
