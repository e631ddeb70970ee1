package plugin

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/docker/cli/cli/command"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/picasoft/docker-picatest/internal/exitcode"
	"github.com/picasoft/docker-picatest/smoke"
)

// checkOptions are the flags of the smoke checks and log scan (SPEC §6),
// shared by up and smoke.
type checkOptions struct {
	insecure bool
	strict   bool
	noSmoke  bool
}

func (o *checkOptions) addFlags(f *pflag.FlagSet, skippable bool) {
	f.BoolVar(&o.insecure, "insecure", false, "Accept any TLS certificate of the proxy (e.g. Traefik's self-signed default certificate)")
	f.BoolVar(&o.strict, "strict", false, "Fail when a log line looks like an error (error, fatal, panic, exception); a warning otherwise")
	if skippable {
		f.BoolVar(&o.noSmoke, "no-smoke", false, "Skip the smoke checks through Traefik and the log scan")
	}
}

// checks is what the smoke checks need, prepared (and validated) before
// anything is started.
type checks struct {
	opts    checkOptions
	proxy   smoke.Proxy
	targets []smoke.Target
	ignore  map[string][]*regexp.Regexp
}

// prepareChecks parses --proxy and the x-picatest extensions of the
// transformed project; a mistake in them is an invalid input (exit 2).
func prepareChecks(tp *testProject, opts checkOptions) (*checks, error) {
	c := &checks{opts: opts, ignore: map[string][]*regexp.Regexp{}}
	if opts.noSmoke {
		return c, nil
	}
	proxy, err := smoke.ParseProxy(tp.Settings.Proxy)
	if err != nil {
		return nil, exitcode.Invalidf("--proxy / PICATEST_PROXY: %v", err)
	}
	c.proxy = proxy
	extras, err := smoke.ProjectExtras(tp.Project)
	if err != nil {
		return nil, exitcode.Invalidf("%v", err)
	}
	c.targets = smoke.TargetsWith(tp.Project, tp.Settings.TestDomain, extras)
	for name, x := range extras {
		c.ignore[name] = x.LogIgnore
	}
	return c, nil
}

// smokeSection is the smoke part of a report.
type smokeSection struct {
	Proxy  string       `json:"proxy"`
	Checks []smokeCheck `json:"checks"`
}

type smokeCheck struct {
	Service   string  `json:"service"`
	Router    string  `json:"router"`
	Rule      string  `json:"rule"`
	URL       string  `json:"url"`
	Result    string  `json:"result"`
	Status    int     `json:"status,omitempty"`
	LatencyMS float64 `json:"latency_ms,omitempty"`
	AfterMS   float64 `json:"after_ms"`
	Attempts  int     `json:"attempts"`
	Health    string  `json:"health,omitempty"`
	Detail    string  `json:"detail,omitempty"`
	line      string
}

// logSection is the log scan part of a report.
type logSection struct {
	Strict  bool             `json:"strict"`
	Matches []smoke.LogMatch `json:"matches"`
}

// checkResult is the outcome of the checks.
type checkResult struct {
	Smoke *smokeSection `json:"smoke,omitempty"`
	Logs  *logSection   `json:"logs,omitempty"`
}

// run requests every target through the proxy (retrying up to timeout while
// Traefik has no router), then scans the logs. health gives the state of a
// service for the messages.
func (c *checks) run(ctx context.Context, dockerCli command.Cli, project string, timeout time.Duration, health map[string]string) (checkResult, error) {
	var res checkResult
	if c.opts.noSmoke {
		return res, nil
	}
	checker := &smoke.Checker{
		Client:   smoke.NewClient(c.proxy, c.opts.insecure, 10*time.Second),
		Proxy:    c.proxy.String(),
		Insecure: c.opts.insecure,
		Timeout:  timeout,
		Settle:   min(10*time.Second, timeout),
		Interval: 250 * time.Millisecond,
	}
	res.Smoke = &smokeSection{Proxy: c.proxy.String(), Checks: []smokeCheck{}}
	for _, r := range checker.Check(ctx, c.targets) {
		sc := smokeCheck{
			Service: r.Service, Router: r.Router, Rule: r.Rule, URL: r.URL, Result: string(r.Kind), Status: r.Status,
			LatencyMS: ms(r.Latency), AfterMS: ms(r.After), Attempts: r.Attempts, Detail: r.Detail, line: r.Line(),
		}
		if r.Kind != smoke.OK {
			sc.Health = health[r.Service]
			if r.Kind == smoke.NoHealthyServer && sc.Health != "" {
				sc.line += " (service " + r.Service + ": " + sc.Health + ")"
			}
		}
		res.Smoke.Checks = append(res.Smoke.Checks, sc)
	}
	if ctx.Err() != nil {
		return res, ctx.Err()
	}
	matches, err := smoke.ScanLogs(ctx, dockerCli.Client(), smoke.ScanOptions{Project: project, Services: c.ignore})
	if err != nil {
		return res, err
	}
	res.Logs = &logSection{Strict: c.opts.strict, Matches: matches}
	if res.Logs.Matches == nil {
		res.Logs.Matches = []smoke.LogMatch{}
	}
	return res, nil
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// failure is the first failed check: the service and why ("" when all
// passed).
func (r checkResult) failure() (service, reason string) {
	if r.Smoke != nil {
		n, first := 0, -1
		for i, c := range r.Smoke.Checks {
			if c.Result != string(smoke.OK) {
				n++
				if first < 0 {
					first = i
				}
			}
		}
		if first >= 0 {
			c := r.Smoke.Checks[first]
			reason = fmt.Sprintf("smoke check %s: %s", c.URL, c.Result)
			if n > 1 {
				reason += fmt.Sprintf(" (and %d more failed checks)", n-1)
			}
			return c.Service, reason
		}
	}
	if r.Logs != nil && r.Logs.Strict && len(r.Logs.Matches) > 0 {
		m := r.Logs.Matches[0]
		return m.Service, fmt.Sprintf("%s in the logs of %s (--strict)", plural(m.Total, "error line"), m.Container)
	}
	return "", ""
}

// print writes the smoke and log sections as text.
func (r checkResult) print(b *strings.Builder) {
	if s := r.Smoke; s != nil {
		if len(s.Checks) == 0 {
			b.WriteString("\nSmoke checks: no Traefik router with a host under the test domain\n")
		} else {
			fmt.Fprintf(b, "\nSmoke checks through Traefik at %s:\n", s.Proxy)
			for _, c := range s.Checks {
				fmt.Fprintf(b, "  %s\n", c.line)
			}
		}
	}
	if l := r.Logs; l != nil {
		if len(l.Matches) == 0 {
			b.WriteString("Log scan: no error lines\n")
			return
		}
		total := 0
		for _, m := range l.Matches {
			total += m.Total
		}
		kind := "warnings; --strict makes them fail"
		if l.Strict {
			kind = "failure: --strict"
		}
		fmt.Fprintf(b, "Log scan: %s in %s (%s; ignore patterns: x-picatest log-ignore):\n", plural(total, "error line"), plural(len(l.Matches), "container"), kind)
		for _, m := range l.Matches {
			for _, line := range m.Lines {
				fmt.Fprintf(b, "  WARNING: %s | %s\n", m.Service, line)
			}
			if m.Total > len(m.Lines) {
				fmt.Fprintf(b, "  WARNING: %s | ... %d more (docker picatest logs %s)\n", m.Service, m.Total-len(m.Lines), m.Service)
			}
		}
	}
}

// checksError is the error of failed checks (exit 1), nil when they passed.
func checksError(r checkResult) error {
	svc, reason := r.failure()
	if svc == "" {
		return nil
	}
	return exitcode.With(exitcode.Failed, fmt.Errorf("test failed: service %s: %s\nThe deployment is left running for debugging: 'docker picatest logs %s', 'docker picatest status'; rerun the checks with 'docker picatest smoke'", svc, reason, svc))
}

// --- docker picatest smoke ------------------------------------------------

type smokeOptions struct {
	checks      checkOptions
	waitTimeout time.Duration
	format      string
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
--strict), 2 invalid input, 130 interrupted. Never 3: smoke changes nothing.`,
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
	opts.checks.addFlags(f, false)
	f.DurationVar(&opts.waitTimeout, "wait-timeout", time.Minute, "Maximum time to wait for Traefik to route each host")
	f.StringVar(&opts.format, "format", "text", "Format of the report. Values: [text | json]")
	return cmd
}

// smokeReport is what `smoke` prints.
type smokeReport struct {
	Project string `json:"project"`
	Result  string `json:"result"`
	checkResult
}

func runSmoke(ctx context.Context, dockerCli command.Cli, newBackend BackendFunc, root *rootOptions, opts smokeOptions, services []string) error {
	backend, err := newBackend(dockerCli, root.Progress)
	if err != nil {
		return err
	}
	tp, err := root.loadTestProject(ctx, backend, loadOptions{Services: services, ContainerOutput: true})
	if err != nil {
		return err
	}
	c, err := prepareChecks(tp, opts.checks)
	if err != nil {
		return err
	}
	health, err := smoke.Health(ctx, dockerCli.Client(), tp.Project.Name)
	if err != nil {
		return err
	}
	if len(health) == 0 {
		return exitcode.With(exitcode.Failed, fmt.Errorf("project %s has no containers: start it with 'docker picatest up'", tp.Project.Name))
	}
	res, err := c.run(ctx, dockerCli, tp.Project.Name, opts.waitTimeout, health)
	if err != nil {
		return err
	}
	rep := smokeReport{Project: tp.Project.Name, Result: "ok", checkResult: res}
	if svc, _ := res.failure(); svc != "" {
		rep.Result = "failed"
	}
	var b strings.Builder
	if opts.format == "json" {
		out, err := renderJSON(rep)
		if err != nil {
			return err
		}
		b.WriteString(out)
	} else {
		res.print(&b)
		if rep.Result == "ok" {
			fmt.Fprintf(&b, "OK: project %s passes the smoke checks\n", rep.Project)
		}
	}
	// The log scan shows what the containers print: real secrets when the
	// deployment was started with --real-secrets.
	if err := root.masks.Write(dockerCli.Out(), strings.TrimPrefix(b.String(), "\n")); err != nil {
		return err
	}
	return checksError(res)
}

// serviceHealth is "state, health" of each service from the wait.
func serviceHealth(states []smoke.ServiceState) map[string]string {
	out := map[string]string{}
	for _, s := range states {
		out[s.Service] = smoke.StateHealth(s.State, s.Health)
	}
	return out
}

// plural is "1 thing" or "n things".
func plural(n int, thing string) string {
	if n == 1 {
		return "1 " + thing
	}
	return fmt.Sprintf("%d %ss", n, thing)
}
