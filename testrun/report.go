package testrun

import (
	"fmt"
	"sort"
	"time"

	"github.com/picasoft/docker-picatest/internal/exitcode"
	"github.com/picasoft/docker-picatest/internal/testproject"
	"github.com/picasoft/docker-picatest/smoke"
	"github.com/picasoft/docker-picatest/transforms"
	"github.com/picasoft/docker-picatest/transforms/inferbuild"
	"github.com/picasoft/docker-picatest/transforms/testurls"
)

// Report is the outcome of a run: what `up` prints at the end, as text or
// as one JSON document (the json tags are that document's names).
type Report struct {
	Project        string              `json:"project"`
	Result         string              `json:"result"`
	Duration       string              `json:"duration"`
	Services       []ServiceReport     `json:"services"`
	Rewrites       []transforms.Change `json:"rewrites"`
	ExampleSecrets []transforms.Change `json:"example_secrets"`
	// KeptHosts are the production hosts left on purpose (SPEC §3.1).
	KeptHosts      []testurls.KeptHost `json:"kept_hosts"`
	Warnings       []string            `json:"warnings,omitempty"`
	InferredBuilds []string            `json:"inferred_builds,omitempty"`
	Failure        *FailureReport      `json:"failure,omitempty"`
	CheckResult                        // smoke and logs sections (SPEC §6)
	// Dir is the project directory, for the paths of the text report.
	Dir string `json:"-"`
	// Elapsed is Duration as a duration; WaitFailed tells that Failure
	// is the wait's (not a check's): both for the JUnit report.
	Elapsed    time.Duration `json:"-"`
	WaitFailed bool          `json:"-"`
}

// ServiceReport is the state of one service at the end of the wait.
type ServiceReport struct {
	Service  string   `json:"service"`
	Image    string   `json:"image"`
	State    string   `json:"state"`
	Health   string   `json:"health,omitempty"`
	Restarts int      `json:"restarts"`
	URLs     []string `json:"urls,omitempty"`
	// Done: running (and healthy), or a one-shot that exited 0; Ready:
	// when, since the start (the time of its JUnit case).
	Done  bool          `json:"-"`
	Ready time.Duration `json:"-"`
}

// FailureReport is why the test failed: the first service that did.
type FailureReport struct {
	Service   string   `json:"service"`
	Reason    string   `json:"reason"`
	State     string   `json:"state"`
	Health    string   `json:"health,omitempty"`
	HealthLog []string `json:"health_log,omitempty"`
	LogTail   []string `json:"log_tail,omitempty"`
}

// keptHosts is tp.Kept, never nil (an empty list in JSON).
func keptHosts(tp *testproject.Project) []testurls.KeptHost {
	if tp.Kept == nil {
		return []testurls.KeptHost{}
	}
	return tp.Kept
}

func newReport(tp *testproject.Project, states []smoke.ServiceState, warnings []string, d time.Duration) *Report {
	r := &Report{Project: tp.Project.Name, Result: "ok", Duration: d.Round(time.Millisecond).String(), Warnings: warnings,
		Rewrites: tp.Rewrites(), ExampleSecrets: tp.ExampleSecrets(), KeptHosts: keptHosts(tp), Services: []ServiceReport{},
		InferredBuilds: inferbuild.Services(tp.Changes), Dir: tp.Project.WorkingDir, Elapsed: d}
	started := time.Now().Add(-d)
	for _, s := range states {
		svc := tp.Project.Services[s.Service]
		var ready time.Duration
		if !s.ReadyAt.IsZero() {
			ready = s.ReadyAt.Sub(started)
		}
		r.Services = append(r.Services, ServiceReport{
			Service: s.Service, Image: s.Image, State: s.State, Health: s.Health, Restarts: s.Restarts,
			URLs: smoke.URLs(svc.Labels, tp.Settings.TestDomain), Done: s.Done, Ready: max(ready, 0),
		})
	}
	sort.Slice(r.Services, func(i, j int) bool { return r.Services[i].Service < r.Services[j].Service })
	return r
}

// failChecks records the smoke checks and log scan; a failed check fails
// the report.
func (r *Report) failChecks(res CheckResult, d time.Duration) {
	r.CheckResult, r.Duration, r.Elapsed = res, d.Round(time.Millisecond).String(), d
	svc, reason := res.FirstFailure()
	if svc == "" {
		return
	}
	r.Result = "failed"
	f := &FailureReport{Service: svc, Reason: reason}
	for _, s := range r.Services {
		if s.Service == svc {
			f.State, f.Health = s.State, s.Health
		}
	}
	r.Failure = f
}

func (r *Report) fail(werr *smoke.WaitError) {
	r.Result, r.WaitFailed = "failed", true
	r.Failure = &FailureReport{
		Service: werr.Service, Reason: werr.Reason,
		State: werr.State.State, Health: werr.State.Health,
		HealthLog: werr.State.HealthLog, LogTail: werr.State.LogTail,
	}
}

// verdict is the failure of the test as the test record keeps it (nil:
// passed).
func (r *Report) verdict() error {
	if r.WaitFailed {
		return fmt.Errorf("service %s: %s", r.Failure.Service, r.Failure.Reason)
	}
	return r.CheckResult.Failed()
}

// Failed is the failure of the test (exit 1): the wait's, else the
// checks'; nil when it passed.
func (r *Report) Failed() error {
	if f := r.Failure; r.WaitFailed {
		return exitcode.With(exitcode.Failed, fmt.Errorf("test failed: service %s: %s\nThe deployment is left running for debugging: 'docker picatest logs %s', 'docker picatest status'; 'docker picatest down' removes it", f.Service, f.Reason, f.Service))
	}
	return r.CheckResult.Failed()
}
