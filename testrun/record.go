package testrun

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/docker/compose/v5/pkg/api"
	"github.com/moby/moby/client"

	"github.com/picasoft/docker-picatest/internal/exitcode"
	"github.com/picasoft/docker-picatest/internal/gitrepo"
	"github.com/picasoft/docker-picatest/internal/record"
	"github.com/picasoft/docker-picatest/transforms/testlabels"
)

// recordTimeout bounds the write of a test record, which runs with a
// context of its own: after Ctrl-C the command's is cancelled.
const recordTimeout = 30 * time.Second

// recorder writes the test record of one run (internal/record), once:
// what was tested is read before the build, the images and the verdict
// when the test ends.
type recorder struct {
	engine client.APIClient
	rec    record.Record
	build  []string // the services built, whose images the record keeps
	names  map[string]string
	// dockerfiles are the Dockerfiles of the services built, whose base
	// image's layers the record counts.
	dockerfiles map[string]string
	log         io.Writer
	phase       func(format string, args ...any)
	done        bool
}

// newRecorder reads what run is about to test: the commit, whether the
// files the builds read are committed, and their content.
func newRecorder(ctx context.Context, run *Run) *recorder {
	p := run.p
	t := &recorder{engine: run.engine, build: run.plan.Build, names: map[string]string{}, dockerfiles: map[string]string{}, log: run.opts.Log, phase: run.phase}
	base := run.tp.Before.Name
	t.rec = record.Record{
		Project: base, Instance: strings.TrimPrefix(strings.TrimPrefix(p.Name, base), "-"),
		Owner: testlabels.CurrentOwner(), Time: time.Now().UTC(),
	}
	t.rec.Host, _ = os.Hostname()
	if info, err := run.engine.Info(ctx, client.InfoOptions{}); err == nil {
		t.rec.Daemon = info.Info.Name
	}
	for _, name := range run.plan.Build {
		t.names[name] = api.GetImageNameOrDefault(p.Services[name], p.Name)
		t.dockerfiles[name] = record.Dockerfile(p, name)
	}
	for _, f := range run.tp.BuildContexts.Files() {
		t.rec.Rewritten = append(t.rec.Rewritten, record.Rewrite{Services: f.Services, Path: f.Path})
	}
	content, commit, clean, err := testedContent(p.WorkingDir, record.Inputs(p))
	if err != nil {
		fmt.Fprintf(t.log, "picatest: warning: the test record cannot say what was tested (push will not rely on it): %v\n", err)
	}
	t.rec.Commit, t.rec.Clean, t.rec.Content, t.rec.Files = commit, clean, content.Hash, content.Files
	return t
}

// testedContent is the content of inputs as the test reads it: the
// commit's files when they are all committed, else the working files.
func testedContent(dir string, inputs []string) (content record.Content, commit string, clean bool, err error) {
	root := gitrepo.Root(dir)
	if root == "" {
		// Not in git: nothing to push from either (push refuses it).
		return content, "", false, nil
	}
	commit = gitrepo.Run(dir, "rev-parse", "--verify", "--quiet", "HEAD")
	dirty, err := gitrepo.Dirty(inputs)
	if err != nil {
		return content, commit, false, err
	}
	if commit != "" && len(dirty) == 0 {
		content, err = record.CommitContent(root, commit, inputs)
		return content, commit, true, err
	}
	content, err = record.WorkingContent(root, inputs)
	return content, commit, false, err
}

// finish writes the record with the verdict of testErr (nil: passed),
// once; a failure to write is a warning, not the test's failure.
func (t *recorder) finish(ctx context.Context, testErr error) {
	if t == nil || t.done {
		return
	}
	t.done = true
	switch {
	case testErr == nil:
		t.rec.Verdict = record.Passed
	case errors.Is(testErr, context.Canceled) || exitcode.Of(testErr) == exitcode.Interrupted:
		t.rec.Verdict = record.Interrupted
	default:
		t.rec.Verdict = record.Failed
		t.rec.Reason, _, _ = strings.Cut(testErr.Error(), "\n")
	}
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
	defer cancel()
	for _, name := range t.build {
		img, err := record.ReadImage(wctx, t.engine, name, t.names[name])
		if err == nil {
			img.Base = record.BaseLayers(wctx, t.engine, t.dockerfiles[name])
			t.rec.Images = append(t.rec.Images, img)
		}
	}
	if err := record.Write(wctx, t.engine, t.rec); err != nil {
		fmt.Fprintf(t.log, "picatest: warning: %v\n", err)
		return
	}
	t.phase("record: test %s of commit %s kept on the daemon as %s (see 'docker picatest status')", t.rec.Verdict, shortOr(t.rec.ShortCommit()), record.Repository(t.rec.Project))
}

func shortOr(s string) string {
	if s == "" {
		return "none"
	}
	return s
}
