package push

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/picasoft/docker-picatest/internal/exitcode"
	"github.com/picasoft/docker-picatest/internal/gitrepo"
	"github.com/picasoft/docker-picatest/internal/record"
)

// Untested is what the report says of an image pushed with --untested.
const Untested = "UNTESTED (--untested): no passing test of this content was required"

// RecordReader reads the test records on the daemon.
type RecordReader interface {
	record.Engine
}

// FindTest returns the test push relies on (SPEC §7): the last test on
// this daemon of project whose tested content is content (a test of this
// commit from a clean tree, or of uncommitted files exactly as they were
// then committed), if it passed. Otherwise it refuses (exit 3), saying
// why (never tested, last test failed, tested on other content, naming
// the files that differ when the records tell) and what to do next.
func FindTest(ctx context.Context, c RecordReader, project string, content record.Content, commit string, now time.Time) (*record.Record, error) {
	next := "Run 'docker picatest up' on this commit and push once it passes (or push with --untested, and the report says UNTESTED)"
	if content.Hash == "" {
		return nil, exitcode.With(exitcode.Refused, fmt.Errorf("the content of commit %s cannot be read from git: push cannot find the test it relies on\n%s", short(commit), next))
	}
	rec, err := record.OfContent(ctx, c, project, content.Hash)
	if err != nil {
		return nil, err
	}
	if rec == nil {
		last, err := record.Last(ctx, c, project)
		if err != nil {
			return nil, err
		}
		if last == nil {
			return nil, exitcode.With(exitcode.Refused, fmt.Errorf("project %s was never tested on this daemon (no test record)\n%s", project, next))
		}
		msg := fmt.Sprintf("commit %s of project %s was never tested on this daemon: the last test (%s) tested other content", short(commit), project, last.Summary(now))
		if last.Files != nil {
			if diff := record.Diff(last.Files, content.Files); len(diff) > 0 {
				msg += ": files that differ: " + strings.Join(limit(diff, 10), ", ")
			}
		}
		return nil, exitcode.With(exitcode.Refused, fmt.Errorf("%s\n%s", msg, next))
	}
	if !rec.Passed() {
		return rec, exitcode.With(exitcode.Refused, fmt.Errorf("the last test of commit %s of project %s did not pass: %s\nFix it, run 'docker picatest up' again and push once it passes (or push with --untested, and the report says UNTESTED)", short(commit), project, rec.Summary(now)))
	}
	return rec, nil
}

// CheckLayers compares img, about to be pushed for service, with the
// image the test rec built, and returns what the report says of it
// ("tested OK 5m ago on host by alice, commit abc, same layers"), or a
// refusal (exit 3) naming the layers that differ by their Dockerfile step.
func CheckLayers(rec *record.Record, img record.Image, now time.Time) (string, error) {
	tested := rec.Image(img.Service)
	if tested == nil {
		return "", exitcode.With(exitcode.Refused, fmt.Errorf("service %s was not built by the test it relies on (%s): nothing to compare %s with\nRun 'docker picatest up' with every service (no service names), then push", img.Service, rec.Summary(now), img.Image))
	}
	v := record.CompareLayers(*tested, img, rec.RewrittenFor(img.Service))
	if !v.OK() {
		return "", exitcode.With(exitcode.Refused, fmt.Errorf("image %s (service %s, %s) is not the one tested: its layers differ from those of the tested image %s for another reason than the test URLs:\n  %s\nBuild from the tested commit ('docker picatest push --build'), or test what you push ('docker picatest up')", img.Image, img.Service, shortID(img.ID), shortID(tested.ID), strings.Join(v.Other, "\n  ")))
	}
	layers := "same layers"
	if !v.Same {
		layers = "layers differ only by the test URLs (" + strings.Join(v.TestOnly, "; ") + ")"
	}
	return TestedOK(rec, now) + ", " + layers, nil
}

// TestedOK is "tested OK 5m ago on host by alice, commit abc".
func TestedOK(rec *record.Record, now time.Time) string {
	s := "tested OK " + now.Sub(rec.Time).Round(time.Second).String() + " ago"
	if rec.Daemon != "" {
		s += " on " + rec.Daemon
	}
	s += " by " + rec.Owner + ", commit " + rec.ShortCommit()
	if !rec.Clean {
		s += " (from uncommitted files, identical to this commit's)"
	}
	return s
}

func limit(l []string, n int) []string {
	if len(l) <= n {
		return l
	}
	return append(l[:n:n], fmt.Sprintf("and %d more", len(l)-n))
}

func shortID(id string) string {
	id = strings.TrimPrefix(id, "sha256:")
	if len(id) > 12 {
		return id[:12]
	}
	return id
}

// Content is the content push builds from: the files of commit under
// inputs, or, from a dirty tree (--allow-dirty), the working files.
func Content(dir, commit string, dirty bool, inputs []string) (record.Content, error) {
	root := gitrepo.Root(dir)
	if root == "" || commit == "" {
		return record.Content{}, nil
	}
	if dirty {
		return record.WorkingContent(root, inputs)
	}
	return record.CommitContent(root, commit, inputs)
}
