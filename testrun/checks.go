package testrun

import (
	"context"
	"fmt"
	"regexp"
	"time"

	"github.com/moby/moby/client"

	"github.com/picasoft/docker-picatest/internal/exitcode"
	"github.com/picasoft/docker-picatest/internal/testproject"
	"github.com/picasoft/docker-picatest/internal/traefikapi"
	"github.com/picasoft/docker-picatest/smoke"
)

// This file holds the smoke checks and the log scan, the last phase of a
// run and the whole of the smoke command (Run.RunChecks): their
// preparation, their run and their result.

// CheckOptions are the options of the smoke checks and log scan (SPEC §6),
// shared by up and smoke.
type CheckOptions struct {
	// Insecure accepts any TLS certificate of the proxy (--insecure).
	Insecure bool
	// Strict fails the test on error lines in the logs (--strict).
	Strict bool
	// NoSmoke skips the smoke checks and the log scan (--no-smoke).
	NoSmoke bool
}

// Checks is what the smoke checks need, prepared (and validated) before
// anything is started.
type Checks struct {
	Opts    CheckOptions
	Proxy   smoke.Proxy
	Targets []smoke.Target
	// API is host:port of Traefik's API, "" when off.
	API    string
	ignore map[string][]*regexp.Regexp
}

// prepareChecks parses --proxy and the x-picatest extensions of the
// transformed project; a mistake in them is an invalid input (exit 2).
func prepareChecks(tp *testproject.Project, opts CheckOptions) (*Checks, error) {
	c := &Checks{Opts: opts, ignore: map[string][]*regexp.Regexp{}}
	if opts.NoSmoke {
		return c, nil
	}
	proxy, err := smoke.ParseProxy(tp.Settings.Proxy)
	if err != nil {
		return nil, exitcode.Invalidf("--proxy / PICATEST_PROXY: %v", err)
	}
	c.Proxy = proxy
	api, off, err := traefikapi.Address(tp.Settings.TraefikAPI, proxy.Host)
	if err != nil {
		return nil, exitcode.Invalidf("--traefik-api / PICATEST_TRAEFIK_API: %v", err)
	}
	if !off {
		c.API = api
	}
	extras, err := smoke.ProjectExtras(tp.Project)
	if err != nil {
		return nil, exitcode.Invalidf("%v", err)
	}
	c.Targets = smoke.TargetsWith(tp.Project, tp.Settings.TestDomain, extras)
	for name, x := range extras {
		c.ignore[name] = x.LogIgnore
	}
	return c, nil
}

// SmokeSection is the smoke part of a report.
type SmokeSection struct {
	Proxy string `json:"proxy"`
	// TraefikAPI is the address of Traefik's API asked ("" when off);
	// Causes: "traefik-api" when it answered, else "inferred" (from the
	// HTTP answers alone).
	TraefikAPI string       `json:"traefik_api,omitempty"`
	Causes     string       `json:"causes"`
	Checks     []SmokeCheck `json:"checks"`
}

// SmokeCheck is the outcome of one test URL.
type SmokeCheck struct {
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
	// Line is the check as the text report prints it.
	Line string `json:"-"`
}

// LogSection is the log scan part of a report.
type LogSection struct {
	Strict  bool             `json:"strict"`
	Matches []smoke.LogMatch `json:"matches"`
}

// CheckResult is the outcome of the checks.
type CheckResult struct {
	Smoke *SmokeSection `json:"smoke,omitempty"`
	Logs  *LogSection   `json:"logs,omitempty"`
}

// run requests every target through the proxy (retrying up to timeout while
// Traefik has no router), then scans the logs of project on engine. health
// gives the state of a service for the messages.
func (c *Checks) run(ctx context.Context, engine client.APIClient, project string, timeout time.Duration, health map[string]string) (CheckResult, error) {
	var res CheckResult
	if c.Opts.NoSmoke {
		return res, nil
	}
	checker := &smoke.Checker{
		Client:   smoke.NewClient(c.Proxy, c.Opts.Insecure, 10*time.Second),
		Proxy:    c.Proxy.String(),
		Insecure: c.Opts.Insecure,
		Timeout:  timeout,
		Settle:   min(10*time.Second, timeout),
		Interval: 250 * time.Millisecond,
	}
	res.Smoke = &SmokeSection{Proxy: c.Proxy.String(), TraefikAPI: c.API, Causes: smoke.CauseInferred, Checks: []SmokeCheck{}}
	if checker.API = smoke.NewAPI(ctx, c.API, engine, project, c.Proxy); checker.API != nil {
		res.Smoke.Causes = smoke.CauseFromAPI
	}
	for _, r := range checker.Check(ctx, c.Targets) {
		res.Smoke.Checks = append(res.Smoke.Checks, smokeCheck(r, health))
	}
	if ctx.Err() != nil {
		return res, ctx.Err()
	}
	matches, err := smoke.ScanLogs(ctx, engine, smoke.ScanOptions{Project: project, Services: c.ignore})
	if err != nil {
		return res, err
	}
	res.Logs = &LogSection{Strict: c.Opts.Strict, Matches: matches}
	if res.Logs.Matches == nil {
		res.Logs.Matches = []smoke.LogMatch{}
	}
	return res, nil
}

// smokeCheck is the report of the check r; health gives the state of a
// service, said when its check failed.
func smokeCheck(r smoke.Result, health map[string]string) SmokeCheck {
	sc := SmokeCheck{
		Service: r.Service, Router: r.Router, Rule: r.Rule, URL: r.URL, Headers: r.Headers, Result: string(r.Kind), Status: r.Status,
		LatencyMS: ms(r.Latency), AfterMS: ms(r.After), Attempts: r.Attempts, Detail: r.Detail, Line: r.Line(),
		Cause: r.Cause, CauseFrom: r.CauseFrom, Label: r.Label,
	}
	if r.Kind != smoke.OK && r.Kind != smoke.Skipped {
		sc.Health = health[r.Service]
		if r.Kind == smoke.NoHealthyServer && sc.Health != "" {
			sc.Line += " (service " + r.Service + ": " + sc.Health + ")"
		}
	}
	return sc
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// FirstFailure is the first failed check: the service and why ("" when
// all passed).
func (r CheckResult) FirstFailure() (service, reason string) {
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

// Failed is the error of failed checks (exit 1), nil when they passed.
func (r CheckResult) Failed() error {
	svc, reason := r.FirstFailure()
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
