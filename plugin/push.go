package plugin

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/docker/cli/cli/command"
	"github.com/docker/compose/v5/pkg/api"
	"github.com/moby/moby/client"
	"github.com/spf13/cobra"

	"github.com/picasoft/docker-picatest/internal/exitcode"
	"github.com/picasoft/docker-picatest/internal/push"
	"github.com/picasoft/docker-picatest/internal/record"
	"github.com/picasoft/docker-picatest/internal/registry"
	"github.com/picasoft/docker-picatest/internal/safety"
	"github.com/picasoft/docker-picatest/internal/testproject"
	"github.com/picasoft/docker-picatest/transforms/inferbuild"
)

type pushOptions struct {
	build      bool
	allowDirty bool
	dryRun     bool
	untested   bool
	breakLock  bool
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
Then push uploads only what passed a test (every 'docker picatest up'
leaves a test record on the daemon, see 'docker picatest status'), holding
the project's lock (as up and down take it):
  4. the last test on this daemon of the content of this commit (the
     Compose files, the folder, every build context and Dockerfile: a test
     of this commit from a clean tree, or of uncommitted files exactly as
     they were then committed) passed; never tested, failed or tested on
     other content (the files that differ named) is refused;
  5. each image to push has the filesystem layers of the tested image, or
     differs only in layers that copy the files rewritten for the test
     (test URLs); another difference is refused, naming the Dockerfile step.
Each image is uploaded by the ID checked (its name tagged on that ID just
before the upload). --untested skips 4 and 5 and the report says UNTESTED.

--build rebuilds the images from the untransformed project (no test URLs,
no example secrets, no test labels), exactly as 'docker compose build' does,
once 4 passed. The report lists each image pushed with its digest and the
test it relies on ("tested OK 5m ago on <daemon> by <owner>, commit <sha>,
same layers"), and the commit pushed.

--dry-run runs the same read-only checks and shows the same verdicts
(with --build, the layers are compared only after a real build); it
builds nothing and uploads nothing.

Exit codes: 0 pushed, 1 failed (not logged in, registry unreachable, image
missing, upload failed), 2 invalid input, 3 refused by a safety rule (dirty
tree, test build, not tested, other layers, project locked), 130
interrupted.`,
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
	f.BoolVar(&opts.untested, "untested", false, "Push without a passing test of this commit on this daemon (the report says UNTESTED)")
	f.BoolVar(&opts.breakLock, "break-lock", false, "Break the lock of the project held by a command that no longer runs (its machine restarted or gone)")
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
	report.Inferred = inferbuild.Services(inferred)
	if len(targets) == 0 {
		report.Result = "nothing to push"
		return report.print(dockerCli.Out(), opts.format)
	}

	// Preflight: credentials, clean tree, no test build.
	images := cliImages{dockerCli}
	inputs := record.Inputs(p)
	pre, err := push.Check(ctx, dockerCli.ConfigFile(), images, targets, push.Options{
		Registry: s.Registry, Dir: p.WorkingDir, Inputs: inputs, AllowDirty: opts.allowDirty, Build: opts.build,
	})
	if err != nil {
		return err
	}
	report.Commit, report.Dirty, report.Untested = pre.Commit, pre.Dirty, opts.untested
	for _, t := range targets {
		report.Images = append(report.Images, pushedImage{Service: t.Service, Image: t.Image})
	}
	engine := dockerCli.Client()

	// The project's lock, held while push checks and uploads: no up
	// replaces the images meanwhile. A dry run changes nothing.
	if !opts.dryRun {
		release, err := safety.LockProject(ctx, engine, p.Name, safety.CommandLine(), opts.breakLock, dockerCli.Err())
		if err != nil {
			return err
		}
		defer release()
	}

	// The test this commit passed (SPEC §7).
	now := time.Now()
	rec, err := passedTest(ctx, engine, dockerCli.Out(), p, pre, inputs, report, now, opts)
	if err != nil {
		return err
	}

	// Build.
	pp := push.Project(p, targets)
	if opts.build && !opts.dryRun {
		if err := pushBuild(ctx, backend, images, p, pp, targets); err != nil {
			return err
		}
	}

	// The images pushed are the tested ones.
	ids, err := testedImages(ctx, engine, dockerCli.Out(), p, targets, report, rec, now, opts)
	if err != nil {
		return err
	}
	if opts.dryRun {
		report.Result = "dry run: nothing built or pushed"
		return report.print(dockerCli.Out(), opts.format)
	}

	if err := upload(ctx, engine, backend, images, pre.Registry, pp, targets, ids, report); err != nil {
		return err
	}
	report.Result = "pushed"
	return report.print(dockerCli.Out(), opts.format)
}

// passedTest is the record of the test that the commit of pre passed
// (SPEC §7), nil with --untested; a refusal is printed on out.
func passedTest(ctx context.Context, engine client.APIClient, out io.Writer, p *types.Project, pre *push.Preflight, inputs []string, report *pushReport, now time.Time, opts pushOptions) (*record.Record, error) {
	if opts.untested {
		return nil, nil
	}
	content, err := push.Content(p.WorkingDir, pre.Commit, pre.Dirty, inputs)
	if err != nil {
		return nil, err
	}
	rec, err := push.FindTest(ctx, engine, p.Name, content, pre.Commit, now)
	if err != nil {
		return nil, report.refuse(out, opts.format, err)
	}
	return rec, nil
}

// testedImages reads the image of each target and checks that its layers
// are those of the test of rec (SPEC §7; none with --untested), saying so
// in report, and returns their IDs; a refusal is printed on out. A dry run
// with --build says what it will compare after the build.
func testedImages(ctx context.Context, engine client.APIClient, out io.Writer, p *types.Project, targets []push.Target, report *pushReport, rec *record.Record, now time.Time, opts pushOptions) ([]string, error) {
	ids := make([]string, len(targets))
	for i, t := range targets {
		im := &report.Images[i]
		if opts.dryRun && opts.build {
			im.Test = "not built yet (dry run): layers compared after the build"
			if rec != nil {
				im.Test = push.TestedOK(rec, now) + "; " + im.Test
			} else {
				im.Test = push.Untested + "; " + im.Test
			}
			continue
		}
		img, err := record.ReadImage(ctx, engine, t.Service, t.Image)
		if err != nil {
			return nil, exitcode.With(exitcode.Failed, fmt.Errorf("cannot read the image %s (service %s): %w", t.Image, t.Service, err))
		}
		img.Base = record.BaseLayers(ctx, engine, record.Dockerfile(p, t.Service))
		ids[i], im.ID = img.ID, img.ID
		if opts.untested {
			im.Test = push.Untested
			continue
		}
		text, err := push.CheckLayers(rec, img, now)
		if err != nil {
			return nil, report.refuse(out, opts.format, err)
		}
		im.Test = text
	}
	return ids, nil
}

// upload uploads the images checked (ids) of pp to reg: each name is
// tagged on the ID checked right before the upload, under the lock; then
// it reads their digests into report.
func upload(ctx context.Context, engine client.APIClient, backend Backend, images push.ImageInspector, reg *registry.Client, pp *types.Project, targets []push.Target, ids []string, report *pushReport) error {
	for i, t := range targets {
		if _, err := engine.ImageTag(ctx, client.ImageTagOptions{Source: ids[i], Target: t.Image}); err != nil {
			return exitcode.With(exitcode.Failed, fmt.Errorf("cannot tag the checked image %s as %s: %w", ids[i], t.Image, err))
		}
	}
	if err := backend.Push(ctx, pp, api.PushOptions{}); err != nil {
		regHost, _, _ := strings.Cut(report.Registry, "/")
		return exitcode.With(exitcode.Failed, fmt.Errorf("push to %s failed: %w\nCheck the registry ('docker login %s') and run 'docker picatest push' again; the images already uploaded are complete and can be pushed again safely", report.Registry, err, regHost))
	}
	for i, t := range targets {
		if img, err := images.ImageInspect(ctx, t.Image); err == nil && img.ID != ids[i] {
			return exitcode.With(exitcode.Failed, fmt.Errorf("%s changed during the upload (now %s, checked %s): something else tagged it; check the registry and push again", t.Image, img.ID, ids[i]))
		}
		digest, err := push.Digest(ctx, images, reg, t)
		if err != nil {
			return exitcode.With(exitcode.Failed, fmt.Errorf("%s was pushed but its digest cannot be read: %w", t.Image, err))
		}
		report.Images[i].Digest = digest
	}
	return nil
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
	Project  string `json:"project"`
	Registry string `json:"registry"`
	Result   string `json:"result"`
	DryRun   bool   `json:"dry_run"`
	Build    bool   `json:"build"`
	Commit   string `json:"commit,omitempty"`
	Dirty    bool   `json:"dirty,omitempty"`
	// Untested: pushed with --untested, no test required.
	Untested bool `json:"untested,omitempty"`
	// Refused is why push refused (exit 3), the report printed before the
	// error.
	Refused string        `json:"refused,omitempty"`
	Images  []pushedImage `json:"images"`
	Skipped []push.Skip   `json:"skipped"`
	// Inferred are the services built as the procedure builds them (no
	// build section in the Compose file).
	Inferred []string `json:"inferred_builds,omitempty"`
}

type pushedImage struct {
	Service string `json:"service"`
	Image   string `json:"image"`
	// ID is the local image checked and uploaded.
	ID     string `json:"id,omitempty"`
	Digest string `json:"digest,omitempty"`
	// Test is the test the image relies on: "tested OK 5m ago on host by
	// alice, commit abc, same layers", or UNTESTED.
	Test string `json:"test,omitempty"`
}

// refuse prints the report with the refusal err (as JSON, the refusal in
// it; as text, the report only: the error follows on stderr) and returns
// err.
func (r *pushReport) refuse(w io.Writer, format string, err error) error {
	r.Result = "refused"
	r.Refused = err.Error()
	if perr := r.print(w, format); perr != nil {
		return errors.Join(err, perr)
	}
	return err
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
	case r.Refused != "":
		fmt.Fprintf(&b, "Refused to push to %s, project %s, commit %s:\n", r.Registry, r.Project, commit)
	case r.DryRun:
		fmt.Fprintf(&b, "Would push%s to %s (dry run: nothing built or pushed), project %s, commit %s:\n", untested(r.Untested), r.Registry, r.Project, commit)
	default:
		fmt.Fprintf(&b, "Pushed%s to %s, project %s, commit %s:\n", untested(r.Untested), r.Registry, r.Project, commit)
	}
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	if len(r.Images) > 0 {
		fmt.Fprintln(tw, "SERVICE\tIMAGE\tDIGEST\tTEST")
		for _, i := range r.Images {
			d := i.Digest
			if d == "" {
				d = "-"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", i.Service, i.Image, d, orDash(i.Test))
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

// untested is " UNTESTED" for a push with --untested.
func untested(u bool) string {
	if u {
		return " UNTESTED"
	}
	return ""
}

// cliImages inspects images with the engine client of the docker CLI,
// created only when an image is inspected: push checks the registry
// credentials first, without an engine.
type cliImages struct{ dockerCli command.Cli }

func (c cliImages) ImageInspect(ctx context.Context, image string, opts ...client.ImageInspectOption) (client.ImageInspectResult, error) {
	return c.dockerCli.Client().ImageInspect(ctx, image, opts...)
}
