package testrun

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/docker/compose/v5/pkg/api"
	"golang.org/x/sync/errgroup"

	"github.com/picasoft/docker-picatest/internal/deploy"
	"github.com/picasoft/docker-picatest/internal/safety"
	"github.com/picasoft/docker-picatest/internal/testproject"
	"github.com/picasoft/docker-picatest/smoke"
)

// This file holds the phases of a run, in the order of the procedure.

// preflight applies the safety rules (test host, lock, owner), checks the
// external networks (and volumes, without the reset) and asks to confirm
// the reset of the external volumes. It keeps the lock's release.
func (r *Run) preflight(ctx context.Context) error {
	release, err := safety.Guard(ctx, r.engine, safety.GuardOptions{
		TestHosts: r.tp.Settings.TestHosts, TestHostsFrom: r.tp.Settings.TestHostsFrom,
		OnTestHost: func(h safety.TestHost) { r.phase("preflight: %s", h) },
		Project:    r.p.Name, Command: safety.CommandLine(),
		Takeover: r.opts.Takeover, BreakLock: r.opts.BreakLock, Log: r.opts.Log,
	})
	if err != nil {
		return err
	}
	if err := r.checkExternal(ctx); err != nil {
		release()
		return err
	}
	r.release = release
	return nil
}

// checkExternal refuses an instance whose names are taken on the engine,
// checks the external networks (and volumes, without the reset), finds the
// volumes and networks the project names but does not own, and asks to
// confirm the reset of the external volumes and of those.
func (r *Run) checkExternal(ctx context.Context) error {
	if err := CheckInstanceNames(ctx, r.engine, r.opts.Instance, r.p); err != nil {
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
	return safety.Confirm(r.opts.In, r.opts.Log, r.opts.In.IsTerminal(), r.opts.Yes, question)
}

// CheckInstanceNames refuses (exit 2) the instance of --instance (as
// given: "", a name or "branch") whose names are taken on the engine
// (deploy.CheckInstanceNames).
func CheckInstanceNames(ctx context.Context, c deploy.InstanceClient, instance string, p *types.Project) error {
	inst, err := testproject.Options{Instance: instance}.InstanceName(p.WorkingDir)
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
func (r *Run) resetBuildPull(ctx context.Context) ([]string, error) {
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
		return r.create(egCtx, p, r.opts.Services)
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

// resetAndPull resets (with Options.Reset) and pulls at the same time,
// and returns the warnings of the pull.
func (r *Run) resetAndPull(ctx context.Context) ([]string, error) {
	var warnings []string
	p, plan := r.p, r.plan
	eg, egCtx := errgroup.WithContext(ctx)
	if plan.Reset {
		down, kept, err := deploy.DownProject(ctx, r.engine, p, plan.NotOwned)
		if err != nil {
			return nil, err
		}
		r.phase("reset: down -v --remove-orphans%s; external volumes re-created empty: %s", keptNetworks(kept), ResetVolumes(plan))
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
func (r *Run) build(ctx context.Context) error {
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
func (r *Run) create(ctx context.Context, p *types.Project, services []string) error {
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
func (r *Run) start(ctx context.Context, p *types.Project, services []string) error {
	if err := r.backend.Start(ctx, p.Name, api.StartOptions{Project: p, Services: services}); err != nil {
		return fmt.Errorf("starting the containers failed: %w\nSee 'docker picatest status' and 'docker picatest logs'", err)
	}
	return nil
}

// startProject is the project whose containers the run starts after the
// build (deploy.StartAfterBuild).
func (r *Run) startProject(ctx context.Context) (*types.Project, error) {
	if len(r.plan.Early) == 0 {
		return r.p, nil
	}
	stopped, err := deploy.Stopped(ctx, r.engine, r.p.Name, r.plan.Early)
	if err != nil {
		return nil, err
	}
	return r.p.WithSelectedServices(deploy.StartAfterBuild(r.p, r.plan.Early, stopped), types.IgnoreDependencies)
}

// startWaitCheck starts the containers, waits until they are running and
// healthy and stable, then runs the smoke checks and the log scan. A
// failed test is in the report, not in err.
func (r *Run) startWaitCheck(ctx context.Context, warnings []string) (*Report, error) {
	start, err := r.startProject(ctx)
	if err != nil {
		return nil, err
	}
	if err := r.start(ctx, start, r.opts.Services); err != nil {
		return nil, err
	}
	rep, states, err := r.wait(ctx, warnings)
	if err != nil || rep.WaitFailed {
		return rep, err
	}
	if err := r.smoke(ctx, rep, states); err != nil {
		return nil, err
	}
	return rep, nil
}

// wait waits until the containers are running and healthy, then stable;
// the report says which failed the wait.
func (r *Run) wait(ctx context.Context, warnings []string) (*Report, []smoke.ServiceState, error) {
	r.phase("wait: running and healthy within %s, then stable for %s", r.opts.WaitTimeout, r.opts.Stable)
	states, waitErr := smoke.Wait(ctx, r.engine, smoke.WaitOptions{
		Project:  r.p.Name,
		Services: smoke.ExpectFromProject(r.p),
		Timeout:  r.opts.WaitTimeout,
		Stable:   r.opts.Stable,
	})
	if ctx.Err() != nil {
		return nil, nil, ctx.Err()
	}
	rep := newReport(r.tp, states, warnings, time.Since(r.started))
	var werr *smoke.WaitError
	if errors.As(waitErr, &werr) {
		rep.fail(werr)
		return rep, states, nil
	} else if waitErr != nil {
		return nil, nil, waitErr
	}
	return rep, states, nil
}

// smoke runs the smoke checks through Traefik and the log scan, and
// records them in rep.
func (r *Run) smoke(ctx context.Context, rep *Report, states []smoke.ServiceState) error {
	if !r.opts.Checks.NoSmoke {
		r.phase("smoke: %d URL(s) through %s, then a log scan", len(r.checks.Targets), r.checks.Proxy)
	}
	res, err := r.RunChecks(ctx, r.engine, serviceHealth(states))
	if err != nil {
		return err
	}
	rep.failChecks(res, time.Since(r.started))
	return nil
}

// keptNetworks says which networks the reset keeps (deploy.DownProject).
func keptNetworks(kept []string) string {
	if len(kept) == 0 {
		return ""
	}
	return fmt.Sprintf(" (network %s kept: up recreates a network whose configuration changed)", strings.Join(kept, ", "))
}

// ResetVolumes names the volumes the reset of plan re-creates empty: the
// external volumes, those of an instance in their place, then the volumes
// and networks the project names but did not create (a network is kept).
func ResetVolumes(plan deploy.Plan) string {
	return listOrNone(plan.ExternalVolumes) + instanceVolumes(plan) + notOwnedObjects(plan.NotOwned)
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

// listOrNone is the items of l separated by commas, or "none".
func listOrNone(l []string) string {
	if len(l) == 0 {
		return "none"
	}
	return strings.Join(l, ", ")
}
