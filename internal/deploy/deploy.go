// Package deploy holds what `docker picatest up` does to the engine
// around Compose's own up: the plan (which volumes are reset, which
// images are built and which pulled), the checks that the project's
// external networks and volumes exist, the reset of the external volumes,
// the ownership rule that decides what the reset and down may remove
// (NotOwnedObjects) and the check that an instance's names are free on
// the engine (CheckInstanceNames), and the pull that falls back to a
// local image when the registry cannot be reached.
package deploy

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"
	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/compose/v5/pkg/api"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
	"golang.org/x/sync/errgroup"

	"github.com/picasoft/docker-picatest/internal/exitcode"
	"github.com/picasoft/docker-picatest/transforms/instance"
)

// Plan is what up is going to do, for --dry-run and for the run itself.
type Plan struct {
	// Reset: down -v --remove-orphans, and the external volumes re-created
	// empty.
	Reset bool
	// ExternalVolumes and Networks are the Docker names of the project's
	// external volumes and networks.
	ExternalVolumes []string
	Networks        []string
	// NotOwned are the volumes and networks the project declares, not
	// external, that exist on the engine and that Compose did not create
	// for this deployment (NotOwnedObjects; filled by the caller, which
	// asks the engine). The reset confirms them as external volumes:
	// it removes and re-creates such a volume empty (never a network),
	// and down keeps them.
	NotOwned []Object
	// InstanceVolumes are the volumes of an instance that replace the
	// external volumes (see transforms/instance): Compose's own, removed
	// by the reset's down -v and created empty by up.
	InstanceVolumes []string
	// Build and Pull are the services whose image is built, and pulled.
	Build []string
	Pull  []string
	// Early are the services started while the images are being built:
	// those whose image, and the images of every service they depend on,
	// are not built, and that are no one-shot (see early; empty when
	// nothing is built).
	Early []string
}

// NewPlan returns the plan of up for p; reset is false with --no-reset.
func NewPlan(p *types.Project, reset bool) Plan {
	plan := Plan{Reset: reset}
	for _, v := range p.Volumes {
		if bool(v.External) {
			plan.ExternalVolumes = append(plan.ExternalVolumes, v.Name)
		} else if v.Labels[instance.Label] != "" {
			plan.InstanceVolumes = append(plan.InstanceVolumes, v.Name)
		}
	}
	for _, n := range p.Networks {
		if bool(n.External) {
			plan.Networks = append(plan.Networks, n.Name)
		}
	}
	built := map[string]bool{}
	for name, s := range p.Services {
		if s.Build != nil {
			plan.Build = append(plan.Build, name)
			built[s.Image] = s.Image != ""
		}
	}
	for name, s := range p.Services {
		// A service that runs the image another service builds is
		// neither built nor pulled.
		if s.Build == nil && !built[s.Image] {
			plan.Pull = append(plan.Pull, name)
		}
	}
	if len(plan.Build) > 0 {
		plan.Early = early(p, built)
	}
	for _, l := range [][]string{plan.ExternalVolumes, plan.InstanceVolumes, plan.Networks, plan.Build, plan.Pull, plan.Early} {
		sort.Strings(l)
	}
	return plan
}

// early returns the services of p that run no image of built, depend,
// directly or not, on none that does, and are no one-shot (a dependency
// with the condition service_completed_successfully: it runs once, in
// Compose's up after the build).
func early(p *types.Project, built map[string]bool) []string {
	waits := map[string]bool{} // the service waits for the build
	for _, s := range p.Services {
		for dep, d := range s.DependsOn {
			if d.Condition == types.ServiceConditionCompletedSuccessfully {
				waits[dep] = true
			}
		}
	}
	var visit func(name string, seen map[string]bool) bool
	visit = func(name string, seen map[string]bool) bool {
		if w, ok := waits[name]; ok {
			return w
		}
		s, ok := p.Services[name]
		if !ok || seen[name] { // a dependency outside the project, or a cycle: Compose decides
			return true
		}
		seen[name] = true
		w := s.Build != nil || built[s.Image]
		for dep := range s.DependsOn {
			w = visit(dep, seen) || w
		}
		waits[name] = w
		return w
	}
	var names []string
	for name := range p.Services {
		if !visit(name, map[string]bool{}) {
			names = append(names, name)
		}
	}
	return names
}

// StartAfterBuild returns the services of p that Compose's up starts
// after the build, when the services early were started during it and
// those of them in stopped no longer run: the services not started yet,
// and the started ones that one of them waits for (condition
// service_healthy), still running, so that Compose waits for them. Every
// other service started during the build is left alone: Compose's up
// starts again a container that is not running, which would run a
// one-shot twice and hide a crash from the wait.
func StartAfterBuild(p *types.Project, early, stopped []string) []string {
	var names []string
	for _, name := range p.ServiceNames() {
		if !slices.Contains(early, name) {
			names = append(names, name)
		}
	}
	waited := map[string]bool{}
	for _, name := range names {
		for dep, d := range p.Services[name].DependsOn {
			if d.Condition == types.ServiceConditionHealthy && slices.Contains(early, dep) && !slices.Contains(stopped, dep) {
				waited[dep] = true
			}
		}
	}
	for dep := range waited {
		names = append(names, dep)
	}
	sort.Strings(names)
	return names
}

// CheckExternalNetworks fails (exit 1) when one of the external networks
// names is missing.
func CheckExternalNetworks(ctx context.Context, c NetworkInspector, names []string) error {
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

// CheckExternalVolumes fails (exit 1) when one of the external volumes
// names is missing, which only the reset re-creates (after an interrupted
// reset, say).
func CheckExternalVolumes(ctx context.Context, c VolumeClient, names []string) error {
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

// DownProject returns the project the reset's down -v is given: p
// without the networks the reset keeps, and the names of those. A network
// of p is kept when Compose created it with a record of its configuration
// (the label com.docker.compose.config-hash): networks hold no data once
// their containers are gone, and Compose's up recreates a network whose
// configuration changed, so removing an unchanged one to create it again
// (about a second on Docker 20.10) would change nothing but its ID. A
// network without that record (created by docker-compose v1, say) is
// removed, as down -v does. The volumes and networks of notOwned
// (NotOwnedObjects) are left alone (WithoutNotOwned): the reset resets
// those volumes itself, once confirmed, as external ones.
func DownProject(ctx context.Context, c NetworkLister, p *types.Project, notOwned []Object) (*types.Project, []string, error) {
	p = WithoutNotOwned(p, notOwned)
	f := client.Filters{}
	f.Add("label", api.ProjectLabel+"="+p.Name)
	res, err := c.NetworkList(ctx, client.NetworkListOptions{Filters: f})
	if err != nil {
		return nil, nil, fmt.Errorf("listing the networks of project %s: %w", p.Name, err)
	}
	recorded := map[string]bool{} // network key of a network with a record
	for _, n := range res.Items {
		key := n.Labels[api.NetworkLabel]
		if cfg, ok := p.Networks[key]; ok && n.Name == cfg.Name && n.Labels[api.ConfigHashLabel] != "" {
			recorded[key] = true
		}
	}
	if len(recorded) == 0 {
		return p, nil, nil
	}
	down := *p
	down.Networks = types.Networks{}
	var kept []string
	for key, n := range p.Networks {
		if recorded[key] && !bool(n.External) {
			kept = append(kept, n.Name)
			continue
		}
		down.Networks[key] = n
	}
	sort.Strings(kept)
	return &down, kept, nil
}

// ResetExternalVolumes removes each of the external volumes names and
// re-creates it empty with the same driver, options and labels (up cannot
// start without it).
func ResetExternalVolumes(ctx context.Context, c VolumeClient, names []string) error {
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

// PullImages pulls the image of each service, all at the same time, one
// Compose pull per service so that each failure is known. A failed pull of
// an image present locally is a warning (the test machine may be offline);
// of an absent image, an error naming it.
func PullImages(ctx context.Context, backend Puller, c ImageInspector, p *types.Project, services []string) ([]string, error) {
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
			missing = append(missing, fmt.Sprintf("%s (service %s: %s)", image, name, pullReason(errs[i])))
			continue
		}
		warnings = append(warnings, fmt.Sprintf("could not pull %s (service %s), using the local image: %s", image, name, pullReason(errs[i])))
	}
	if len(missing) > 0 {
		return nil, exitcode.With(exitcode.Failed, fmt.Errorf("image %s could not be pulled and is not present locally: check the image name and tag ('docker picatest check' finds untagged and latest images), the registry login ('docker login'), or build or load the image on this machine", strings.Join(missing, "; ")))
	}
	return warnings, nil
}

// pullReason is the error of a failed pull on one line, each message
// once: the Compose SDK joins the error of a failed image with the same
// error again (errors.Join of the per-service errors and of its errgroup).
// A message that another one contains (wrapped in it) is left out.
func pullReason(err error) string {
	var msgs []string
	seen := map[string]bool{}
	var walk func(error)
	walk = func(err error) {
		if joined, ok := err.(interface{ Unwrap() []error }); ok {
			for _, e := range joined.Unwrap() {
				if e != nil {
					walk(e)
				}
			}
			return
		}
		for _, line := range strings.Split(err.Error(), "\n") {
			if line = strings.TrimSpace(line); line != "" && !seen[line] {
				seen[line] = true
				msgs = append(msgs, line)
			}
		}
	}
	walk(err)
	var out []string
	for i, m := range msgs {
		inOther := false
		for j, other := range msgs {
			inOther = inOther || (i != j && strings.Contains(other, m))
		}
		if !inOther {
			out = append(out, m)
		}
	}
	return strings.Join(out, "; ")
}

// PullProgress wraps the progress renderer given to the Compose SDK: a
// failed pull is PullImages' to report, once, as a warning when the image
// is present locally and as an error naming it otherwise. So the SDK's own
// "Image X Error <engine error>" line, which would say the engine's error
// a second time and call it an error, becomes "Image X Pull failed"; every
// other event passes unchanged.
func PullProgress(ep api.EventProcessor) api.EventProcessor {
	return pullProgress{ep}
}

type pullProgress struct {
	api.EventProcessor
}

// On passes the events on, a failed pull of an image as a warning without
// the engine's error.
func (p pullProgress) On(events ...api.Resource) {
	out := make([]api.Resource, len(events))
	for i, e := range events {
		if e.Status == api.Error && e.Text == api.StatusError && strings.HasPrefix(e.ID, "Image ") {
			e.Status, e.Text, e.Details = api.Warning, "Pull failed", ""
		}
		out[i] = e
	}
	p.EventProcessor.On(out...)
}

// NetworkInspector is the part of the moby client CheckExternalNetworks
// needs.
type NetworkInspector interface {
	NetworkInspect(ctx context.Context, network string, options client.NetworkInspectOptions) (client.NetworkInspectResult, error)
}

// NetworkLister is the part of the moby client DownProject needs.
type NetworkLister interface {
	NetworkList(ctx context.Context, options client.NetworkListOptions) (client.NetworkListResult, error)
}

// VolumeClient is the part of the moby client the external volumes need.
type VolumeClient interface {
	VolumeInspect(ctx context.Context, volumeID string, options client.VolumeInspectOptions) (client.VolumeInspectResult, error)
	VolumeRemove(ctx context.Context, volumeID string, options client.VolumeRemoveOptions) (client.VolumeRemoveResult, error)
	VolumeCreate(ctx context.Context, options client.VolumeCreateOptions) (client.VolumeCreateResult, error)
}

// ImageInspector is the part of the moby client PullImages needs.
type ImageInspector interface {
	ImageInspect(ctx context.Context, image string, opts ...client.ImageInspectOption) (client.ImageInspectResult, error)
}

// Puller is the part of the Compose SDK PullImages needs.
type Puller interface {
	Pull(ctx context.Context, project *types.Project, options api.PullOptions) error
}

// ContainerLister is the part of the moby client Stopped needs.
type ContainerLister interface {
	ContainerList(ctx context.Context, options client.ContainerListOptions) (client.ContainerListResult, error)
}

// Stopped returns, sorted, those of services (started during the build,
// plan.Early) that have a container of project and none running any more:
// a service that crashed or finished, which StartAfterBuild leaves to the
// wait.
func Stopped(ctx context.Context, c ContainerLister, project string, services []string) ([]string, error) {
	f := client.Filters{}
	f.Add("label", api.ProjectLabel+"="+project)
	res, err := c.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: f})
	if err != nil {
		return nil, fmt.Errorf("listing the containers of project %s: %w", project, err)
	}
	has, running := map[string]bool{}, map[string]bool{}
	for _, ctr := range res.Items {
		name := ctr.Labels[api.ServiceLabel]
		if !slices.Contains(services, name) || ctr.Labels[api.OneoffLabel] == "True" {
			continue
		}
		has[name] = true
		if ctr.State == container.StateRunning || ctr.State == container.StateRestarting {
			running[name] = true
		}
	}
	var names []string
	for name := range has {
		if !running[name] {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	return names, nil
}
