package plugin

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/docker/cli/cli/command"
	"github.com/docker/compose/v5/pkg/api"
	"github.com/moby/moby/client"
	"github.com/spf13/cobra"

	"github.com/picasoft/docker-picatest/internal/exitcode"
	"github.com/picasoft/docker-picatest/internal/push"
	"github.com/picasoft/docker-picatest/internal/record"
	"github.com/picasoft/docker-picatest/internal/testproject"
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
  2. every file the builds read is committed: the project folder, the
     Compose files, each build context and Dockerfile, inside or outside
     the folder (an uncommitted or untracked file refuses the push, naming
     it; a context outside the project's git work tree too; --allow-dirty
     opts out);
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
	if err := checkFormat(o.format, "text", "json"); err != nil {
		return err
	}
	return nil
}

func runPush(ctx context.Context, dockerCli command.Cli, newBackend BackendFunc, root *rootOptions, opts pushOptions, services []string) error {
	backend, err := newBackend(dockerCli, root.Progress)
	if err != nil {
		return err
	}
	p, s, inferred, err := testproject.LoadToPush(ctx, backend, root.composeOptions())
	if err != nil {
		return err
	}
	for _, name := range services {
		if _, ok := p.Services[name]; !ok {
			return exitcode.Invalidf("no such service: %s\nThe services of project %s are: %s.", name, p.Name, serviceNames(p))
		}
	}
	targets, skipped := push.SelectTargets(p, s.Registry, services)
	report := newPushReport(p.Name, s.Registry, opts, skipped)
	report.Inferred = inferredBuilds(inferred)
	if len(targets) == 0 {
		report.Result = "nothing to push"
		return report.print(dockerCli.Out(), opts.format)
	}

	// Preflight: credentials, clean tree, no test build.
	images := cliImages{dockerCli}
	pre, err := push.Check(ctx, dockerCli.ConfigFile(), images, targets, push.Options{
		Registry: s.Registry, Dir: p.WorkingDir, Inputs: record.Inputs(p), AllowDirty: opts.allowDirty, Build: opts.build,
	})
	if err != nil {
		return err
	}
	report.Commit, report.Dirty = pre.Commit, pre.Dirty
	for _, t := range targets {
		report.Images = append(report.Images, pushedImage{Service: t.Service, Image: t.Image})
	}
	if opts.dryRun {
		report.Result = "dry run: nothing built or pushed"
		return report.print(dockerCli.Out(), opts.format)
	}

	// Build.
	pp := push.Project(p, targets)
	if opts.build {
		if err := pushBuild(ctx, backend, images, p, pp, targets); err != nil {
			return err
		}
	}

	// Upload.
	if err := backend.Push(ctx, pp, api.PushOptions{}); err != nil {
		regHost, _, _ := strings.Cut(s.Registry, "/")
		return exitcode.With(exitcode.Failed, fmt.Errorf("push to %s failed: %w\nCheck the registry ('docker login %s') and run 'docker picatest push' again; the images already uploaded are complete and can be pushed again safely", s.Registry, err, regHost))
	}

	// Report.
	for i, t := range targets {
		digest, err := push.Digest(ctx, images, pre.Registry, t)
		if err != nil {
			return exitcode.With(exitcode.Failed, fmt.Errorf("%s was pushed but its digest cannot be read: %w", t.Image, err))
		}
		report.Images[i].Digest = digest
	}
	report.Result = "pushed"
	return report.print(dockerCli.Out(), opts.format)
}

// pushBuild builds the targets from the untransformed project p. The whole
// project is given, as 'docker compose build SERVICE...' has it
// (additional contexts may name other services); only the targets of pp
// are built.
func pushBuild(ctx context.Context, backend Backend, images push.ImageInspector, p, pp *types.Project, targets []push.Target) error {
	if err := backend.Build(ctx, p, api.BuildOptions{Services: pp.ServiceNames()}); err != nil {
		return exitcode.With(exitcode.Failed, fmt.Errorf("build failed: %w\nFix the Dockerfile or the build context, then run 'docker picatest push --build' again", err))
	}
	// A base image built by a test passes its labels on: check again.
	return push.CheckLocalImages(ctx, images, targets, true)
}

// newPushReport is the report of a push with no image yet.
func newPushReport(project, registry string, opts pushOptions, skipped []push.Skip) *pushReport {
	if skipped == nil {
		skipped = []push.Skip{}
	}
	return &pushReport{Project: project, Registry: registry, DryRun: opts.dryRun, Build: opts.build,
		Images: []pushedImage{}, Skipped: skipped}
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
	Skipped  []push.Skip   `json:"skipped"`
	// Inferred are the services built as the procedure builds them (no
	// build section in the Compose file).
	Inferred []string `json:"inferred_builds,omitempty"`
}

type pushedImage struct {
	Service string `json:"service"`
	Image   string `json:"image"`
	Digest  string `json:"digest,omitempty"`
}

func (r *pushReport) print(w io.Writer, format string) error {
	if format == "json" {
		return writeJSON(w, r)
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
	for _, line := range inferredLines(r.Inferred) {
		b.WriteString(line + "\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// cliImages inspects images with the engine client of the docker CLI,
// created only when an image is inspected: push checks the registry
// credentials first, without an engine.
type cliImages struct{ dockerCli command.Cli }

func (c cliImages) ImageInspect(ctx context.Context, image string, opts ...client.ImageInspectOption) (client.ImageInspectResult, error) {
	return c.dockerCli.Client().ImageInspect(ctx, image, opts...)
}
