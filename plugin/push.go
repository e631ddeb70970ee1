package plugin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"
	cerrdefs "github.com/containerd/errdefs"
	"github.com/distribution/reference"
	"github.com/docker/cli/cli/command"
	"github.com/docker/compose/v5/pkg/api"
	"github.com/spf13/cobra"

	"github.com/picasoft/docker-picatest/internal/exitcode"
	"github.com/picasoft/docker-picatest/internal/gitrepo"
	"github.com/picasoft/docker-picatest/transforms/testlabels"
)

type pushOptions struct {
	build      bool
	allowDirty bool
	dryRun     bool
	format     string
}

func newPushCommand(dockerCli command.Cli, newBackend BackendFunc, root *rootOptions) *cobra.Command {
	opts := pushOptions{}
	cmd := &cobra.Command{
		Use:   "push [OPTIONS] [SERVICE...]",
		Short: "Publish the home-made images to the registry, safely",
		Long: `Pushes the images of the services that have a build section and an image
under the home registry (--registry, PICATEST_REGISTRY, .picatest.yml);
every other service is listed as skipped with the reason.

Before anything is built or uploaded, in this order:
  1. credentials for the registry exist in the Docker config (credential
     store or helper included) and the registry accepts them;
  2. the git tree under the project directory is clean (uncommitted or
     untracked files refuse the push; --allow-dirty opts out);
  3. without --build, every image exists locally and none was built by a
     test (label net.picasoft.picatest.test-build=true).
--build rebuilds the images from the untransformed project (no test URLs,
no example secrets, no test labels), exactly as 'docker compose build' does,
then pushes them. The report lists each image pushed with its digest, and
the commit pushed.

--dry-run runs the same read-only checks and lists what would be pushed; it
builds nothing and uploads nothing.

Exit codes: 0 pushed, 1 failed (not logged in, registry unreachable, image
missing, upload failed), 2 invalid input, 3 refused by a safety rule (dirty
tree, test build), 130 interrupted.`,
		Example: `  docker picatest push --build
  docker picatest push --dry-run
  docker picatest push --registry registry.example.org --format json pad`,
		RunE: adapt(func(ctx context.Context, args []string) error {
			if err := opts.validate(); err != nil {
				return err
			}
			return runPush(ctx, dockerCli, newBackend, root, opts, args)
		}),
	}
	f := cmd.Flags()
	f.BoolVar(&opts.build, "build", false, "Build the images from the untransformed project before pushing them")
	f.BoolVar(&opts.allowDirty, "allow-dirty", false, "Push even if the git tree has uncommitted or untracked files")
	f.BoolVar(&opts.dryRun, "dry-run", false, "Run the checks and list what would be pushed; build and upload nothing")
	f.StringVar(&opts.format, "format", "text", "Format of the report. Values: [text | json]")
	return cmd
}

// validate checks the flag values.
func (o pushOptions) validate() error {
	if o.format != "text" && o.format != "json" {
		return exitcode.Invalidf("--format %q is not supported: use --format text or --format json", o.format)
	}
	return nil
}

// pushTarget is a service whose image is pushed.
type pushTarget struct {
	Service string
	Image   string
	named   reference.Named
}

// pushSkip is a service that is not pushed, and why.
type pushSkip struct {
	Service string `json:"service"`
	Image   string `json:"image,omitempty"`
	Reason  string `json:"reason"`
}

// selectPushTargets splits the services of p (only those named, when names
// is not empty) into the targets, with build and an image under registry,
// and the skipped ones with their reason. Both are sorted by service name.
func selectPushTargets(p *types.Project, registry string, names []string) ([]pushTarget, []pushSkip) {
	selected := map[string]bool{}
	for _, n := range names {
		selected[n] = true
	}
	var targets []pushTarget
	var skipped []pushSkip
	for _, name := range p.ServiceNames() {
		if len(names) > 0 && !selected[name] {
			continue
		}
		s := p.Services[name]
		if s.Image == "" {
			reason := "no image: nothing to push"
			if s.Build != nil {
				reason = fmt.Sprintf("built, but has no image name: add 'image: %s/<name>:<tag>' to push it", registry)
			}
			skipped = append(skipped, pushSkip{Service: name, Reason: reason})
			continue
		}
		named, err := reference.ParseNormalizedNamed(s.Image)
		if err != nil {
			skipped = append(skipped, pushSkip{Service: name, Image: s.Image, Reason: fmt.Sprintf("invalid image reference: %v", err)})
			continue
		}
		domain, path := reference.Domain(named), reference.Path(named)
		switch {
		case s.Build == nil && domain == "docker.io" && strings.HasPrefix(path, "library/"):
			skipped = append(skipped, pushSkip{Service: name, Image: s.Image, Reason: "official image"})
		case s.Build == nil:
			skipped = append(skipped, pushSkip{Service: name, Image: s.Image, Reason: "not built (no build section)"})
		case !underRegistry(named, registry):
			skipped = append(skipped, pushSkip{Service: name, Image: s.Image, Reason: fmt.Sprintf("other registry (%s, not under %s)", domain+"/"+path, registry)})
		default:
			targets = append(targets, pushTarget{Service: name, Image: s.Image, named: named})
		}
	}
	return targets, skipped
}

// underRegistry reports whether named is under registry (host[/path]):
// same domain, case-insensitively, and under the path if there is one.
func underRegistry(named reference.Named, registry string) bool {
	regHost, regPath, _ := strings.Cut(strings.TrimSuffix(registry, "/"), "/")
	domain, path := reference.Domain(named), reference.Path(named)
	return strings.EqualFold(domain, regHost) && (regPath == "" || strings.HasPrefix(path, regPath+"/"))
}

// loadPushProject loads the project exactly as Compose does, with no
// transform at all: push publishes production images. The services'
// environment is not resolved, so that a real secrets env_file that only
// exists on the production machine (its .example is in git) does not stop
// a build: building needs only the build section, whose args come from the
// interpolation of the Compose file (.env, --env-file, the environment).
func (o *rootOptions) loadPushProject(ctx context.Context, backend Backend) (*types.Project, error) {
	p, err := backend.LoadProject(ctx, o.projectLoadOptions(nil, cli.WithoutEnvironmentResolution))
	if err != nil {
		return nil, loadError(err, o.composeFiles())
	}
	return p, nil
}

func runPush(ctx context.Context, dockerCli command.Cli, newBackend BackendFunc, root *rootOptions, opts pushOptions, services []string) error {
	backend, err := newBackend(dockerCli, root.Progress)
	if err != nil {
		return err
	}
	p, err := root.loadPushProject(ctx, backend)
	if err != nil {
		return err
	}
	for _, name := range services {
		if _, ok := p.Services[name]; !ok {
			return exitcode.Invalidf("no such service: %s\nThe services of project %s are: %s.", name, p.Name, serviceNames(p))
		}
	}
	settings, err := root.settingsOptions.resolve(p.WorkingDir, os.Getenv)
	if err != nil {
		return err
	}
	targets, skipped := selectPushTargets(p, settings.Registry, services)
	report := &pushReport{Project: p.Name, Registry: settings.Registry, DryRun: opts.dryRun, Build: opts.build,
		Images: []pushedImage{}, Skipped: skipped}
	if report.Skipped == nil {
		report.Skipped = []pushSkip{}
	}
	if len(targets) == 0 {
		report.Result = "nothing to push"
		return report.print(dockerCli.Out(), opts.format)
	}

	// (a) Credentials, accepted by the registry.
	regHost, _, _ := strings.Cut(settings.Registry, "/")
	reg, err := newRegistryClient(dockerCli, regHost)
	if err != nil {
		return err
	}
	if err := reg.ping(ctx); err != nil {
		return err
	}

	// (b) A clean git tree; the commit pushed.
	commit, dirty, err := gitrepo.State(p.WorkingDir)
	switch {
	case err != nil && !opts.allowDirty:
		return exitcode.With(exitcode.Refused, fmt.Errorf("%v\nPush from a git work tree, so that the image matches a commit, or use --allow-dirty", err))
	case len(dirty) > 0 && !opts.allowDirty:
		return exitcode.With(exitcode.Refused, fmt.Errorf("the git tree of %s has uncommitted or untracked files:\n  %s\nCommit (or remove) them first, so that the image matches a commit, or use --allow-dirty", p.WorkingDir, strings.Join(dirty, "\n  ")))
	}
	report.Commit = commit
	report.Dirty = len(dirty) > 0

	// (c) Without --build: every image exists locally and is no test build.
	if !opts.build {
		if err := checkLocalImages(ctx, dockerCli, targets, false); err != nil {
			return err
		}
	}
	for _, t := range targets {
		report.Images = append(report.Images, pushedImage{Service: t.Service, Image: t.Image})
	}
	if opts.dryRun {
		report.Result = "dry run: nothing built or pushed"
		return report.print(dockerCli.Out(), opts.format)
	}

	pp := pushProject(p, targets)
	if opts.build {
		// The whole project, as 'docker compose build SERVICE...' has it
		// (additional contexts may name other services); only the targets
		// are built.
		if err := backend.Build(ctx, p, api.BuildOptions{Services: pp.ServiceNames()}); err != nil {
			return exitcode.With(exitcode.Failed, fmt.Errorf("build failed: %w\nFix the Dockerfile or the build context, then run 'docker picatest push --build' again", err))
		}
		// A base image built by a test passes its labels on: check again.
		if err := checkLocalImages(ctx, dockerCli, targets, true); err != nil {
			return err
		}
	}
	if err := backend.Push(ctx, pp, api.PushOptions{}); err != nil {
		return exitcode.With(exitcode.Failed, fmt.Errorf("push to %s failed: %w\nCheck the registry ('docker login %s') and run 'docker picatest push' again; the images already uploaded are complete and can be pushed again safely", settings.Registry, err, regHost))
	}
	for i, t := range targets {
		digest, err := imageDigest(ctx, dockerCli, reg, t)
		if err != nil {
			return exitcode.With(exitcode.Failed, fmt.Errorf("%s was pushed but its digest cannot be read: %w", t.Image, err))
		}
		report.Images[i].Digest = digest
	}
	report.Result = "pushed"
	return report.print(dockerCli.Out(), opts.format)
}

// pushProject restricts p to the targets. Only each service's image is
// pushed: extra build tags, which may name other registries, are dropped.
func pushProject(p *types.Project, targets []pushTarget) *types.Project {
	pp := *p
	pp.Services = types.Services{}
	for _, t := range targets {
		s := p.Services[t.Service]
		b := *s.Build
		b.Tags = nil
		s.Build = &b
		pp.Services[t.Service] = s
	}
	pp.DisabledServices = nil
	return &pp
}

// checkLocalImages refuses a target image built by a test (exit 3) and,
// unless built reports that --build just built them, a missing one (exit 1).
func checkLocalImages(ctx context.Context, dockerCli command.Cli, targets []pushTarget, built bool) error {
	c := dockerCli.Client()
	for _, t := range targets {
		img, err := c.ImageInspect(ctx, t.Image)
		if err != nil {
			if cerrdefs.IsNotFound(err) {
				if built {
					return exitcode.With(exitcode.Failed, fmt.Errorf("image %s (service %s) is missing after the build", t.Image, t.Service))
				}
				return exitcode.With(exitcode.Failed, fmt.Errorf("image %s (service %s) does not exist locally: run 'docker picatest push --build' to build it from the committed project", t.Image, t.Service))
			}
			return err
		}
		if img.Config != nil && img.Config.Labels[testlabels.TestBuild] == "true" {
			if built {
				return exitcode.With(exitcode.Refused, fmt.Errorf("image %s (service %s) was rebuilt but still carries the label %s=true, inherited from its base image: rebuild the base image without 'docker picatest up' first", t.Image, t.Service, testlabels.TestBuild))
			}
			return exitcode.With(exitcode.Refused, fmt.Errorf("image %s (service %s) was built by a test (label %s=true) and is never pushed: run 'docker picatest push --build' to rebuild it from the untransformed project", t.Image, t.Service, testlabels.TestBuild))
		}
	}
	return nil
}

// imageDigest returns the digest of a pushed image: the registry's own
// (Docker-Content-Digest of its manifest), else the engine's RepoDigests.
func imageDigest(ctx context.Context, dockerCli command.Cli, reg *registryClient, t pushTarget) (string, error) {
	tagged := reference.TagNameOnly(t.named)
	tag := "latest"
	if tg, ok := tagged.(reference.Tagged); ok {
		tag = tg.Tag()
	}
	digest, regErr := reg.manifestDigest(ctx, reference.Path(t.named), tag)
	if regErr == nil {
		return digest, nil
	}
	img, err := dockerCli.Client().ImageInspect(ctx, t.Image)
	if err != nil {
		return "", errors.Join(regErr, err)
	}
	for _, rd := range img.RepoDigests {
		if name, d, ok := strings.Cut(rd, "@"); ok && name == t.named.Name() {
			return d, nil
		}
	}
	return "", regErr
}

// pushReport is what push prints, as text or as one JSON document.
type pushReport struct {
	Project  string        `json:"project"`
	Registry string        `json:"registry"`
	Result   string        `json:"result"`
	DryRun   bool          `json:"dry_run"`
	Build    bool          `json:"build"`
	Commit   string        `json:"commit,omitempty"`
	Dirty    bool          `json:"dirty,omitempty"`
	Images   []pushedImage `json:"images"`
	Skipped  []pushSkip    `json:"skipped"`
}

type pushedImage struct {
	Service string `json:"service"`
	Image   string `json:"image"`
	Digest  string `json:"digest,omitempty"`
}

func (r *pushReport) print(w io.Writer, format string) error {
	if format == "json" {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	}
	var b strings.Builder
	commit := r.Commit
	if commit == "" {
		commit = "none"
	}
	if r.Dirty {
		commit += " (with uncommitted changes, --allow-dirty)"
	}
	switch {
	case len(r.Images) == 0:
		fmt.Fprintf(&b, "Nothing to push to %s in project %s.\n", r.Registry, r.Project)
	case r.DryRun:
		fmt.Fprintf(&b, "Would push to %s (dry run: nothing built or pushed), project %s, commit %s:\n", r.Registry, r.Project, commit)
	default:
		fmt.Fprintf(&b, "Pushed to %s, project %s, commit %s:\n", r.Registry, r.Project, commit)
	}
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	if len(r.Images) > 0 {
		fmt.Fprintln(tw, "SERVICE\tIMAGE\tDIGEST")
		for _, i := range r.Images {
			d := i.Digest
			if d == "" {
				d = "-"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\n", i.Service, i.Image, d)
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(r.Skipped) > 0 {
		if len(r.Images) > 0 {
			b.WriteString("\n")
		}
		fmt.Fprintln(tw, "SKIPPED\tIMAGE\tREASON")
		for _, s := range r.Skipped {
			img := s.Image
			if img == "" {
				img = "-"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\n", s.Service, img, s.Reason)
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := io.WriteString(w, b.String())
	return err
}
