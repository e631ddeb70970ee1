package plugin

import (
	"context"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/docker/cli/cli/command"
	"github.com/docker/cli/cli/streams"
	"github.com/spf13/cobra"

	"github.com/picasoft/docker-picatest/internal/exitcode"
	"github.com/picasoft/docker-picatest/internal/lint"
)

type checkCmdOptions struct {
	format string
}

func newCheckCommand(dockerCli command.Cli, newBackend BackendFunc, root *rootOptions) *cobra.Command {
	opts := checkCmdOptions{}
	cmd := &cobra.Command{
		Use:   "check [OPTIONS]",
		Short: "Review the service folder against Picasoft's conventions, without an engine",
		Long: `Reviews the Compose project statically (no engine, no transform) against the
conventions of the service folders:
  - every image has an explicit tag other than "latest";
  - a service with build has an image named under the home registry;
  - every secrets file (a *.secrets file, or a file with a .example sibling)
    has a .example, and the real one is ignored by git, never tracked;
  - every Traefik-routed service has a healthcheck in the Compose file;
  - Traefik rules are on the production domain (a test URL is an error);
  - traefik.docker.network names a network of the service, and a routed
    service is on an external network;
  - a router without a service of its own in a service exposing several
    ports names the port (Traefik would guess the lowest);
  - when the engine answers: no running container of another project
    defines a router of the same name (Traefik drops such a router).
Each finding has a severity (error or warning), the Compose file and line
(of the file that defines it: an include:d file, an extends: base), a rule
and a hint. The text output is a table, as linters print:
severity, file:line, rule, message, each hint on its own line under the
location, wrapped to the terminal's width; --format json gives the same
findings as one document.

Exit codes: 0 no error (warnings allowed), 1 at least one error, 2 invalid
input (flags, Compose file), 130 interrupted. Never 3: check needs no engine
(it only lists the containers when the engine answers) and changes nothing.`,
		Example: `  docker picatest check
  docker picatest check --format json
  docker picatest -f compose.yml -f compose.override.yml check`,
		Args: noArgs,
		RunE: adapt(func(ctx context.Context, args []string) error {
			if err := opts.validate(); err != nil {
				return err
			}
			return runCheck(ctx, dockerCli, newBackend, root, opts)
		}),
	}
	cmd.Flags().StringVar(&opts.format, "format", "text", "Format of the findings. Values: [text | json]")
	return cmd
}

// validate checks the flag values.
func (o checkCmdOptions) validate() error {
	if err := checkFormat(o.format, "text", "json"); err != nil {
		return err
	}
	return nil
}

// checkReport is the JSON document of check --format json.
type checkReport struct {
	Project  string         `json:"project"`
	Errors   int            `json:"errors"`
	Warnings int            `json:"warnings"`
	Findings []lint.Finding `json:"findings"`
}

func runCheck(ctx context.Context, dockerCli command.Cli, newBackend BackendFunc, root *rootOptions, opts checkCmdOptions) error {
	backend, err := newBackend(dockerCli, root.Progress)
	if err != nil {
		return err
	}
	p, err := root.loadPushProject(ctx, backend)
	if err != nil {
		return err
	}
	s, err := root.resolveSettings(p.WorkingDir)
	if err != nil {
		return err
	}
	findings := lint.RunWith(p, s, lint.RepoGit{}, routingFacts(ctx, backend, p.Name))

	report := checkReport{Project: p.Name, Findings: findings}
	if report.Findings == nil {
		report.Findings = []lint.Finding{}
	}
	for _, f := range findings {
		if f.Severity == lint.Error {
			report.Errors++
		} else {
			report.Warnings++
		}
	}
	if opts.format == "json" {
		if err := writeJSON(dockerCli.Out(), report); err != nil {
			return err
		}
	} else {
		printCheckText(dockerCli.Out(), report, terminalWidth(dockerCli.Out()))
	}
	if report.Errors > 0 {
		return exitcode.With(exitcode.Failed, fmt.Errorf("check found %s in project %s: fix them, then run 'docker picatest check' again", plural(report.Errors, "error"), p.Name))
	}
	return nil
}

// printCheckText prints the findings as a table, as linters do: severity,
// file:line, rule and message, the hint on its own line under the
// location. width is the terminal's (0: not a terminal): the messages and
// hints are wrapped to it, unless the message column would be too narrow.
func printCheckText(w io.Writer, r checkReport, width int) {
	if len(r.Findings) == 0 {
		fmt.Fprintf(w, "project %s: no findings, it follows the conventions\n", r.Project)
		return
	}
	rows := [][3]string{{"SEVERITY", "LOCATION", "RULE"}}
	for _, f := range r.Findings {
		loc := f.File
		if f.Line > 0 {
			loc = fmt.Sprintf("%s:%d", f.File, f.Line)
		}
		rows = append(rows, [3]string{f.Severity, loc, f.Rule})
	}
	var cols [3]int
	for _, row := range rows {
		for i, cell := range row {
			cols[i] = max(cols[i], utf8.RuneCountInString(cell))
		}
	}
	pad := func(s string, n int) string { return s + strings.Repeat(" ", n-utf8.RuneCountInString(s)) }
	hintAt := cols[0] + 2 // under the location
	msgAt := hintAt + cols[1] + 2 + cols[2] + 2
	for i, row := range rows {
		msg := "MESSAGE"
		if i > 0 {
			msg = r.Findings[i-1].Message
		}
		lines := wrapWords(msg, width-msgAt)
		fmt.Fprintf(w, "%s  %s  %s  %s\n", pad(row[0], cols[0]), pad(row[1], cols[1]), pad(row[2], cols[2]), lines[0])
		for _, l := range lines[1:] {
			fmt.Fprintf(w, "%s%s\n", strings.Repeat(" ", msgAt), l)
		}
		if i == 0 || r.Findings[i-1].Hint == "" {
			continue
		}
		const label = "hint: "
		lines = wrapWords(r.Findings[i-1].Hint, width-hintAt-len(label))
		fmt.Fprintf(w, "%s%s%s\n", strings.Repeat(" ", hintAt), label, lines[0])
		for _, l := range lines[1:] {
			fmt.Fprintf(w, "%s%s\n", strings.Repeat(" ", hintAt+len(label)), l)
		}
	}
	fmt.Fprintf(w, "project %s: %s, %s\n", r.Project, plural(r.Errors, "error"), plural(r.Warnings, "warning"))
}

// minWrap is the narrowest column printCheckText wraps text to: narrower,
// the text is left on one line for the terminal to fold.
const minWrap = 30

// wrapWords cuts s into lines of at most width characters at spaces (a
// longer word stays whole); a width under minWrap leaves s on one line.
func wrapWords(s string, width int) []string {
	if width < minWrap || utf8.RuneCountInString(s) <= width {
		return []string{s}
	}
	var lines []string
	line := ""
	for _, word := range strings.Fields(s) {
		switch {
		case line == "":
			line = word
		case utf8.RuneCountInString(line)+1+utf8.RuneCountInString(word) <= width:
			line += " " + word
		default:
			lines = append(lines, line)
			line = word
		}
	}
	return append(lines, line)
}

// terminalWidth is the width of the terminal out writes to, 0 when it is
// not a terminal (a pipe, a file: lines are left whole).
func terminalWidth(out *streams.Out) int {
	if !out.IsTerminal() {
		return 0
	}
	_, width := out.GetTtySize()
	return int(width)
}
