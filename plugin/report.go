package plugin

import (
	"fmt"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/picasoft/docker-picatest/internal/termsafe"
	"github.com/picasoft/docker-picatest/smoke"
	"github.com/picasoft/docker-picatest/transforms"
	"github.com/picasoft/docker-picatest/transforms/buildcontext"
	"github.com/picasoft/docker-picatest/transforms/inferbuild"
	"github.com/picasoft/docker-picatest/transforms/testurls"
)

// keptHosts is tp.Kept, never nil (an empty list in JSON).
func keptHosts(tp *testProject) []testurls.KeptHost {
	if tp.Kept == nil {
		return []testurls.KeptHost{}
	}
	return tp.Kept
}

// writeKept lists the production hosts kept on purpose, one a line, as
// up's report, up --dry-run and config --diff print them; nothing when
// there are none.
func writeKept(b *strings.Builder, kept []testurls.KeptHost) {
	if len(kept) == 0 {
		return
	}
	fmt.Fprintf(b, "Production hosts kept on purpose (%d):\n", len(kept))
	for _, k := range kept {
		fmt.Fprintf(b, "  %s\n", k)
	}
}

// upReport is what `up` prints at the end, as text or as one JSON document.
type upReport struct {
	Project        string              `json:"project"`
	Result         string              `json:"result"`
	Duration       string              `json:"duration"`
	Services       []serviceReport     `json:"services"`
	Rewrites       []transforms.Change `json:"rewrites"`
	ExampleSecrets []transforms.Change `json:"example_secrets"`
	// KeptHosts are the production hosts left on purpose (SPEC §3.1).
	KeptHosts      []testurls.KeptHost `json:"kept_hosts"`
	Warnings       []string            `json:"warnings,omitempty"`
	InferredBuilds []string            `json:"inferred_builds,omitempty"`
	Failure        *failureReport      `json:"failure,omitempty"`
	checkResult                        // smoke and logs sections (SPEC §6)
	// dir is the project directory, for the paths of the text report.
	dir string
	// elapsed is Duration as a duration; waitFailed tells that Failure
	// is the wait's (not a check's): both for the JUnit report.
	elapsed    time.Duration
	waitFailed bool
}

type serviceReport struct {
	Service  string   `json:"service"`
	Image    string   `json:"image"`
	State    string   `json:"state"`
	Health   string   `json:"health,omitempty"`
	Restarts int      `json:"restarts"`
	URLs     []string `json:"urls,omitempty"`
	// done: running (and healthy), or a one-shot that exited 0; ready:
	// when, since the start (the time of its JUnit case).
	done  bool
	ready time.Duration
}

type failureReport struct {
	Service   string   `json:"service"`
	Reason    string   `json:"reason"`
	State     string   `json:"state"`
	Health    string   `json:"health,omitempty"`
	HealthLog []string `json:"health_log,omitempty"`
	LogTail   []string `json:"log_tail,omitempty"`
}

func newUpReport(tp *testProject, states []smoke.ServiceState, warnings []string, d time.Duration) *upReport {
	r := &upReport{Project: tp.Project.Name, Result: "ok", Duration: d.Round(time.Millisecond).String(), Warnings: warnings,
		Rewrites: tp.Rewrites(), ExampleSecrets: tp.ExampleSecrets(), KeptHosts: keptHosts(tp), Services: []serviceReport{},
		InferredBuilds: inferredBuilds(tp.Changes), dir: tp.Project.WorkingDir, elapsed: d}
	started := time.Now().Add(-d)
	for _, s := range states {
		svc := tp.Project.Services[s.Service]
		var ready time.Duration
		if !s.ReadyAt.IsZero() {
			ready = s.ReadyAt.Sub(started)
		}
		r.Services = append(r.Services, serviceReport{
			Service: s.Service, Image: s.Image, State: s.State, Health: s.Health, Restarts: s.Restarts,
			URLs: smoke.URLs(svc.Labels, tp.Settings.TestDomain), done: s.Done, ready: max(ready, 0),
		})
	}
	sort.Slice(r.Services, func(i, j int) bool { return r.Services[i].Service < r.Services[j].Service })
	return r
}

// failChecks records the smoke checks and log scan; a failed check fails
// the report.
func (r *upReport) failChecks(res checkResult, d time.Duration) {
	r.checkResult, r.Duration, r.elapsed = res, d.Round(time.Millisecond).String(), d
	svc, reason := res.failure()
	if svc == "" {
		return
	}
	r.Result = "failed"
	f := &failureReport{Service: svc, Reason: reason}
	for _, s := range r.Services {
		if s.Service == svc {
			f.State, f.Health = s.State, s.Health
		}
	}
	r.Failure = f
}

func (r *upReport) fail(werr *smoke.WaitError) {
	r.Result, r.waitFailed = "failed", true
	r.Failure = &failureReport{
		Service: werr.Service, Reason: werr.Reason,
		State: werr.State.State, Health: werr.State.Health,
		HealthLog: werr.State.HealthLog, LogTail: werr.State.LogTail,
	}
}

// render is the report as text or as one JSON document.
func (r *upReport) render(format string) (string, error) {
	var b strings.Builder
	if format == "json" {
		return renderJSON(r)
	}
	tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SERVICE\tIMAGE\tSTATE\tHEALTH\tRESTARTS\tTEST URLS")
	for _, s := range r.Services {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\n", s.Service, termsafe.String(s.Image), s.State, orDash(s.Health), s.Restarts, termsafe.String(orDash(strings.Join(s.URLs, " "))))
	}
	_ = tw.Flush()
	fmt.Fprintf(&b, "\n%d rewrites, %d example secrets used", len(r.Rewrites), len(r.ExampleSecrets))
	for _, c := range r.ExampleSecrets {
		fmt.Fprintf(&b, "\n  %s: %s", c.Where, transforms.DisplayPath(r.dir, c.New))
	}
	for _, c := range r.Rewrites {
		if c.Transform == buildcontext.Name {
			fmt.Fprintf(&b, "\n  %s: test URLs in the test build", c.Where)
		}
	}
	b.WriteString(" (details: docker picatest config --diff)\n")
	writeKept(&b, r.KeptHosts)
	r.checkResult.print(&b)
	for _, warn := range r.Warnings {
		fmt.Fprintf(&b, "WARNING: %s\n", warn)
	}
	for _, line := range inferredLines(r.InferredBuilds) {
		b.WriteString(line + "\n")
	}
	if f := r.Failure; f != nil {
		fmt.Fprintf(&b, "\nFAILED: service %s: %s (state %s, health %s)\n", f.Service, f.Reason, f.State, orDash(f.Health))
		if len(f.HealthLog) > 0 {
			b.WriteString("Last health checks:\n")
			for _, l := range f.HealthLog {
				// One check's output, shown on one line.
				fmt.Fprintf(&b, "  %s\n", termsafe.String(l))
			}
		}
		if len(f.LogTail) > 0 {
			b.WriteString("Last log lines:\n")
			for _, l := range f.LogTail {
				fmt.Fprintf(&b, "  %s\n", termsafe.Line(l))
			}
		}
	} else {
		fmt.Fprintf(&b, "OK: project %s is up and healthy (%s)\n", r.Project, r.Duration)
	}
	return b.String(), nil
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// inferredBuilds are the services of the changes of inferbuild.
func inferredBuilds(changes []transforms.Change) []string {
	var out []string
	for _, c := range changes {
		if c.Transform == inferbuild.Name {
			out = append(out, strings.TrimSuffix(strings.TrimPrefix(c.Where, "services."), ".build"))
		}
	}
	return out
}

// inferredLines say, for each service whose build was inferred, that it
// was built from the folder's Dockerfile and what to add to the Compose
// file.
func inferredLines(services []string) []string {
	var out []string
	for _, s := range services {
		out = append(out, fmt.Sprintf("NOTE: service %s has no build section: built as the procedure does, from ./%s, tagged with its image; add to service %s in the Compose file: %s", s, inferbuild.Dockerfile, s, inferbuild.BuildSection()))
	}
	return out
}
