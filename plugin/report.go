package plugin

import (
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/picasoft/docker-picatest/internal/termsafe"
	"github.com/picasoft/docker-picatest/testrun"
	"github.com/picasoft/docker-picatest/transforms"
	"github.com/picasoft/docker-picatest/transforms/buildcontext"
	"github.com/picasoft/docker-picatest/transforms/inferbuild"
	"github.com/picasoft/docker-picatest/transforms/testurls"
)

// writeKept lists the production hosts kept on purpose, one a line, as
// up's report, up --dry-run and config --diff print them; nothing when
// there are none.
func writeKept(b *strings.Builder, kept []testurls.KeptHost) {
	if len(kept) == 0 {
		return
	}
	fmt.Fprintf(b, "Production hosts kept on purpose (%d):\n", len(kept))
	for _, k := range kept {
		fmt.Fprintf(b, "  %s\n", k)
	}
}

// renderReport is the report of up as text or as one JSON document.
func renderReport(r *testrun.Report, format string) (string, error) {
	var b strings.Builder
	if format == "json" {
		return renderJSON(r)
	}
	tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SERVICE\tIMAGE\tSTATE\tHEALTH\tRESTARTS\tTEST URLS")
	for _, s := range r.Services {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\n", s.Service, termsafe.String(s.Image), s.State, orDash(s.Health), s.Restarts, termsafe.String(orDash(strings.Join(s.URLs, " "))))
	}
	_ = tw.Flush()
	fmt.Fprintf(&b, "\n%d rewrites, %d example secrets used", len(r.Rewrites), len(r.ExampleSecrets))
	for _, c := range r.ExampleSecrets {
		fmt.Fprintf(&b, "\n  %s: %s", c.Where, transforms.DisplayPath(r.Dir, c.New))
	}
	for _, c := range r.Rewrites {
		if c.Transform == buildcontext.Name {
			fmt.Fprintf(&b, "\n  %s: test URLs in the test build", c.Where)
		}
	}
	b.WriteString(" (details: docker picatest config --diff)\n")
	writeKept(&b, r.KeptHosts)
	printChecks(&b, r.CheckResult)
	for _, warn := range r.Warnings {
		fmt.Fprintf(&b, "WARNING: %s\n", warn)
	}
	for _, line := range inferredLines(r.InferredBuilds) {
		b.WriteString(line + "\n")
	}
	if f := r.Failure; f != nil {
		fmt.Fprintf(&b, "\nFAILED: service %s: %s (state %s, health %s)\n", f.Service, f.Reason, f.State, orDash(f.Health))
		if len(f.HealthLog) > 0 {
			b.WriteString("Last health checks:\n")
			for _, l := range f.HealthLog {
				// One check's output, shown on one line.
				fmt.Fprintf(&b, "  %s\n", termsafe.String(l))
			}
		}
		if len(f.LogTail) > 0 {
			b.WriteString("Last log lines:\n")
			for _, l := range f.LogTail {
				fmt.Fprintf(&b, "  %s\n", termsafe.Line(l))
			}
		}
	} else {
		fmt.Fprintf(&b, "OK: project %s is up and healthy (%s)\n", r.Project, r.Duration)
	}
	return b.String(), nil
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// inferredLines say, for each service whose build was inferred, that it
// was built from the folder's Dockerfile and what to add to the Compose
// file.
func inferredLines(services []string) []string {
	var out []string
	for _, s := range services {
		out = append(out, fmt.Sprintf("NOTE: service %s has no build section: built as the procedure does, from ./%s, tagged with its image; add to service %s in the Compose file: %s", s, inferbuild.Dockerfile, s, inferbuild.BuildSection()))
	}
	return out
}
