package plugin

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/docker/cli/cli/command"
	"github.com/spf13/pflag"

	"github.com/picasoft/docker-picatest/internal/exitcode"
	"github.com/picasoft/docker-picatest/internal/termsafe"
	"github.com/picasoft/docker-picatest/internal/traefikapi"
	"github.com/picasoft/docker-picatest/smoke"
)

// This file holds the smoke checks and the log scan shared by up and
// smoke: their flags, their preparation and their report sections.

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
	// api is host:port of Traefik's API, "" when off.
	api string
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
	api, off, err := traefikapi.Address(tp.Settings.TraefikAPI, proxy.Host)
	if err != nil {
		return nil, exitcode.Invalidf("--traefik-api / PICATEST_TRAEFIK_API: %v", err)
	}
	if !off {
		c.api = api
	}
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
	Proxy string `json:"proxy"`
	// TraefikAPI is the address of Traefik's API asked ("" when off);
	// Causes: "traefik-api" when it answered, else "inferred" (from the
	// HTTP answers alone).
	TraefikAPI string       `json:"traefik_api,omitempty"`
	Causes     string       `json:"causes"`
	Checks     []smokeCheck `json:"checks"`
}

type smokeCheck struct {
	Service   string            `json:"service"`
	Router    string            `json:"router"`
	Rule      string            `json:"rule"`
	URL       string            `json:"url,omitempty"`
	Headers   map[string]string `json:"headers,omitempty"`
	Result    string            `json:"result"`
	Status    int               `json:"status,omitempty"`
	LatencyMS float64           `json:"latency_ms,omitempty"`
	AfterMS   float64           `json:"after_ms"`
	Attempts  int               `json:"attempts"`
	Health    string            `json:"health,omitempty"`
	Detail    string            `json:"detail,omitempty"`
	Cause     string            `json:"cause,omitempty"`
	CauseFrom string            `json:"cause_from,omitempty"`
	Label     string            `json:"label,omitempty"`
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
	res.Smoke = &smokeSection{Proxy: c.proxy.String(), TraefikAPI: c.api, Causes: smoke.CauseInferred, Checks: []smokeCheck{}}
	if checker.API = smoke.NewAPI(ctx, c.api, dockerCli.Client(), project, c.proxy); checker.API != nil {
		res.Smoke.Causes = smoke.CauseFromAPI
	}
	for _, r := range checker.Check(ctx, c.targets) {
		sc := smokeCheck{
			Service: r.Service, Router: r.Router, Rule: r.Rule, URL: r.URL, Headers: r.Headers, Result: string(r.Kind), Status: r.Status,
			LatencyMS: ms(r.Latency), AfterMS: ms(r.After), Attempts: r.Attempts, Detail: r.Detail, line: r.Line(),
			Cause: r.Cause, CauseFrom: r.CauseFrom, Label: r.Label,
		}
		if r.Kind != smoke.OK && r.Kind != smoke.Skipped {
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
			if c.Result != string(smoke.OK) && c.Result != string(smoke.Skipped) {
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
			failed := false
			for _, c := range s.Checks {
				fmt.Fprintf(b, "  %s\n", termsafe.Line(c.line))
				failed = failed || (c.Result != string(smoke.OK) && c.Result != string(smoke.Skipped))
			}
			if failed && s.Causes == smoke.CauseInferred {
				api := "it is off (--traefik-api off)"
				if s.TraefikAPI != "" {
					api = "it does not answer at " + s.TraefikAPI
				}
				fmt.Fprintf(b, "  (causes inferred from the HTTP answers: Traefik's API explains them when it answers, and %s; set --traefik-api / PICATEST_TRAEFIK_API to Traefik's --api.insecure entrypoint)\n", api)
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
				fmt.Fprintf(b, "  WARNING: %s | %s\n", m.Service, termsafe.Line(line))
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
