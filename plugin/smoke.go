package plugin

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/docker/cli/cli/command"
	"github.com/spf13/cobra"

	"github.com/picasoft/docker-picatest/internal/exitcode"
	"github.com/picasoft/docker-picatest/smoke"
	"github.com/picasoft/docker-picatest/testrun"
)

type smokeOptions struct {
	checks      checkOptions
	waitTimeout time.Duration
	format      string
	junit       string
}

func newSmokeCommand(dockerCli command.Cli, newBackend BackendFunc, root *rootOptions) *cobra.Command {
	opts := smokeOptions{}
	cmd := &cobra.Command{
		Use:   "smoke [OPTIONS] [SERVICE...]",
		Short: "Run only the smoke checks and the log scan against a deployment already up",
		Long: `Requests every test URL (each host under the test domain in a Traefik router
rule, plus the paths of x-picatest: {smoke: [...]}) through the Traefik
entrypoint given by --proxy / PICATEST_PROXY (host[:port]; without a port,
http goes to 80 and https to 443; with a port, every request goes to it),
with the host as SNI and Host header, retrying while Traefik has no router;
then scans the logs of every container since it started for error lines.

Exit codes: 0 all checks passed, 1 a check failed (or error lines with
--strict), 2 invalid input, 130 interrupted. Never 3: smoke changes nothing.

--junit FILE also writes the report as JUnit XML (GitLab's
artifacts:reports:junit): one test case per smoke URL and per service's
log scan.`,
		Example: `  docker picatest smoke
  PICATEST_PROXY=127.0.0.1:8443 docker picatest smoke --insecure
  docker picatest smoke --strict --format json`,
		RunE: adapt(func(ctx context.Context, args []string) error {
			if err := checkFormat(opts.format, "text", "json"); err != nil {
				return err
			}
			if opts.waitTimeout <= 0 {
				return exitcode.Invalidf("--wait-timeout must be positive, e.g. --wait-timeout 1m")
			}
			return runSmoke(ctx, dockerCli, newBackend, root, opts, args)
		}),
	}
	f := cmd.Flags()
	addCheckFlags(f, &opts.checks, false)
	f.DurationVar(&opts.waitTimeout, "wait-timeout", time.Minute, "Maximum time to wait for Traefik to route each host")
	f.StringVar(&opts.format, "format", "text", "Format of the report. Values: [text | json]")
	f.StringVar(&opts.junit, "junit", "", "Also write the report as JUnit XML to `FILE` (GitLab artifacts:reports:junit)")
	return cmd
}

// smokeReport is what `smoke` prints.
type smokeReport struct {
	Project string `json:"project"`
	Result  string `json:"result"`
	testrun.CheckResult
}

func runSmoke(ctx context.Context, dockerCli command.Cli, newBackend BackendFunc, root *rootOptions, opts smokeOptions, services []string) error {
	project, written, err := smokeProject(ctx, dockerCli, newBackend, root, opts, services)
	if opts.junit == "" || written || errors.Is(err, context.Canceled) {
		return err
	}
	project = cmp.Or(project, root.ProjectName, "smoke")
	// The checks stopped before their report: the JUnit report says why.
	s := upSuite(project, nil, err, false, root.masks.Get())
	if jerr := writeJUnit(opts.junit, "docker picatest smoke", s); jerr != nil {
		return errors.Join(err, jerr)
	}
	return err
}

// smokeProject runs the checks of the project of root's Compose flags and
// returns its name once known; with --junit, it writes the JUnit report
// of the checks (written).
func smokeProject(ctx context.Context, dockerCli command.Cli, newBackend BackendFunc, root *rootOptions, opts smokeOptions, services []string) (project string, written bool, err error) {
	backend, err := newBackend(dockerCli, root.Progress)
	if err != nil {
		return "", false, err
	}
	tp, err := root.loadTestProject(ctx, backend, loadOptions{Services: services, ContainerOutput: true})
	if err != nil {
		return "", false, err
	}
	project = tp.Project.Name
	run, err := testrun.New(tp, backend, testrun.Options{Checks: opts.checks, WaitTimeout: opts.waitTimeout})
	if err != nil {
		return project, false, err
	}
	health, err := smoke.Health(ctx, dockerCli.Client(), project)
	if err != nil {
		return project, false, err
	}
	if len(health) == 0 {
		return project, false, exitcode.With(exitcode.Failed, fmt.Errorf("project %s has no containers: start it with '%s'", project, root.upCommand()))
	}
	res, err := run.RunChecks(ctx, dockerCli.Client(), health)
	if err != nil {
		return project, false, err
	}
	if opts.junit != "" {
		if err := writeJUnit(opts.junit, "docker picatest smoke", smokeSuite(project, res, health, root.masks.Get())); err != nil {
			return project, false, err
		}
		written = true
	}
	rep := smokeReport{Project: tp.Project.Name, Result: "ok", CheckResult: res}
	if svc, _ := res.FirstFailure(); svc != "" {
		rep.Result = "failed"
	}
	var b strings.Builder
	if opts.format == "json" {
		out, err := renderJSON(rep)
		if err != nil {
			return project, written, err
		}
		b.WriteString(out)
	} else {
		printChecks(&b, res)
		if rep.Result == "ok" {
			fmt.Fprintf(&b, "OK: project %s passes the smoke checks\n", rep.Project)
		}
	}
	// The log scan shows what the containers print: real secrets when the
	// deployment was started with --real-secrets.
	write := root.masks.Write
	if opts.format == "json" {
		write = root.masks.WriteJSON // valid JSON of the same types
	}
	if err := write(dockerCli.Out(), strings.TrimPrefix(b.String(), "\n")); err != nil {
		return project, written, err
	}
	return project, written, res.Failed()
}
