package testrun

import (
	"context"
	"io"
	"time"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/moby/moby/client"

	"github.com/picasoft/docker-picatest/internal/deploy"
	"github.com/picasoft/docker-picatest/internal/testproject"
)

// Options are what a run does with its project: the flags of up (and, in
// time, the phases of an upgrade drill) as the run reads them.
type Options struct {
	// Reset runs the reset (down -v --remove-orphans, external volumes
	// re-created empty) before the start: up without --no-reset.
	Reset bool
	// Yes answers the confirmation of the reset (-y/--yes).
	Yes bool
	// Takeover replaces a deployment owned by someone else; BreakLock
	// breaks a lock held by a command that no longer runs.
	Takeover, BreakLock bool
	// Services are the services named on the command line (all with none).
	Services []string
	// WaitTimeout bounds the wait for running and healthy containers (and
	// the smoke checks' retries); Stable is the stability window after.
	WaitTimeout, Stable time.Duration
	// Checks are the options of the smoke checks and the log scan.
	Checks CheckOptions
	// Instance is --instance as given: "", a name, or "branch"
	// (testproject.InstanceFromBranch).
	Instance string
	// Phase announces a phase as one line (nil: silently).
	Phase func(format string, args ...any)
	// In answers the confirmation of the reset; Log (stderr) receives the
	// confirmation's question, the lock's messages and the warnings.
	In  Input
	Log io.Writer
}

// Input is where the confirmation is read (the Docker CLI's stdin).
type Input interface {
	io.Reader
	IsTerminal() bool
}

// noInput is the Input of a run given none: empty, not a terminal (a
// confirmation is refused unless Options.Yes).
type noInput struct{}

func (noInput) Read([]byte) (int, error) { return 0, io.EOF }
func (noInput) IsTerminal() bool         { return false }

// Run is one test run of a project, phase by phase.
type Run struct {
	tp      *testproject.Project
	p       *types.Project
	backend Backend
	engine  client.APIClient
	opts    Options
	plan    deploy.Plan
	checks  *Checks
	phase   func(format string, args ...any)
	// started is when the containers were started.
	started time.Time
	// release frees the project's lock (idempotent).
	release func()
	// rec writes the test record (record.go).
	rec *recorder
}

// New prepares the run of tp with backend: its plan and its checks (a
// mistake in the checks' settings is an invalid input, exit 2). It
// contacts no engine.
func New(tp *testproject.Project, backend Backend, opts Options) (*Run, error) {
	chk, err := prepareChecks(tp, opts.Checks)
	if err != nil {
		return nil, err
	}
	r := &Run{tp: tp, p: tp.Project, backend: backend, opts: opts, plan: deploy.NewPlan(tp.Project, opts.Reset), checks: chk, phase: opts.Phase}
	if r.phase == nil {
		r.phase = func(string, ...any) {}
	}
	if r.opts.Log == nil {
		r.opts.Log = io.Discard
	}
	if r.opts.In == nil {
		r.opts.In = noInput{}
	}
	return r, nil
}

// Plan is the plan of the run (what it resets, builds, pulls and starts
// early).
func (r *Run) Plan() deploy.Plan { return r.plan }

// Checks are the prepared smoke checks of the run.
func (r *Run) Checks() *Checks { return r.checks }

// Started is when the containers were started (zero before).
func (r *Run) Started() time.Time { return r.started }

// Release frees the project's lock taken by Test; it may be called more
// than once, and before Test.
func (r *Run) Release() {
	if r.release != nil {
		r.release()
	}
}

// Test runs the test on engine: preflight, reset with the build and the
// pull, create and start, wait, smoke checks and log scan, then writes the
// test record. A failed test is in the report (Report.Failed), not in err.
// The project's lock stays held until Release: the caller prints the
// report first.
func (r *Run) Test(ctx context.Context, engine client.APIClient) (rep *Report, err error) {
	r.engine = engine
	if err := r.preflight(ctx); err != nil {
		return nil, err
	}
	// The test record is written before the lock is released, with the
	// verdict: at the end, or here when the test stops before it.
	r.rec = newRecorder(ctx, r)
	defer func() {
		if err != nil {
			r.rec.finish(ctx, err)
		}
	}()
	warnings, err := r.resetBuildPull(ctx)
	if err != nil {
		return nil, err
	}
	if w := deploy.ClientPathsWarning(r.p, engine.DaemonHost()); w != "" {
		warnings = append(warnings, w)
	}
	warnings = append(warnings, r.tp.Masker.Warnings()...)
	rep, err = r.startWaitCheck(ctx, warnings)
	if err != nil {
		return nil, err
	}
	r.rec.finish(ctx, rep.verdict())
	return rep, nil
}

// RunChecks runs the smoke checks and the log scan alone against the
// deployment already up (the smoke command): the phase smoke of Test,
// without the report. health gives the state of each service, for the
// messages; Options.WaitTimeout bounds the retries while Traefik has no
// router.
func (r *Run) RunChecks(ctx context.Context, engine client.APIClient, health map[string]string) (CheckResult, error) {
	return r.checks.run(ctx, engine, r.p.Name, r.opts.WaitTimeout, health)
}

// Project is the project the run tests.
func (r *Run) Project() *types.Project { return r.p }

// Services are the services named on the command line (all with none).
func (r *Run) Services() []string { return r.opts.Services }
