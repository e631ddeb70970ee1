package plugin

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/docker/cli/cli/command"

	"github.com/picasoft/docker-picatest/internal/changed"
	"github.com/picasoft/docker-picatest/internal/exitcode"
	"github.com/picasoft/docker-picatest/internal/junit"
	"github.com/picasoft/docker-picatest/internal/termsafe"
	"github.com/picasoft/docker-picatest/testrun"
)

// This file holds up --changed: the ordinary up of each changed service
// folder in turn, then one combined report.

// changedReport is what up --changed prints at the end.
type changedReport struct {
	Since   string         `json:"since"`
	Why     string         `json:"why,omitempty"`
	Base    string         `json:"base"`
	Result  string         `json:"result"`
	Folders []folderResult `json:"folders"`
	Shared  []string       `json:"shared,omitempty"`
}

// folderResult is the outcome of one folder's up.
type folderResult struct {
	Folder   string          `json:"folder"`
	Files    []string        `json:"files"`
	Project  string          `json:"project,omitempty"`
	Result   string          `json:"result"`
	ExitCode int             `json:"exit_code"`
	Error    string          `json:"error,omitempty"`
	Report   json.RawMessage `json:"report,omitempty"`
	// detail is the one line of the text summary.
	detail string
}

func runChanged(ctx context.Context, dockerCli command.Cli, newBackend BackendFunc, root *rootOptions, opts upOptions) error {
	wd, err := os.Getwd()
	if err != nil {
		return err
	}
	ch, err := changed.Find(wd, opts.since)
	if err != nil {
		return exitcode.Invalidf("%v", err)
	}
	out := dockerCli.Out()
	if opts.dryRun {
		_, err := fmt.Fprint(out, renderChangedPlan(ch))
		return err
	}
	phase := phaseWriter(dockerCli.Err(), root.Progress)
	rep := changedReport{Since: ch.Since, Why: ch.Why, Base: ch.Base, Result: "ok", Folders: []folderResult{}, Shared: ch.Shared}
	var suites []junit.Suite
	worst := 0
	for i, f := range ch.Folders {
		phase("folder %s (%d/%d): up, for %s", f.Dir, i+1, len(ch.Folders), strings.Join(f.Files, ", "))
		if opts.format != "json" {
			if i > 0 {
				fmt.Fprintln(out)
			}
			fmt.Fprintf(out, "== %s ==\n", f.Dir)
		}
		res, suite, err := upFolder(ctx, dockerCli, newBackend, root, opts, filepath.Join(ch.Root, filepath.FromSlash(f.Dir)), f)
		if err != nil {
			return err
		}
		if opts.junit != "" {
			suites = append(suites, suite)
		}
		rep.Folders = append(rep.Folders, res)
		worst = max(worst, res.ExitCode)
		if ctx.Err() != nil {
			break // interrupted: the remaining folders are not tested
		}
	}
	root.masks.Set(nil)
	if worst != 0 {
		rep.Result = resultName(worst)
	}
	if opts.junit != "" {
		if err := writeJUnit(opts.junit, "docker picatest up --changed", suites...); err != nil {
			return err
		}
	}
	text, err := rep.render(opts.format)
	if err != nil {
		return err
	}
	if _, err := fmt.Fprint(out, text); err != nil {
		return err
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return rep.failed(worst)
}

// upFolder runs up in the service folder f (in dir) and returns its
// result and its JUnit suite; err is an error of the JSON report only:
// the folder's own failure is in its result.
func upFolder(ctx context.Context, dockerCli command.Cli, newBackend BackendFunc, root *rootOptions, opts upOptions, dir string, f changed.Folder) (folderResult, junit.Suite, error) {
	folderOpts := opts
	folderOpts.changed, folderOpts.junit, folderOpts.quiet = false, "", opts.format == "json"
	// Each folder is the project of its own directory: the masks of
	// the previous folder do not carry over.
	root.ProjectDir = dir
	root.masks.Set(nil)
	var fr *testrun.Report
	project, err := upProject(ctx, dockerCli, newBackend, root, folderOpts, nil, func(r *testrun.Report) error {
		fr = r
		return nil
	})
	m := root.masks.Get()
	res := folderResult{Folder: f.Dir, Files: f.Files, Project: project, ExitCode: exitcode.Of(err), Result: "ok"}
	switch {
	case fr != nil:
		res.Result = fr.Result
		res.detail = "healthy (" + fr.Duration + ")"
		if fr.Failure != nil {
			res.detail = fmt.Sprintf("service %s: %s", fr.Failure.Service, fr.Failure.Reason)
		}
		if opts.format == "json" {
			js, jerr := renderJSON(fr)
			if jerr != nil {
				return res, junit.Suite{}, jerr
			}
			masked, jerr := m.JSON([]byte(js))
			if jerr != nil {
				return res, junit.Suite{}, jerr
			}
			res.Report = json.RawMessage(masked)
		}
	case err != nil:
		res.Result = resultName(res.ExitCode)
	}
	if err != nil {
		res.Error = m.String(err.Error())
		if fr == nil {
			res.detail = firstLine(res.Error)
			// up alone would print it on exit: say it now, as it comes.
			fmt.Fprintf(dockerCli.Err(), "picatest: folder %s: %s\n", f.Dir, termsafe.Text(res.Error))
		}
	}
	res.detail = m.String(res.detail)
	var suite junit.Suite
	if opts.junit != "" {
		suite = upSuite(f.Dir, fr, err, opts.checks.NoSmoke, m)
	}
	return res, suite, nil
}

// failed is the error of up --changed whose worst exit code is worst (nil
// when all passed).
func (r changedReport) failed(worst int) error {
	if worst == 0 {
		return nil
	}
	var failed []string
	for _, f := range r.Folders {
		if f.ExitCode != 0 {
			failed = append(failed, f.Folder)
		}
	}
	return exitcode.With(worst, fmt.Errorf("%d of %d changed service folders did not pass: %s\nSee the report of each folder above; rerun one with 'docker picatest up' in its folder", len(failed), len(r.Folders), strings.Join(failed, ", ")))
}

// resultName is the result of a folder from its exit code.
func resultName(code int) string {
	switch code {
	case 0:
		return "ok"
	case exitcode.Failed:
		return "failed"
	case exitcode.Invalid:
		return "invalid"
	case exitcode.Refused:
		return "refused"
	case exitcode.Interrupted:
		return "interrupted"
	}
	return fmt.Sprintf("exit %d", code)
}

// sinceLine says what the changes are compared with.
func sinceLine(since, why, base string) string {
	s := "since " + since
	if why != "" {
		s += " (" + why + ")"
	}
	if len(base) >= 12 && !strings.HasPrefix(since, base) {
		s += ", commit " + base[:12]
	}
	return s
}

// renderChangedPlan is what up --changed --dry-run prints: the folders and
// their changed files.
func renderChangedPlan(ch changed.Changes) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Changed service folders %s (dry run: nothing is tested)\n", sinceLine(ch.Since, ch.Why, ch.Base))
	if len(ch.Folders) == 0 {
		b.WriteString("No service folder has a changed file: nothing to test\n")
	}
	for _, f := range ch.Folders {
		fmt.Fprintf(&b, "%s: would run 'docker picatest up' in %s, for its changed files:\n", f.Dir, filepath.Join(ch.Root, filepath.FromSlash(f.Dir)))
		for _, file := range f.Files {
			fmt.Fprintf(&b, "  %s\n", file)
		}
	}
	writeShared(&b, ch.Shared)
	return b.String()
}

func writeShared(b *strings.Builder, shared []string) {
	if len(shared) == 0 {
		return
	}
	b.WriteString("Changed outside every service folder (not tested: test the folders that use them by hand, or with up in each folder):\n")
	for _, f := range shared {
		fmt.Fprintf(b, "  %s\n", f)
	}
}

// render is the combined report as text or as one JSON document.
func (r changedReport) render(format string) (string, error) {
	if format == "json" {
		return renderJSON(r)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "\nChanged service folders %s:\n", sinceLine(r.Since, r.Why, r.Base))
	if len(r.Folders) == 0 {
		b.WriteString("No service folder has a changed file: nothing to test\n")
	} else {
		tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "FOLDER\tPROJECT\tRESULT\tDETAIL")
		for _, f := range r.Folders {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", f.Folder, orDash(f.Project), f.Result, termsafe.String(f.detail))
		}
		_ = tw.Flush()
	}
	writeShared(&b, r.Shared)
	passed := 0
	for _, f := range r.Folders {
		if f.ExitCode == 0 {
			passed++
		}
	}
	if r.Result == "ok" {
		fmt.Fprintf(&b, "OK: %d of %d changed service folders passed\n", passed, len(r.Folders))
	} else {
		fmt.Fprintf(&b, "FAILED: %d of %d changed service folders passed\n", passed, len(r.Folders))
	}
	return b.String(), nil
}
