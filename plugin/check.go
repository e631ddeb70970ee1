package plugin

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/docker/cli/cli/command"
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
    service is on an external network.
Each finding has a severity (error or warning), the Compose file and line,
and a hint.

Exit codes: 0 no error (warnings allowed), 1 at least one error, 2 invalid
input (flags, Compose file), 130 interrupted. Never 3: check needs no engine
and changes nothing.`,
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
	findings := lint.Run(p, s, lint.RepoGit{})

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
		printCheckText(dockerCli.Out(), report)
	}
	if report.Errors > 0 {
		return exitcode.With(exitcode.Failed, fmt.Errorf("check found %s in project %s: fix them, then run 'docker picatest check' again", plural(report.Errors, "error"), p.Name))
	}
	return nil
}

func printCheckText(w io.Writer, r checkReport) {
	for _, f := range r.Findings {
		loc := f.File
		if f.Line > 0 {
			loc = fmt.Sprintf("%s:%d", f.File, f.Line)
		}
		line := fmt.Sprintf("%-7s  %s  %s", strings.ToUpper(f.Severity), loc, f.Message)
		if f.Hint != "" {
			line += " (" + f.Hint + ")"
		}
		fmt.Fprintln(w, line)
	}
	if len(r.Findings) == 0 {
		fmt.Fprintf(w, "project %s: no findings, it follows the conventions\n", r.Project)
		return
	}
	fmt.Fprintf(w, "project %s: %s, %s\n", r.Project, plural(r.Errors, "error"), plural(r.Warnings, "warning"))
}
