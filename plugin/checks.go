package plugin

import (
	"fmt"
	"strings"

	"github.com/spf13/pflag"

	"github.com/picasoft/docker-picatest/internal/termsafe"
	"github.com/picasoft/docker-picatest/smoke"
	"github.com/picasoft/docker-picatest/testrun"
)

// This file holds the flags of the smoke checks and the log scan shared
// by up and smoke (testrun.Checks runs them), and their report sections.

// checkOptions are the flags of the smoke checks and log scan (SPEC §6),
// shared by up and smoke.
type checkOptions = testrun.CheckOptions

// addCheckFlags adds the flags of o to f; skippable adds --no-smoke.
func addCheckFlags(f *pflag.FlagSet, o *checkOptions, skippable bool) {
	f.BoolVar(&o.Insecure, "insecure", false, "Accept any TLS certificate of the proxy (e.g. Traefik's self-signed default certificate)")
	f.BoolVar(&o.Strict, "strict", false, "Fail when a log line looks like an error (error, fatal, panic, exception); a warning otherwise")
	if skippable {
		f.BoolVar(&o.NoSmoke, "no-smoke", false, "Skip the smoke checks through Traefik and the log scan")
	}
}

// printChecks writes the smoke and log sections of r as text.
func printChecks(b *strings.Builder, r testrun.CheckResult) {
	if s := r.Smoke; s != nil {
		if len(s.Checks) == 0 {
			b.WriteString("\nSmoke checks: no Traefik router with a host under the test domain\n")
		} else {
			fmt.Fprintf(b, "\nSmoke checks through Traefik at %s:\n", s.Proxy)
			failed := false
			for _, c := range s.Checks {
				fmt.Fprintf(b, "  %s\n", termsafe.Line(c.Line))
				failed = failed || (c.Result != string(smoke.OK) && c.Result != string(smoke.Skipped))
			}
			if failed && s.Causes == smoke.CauseInferred {
				api := "it is off (--traefik-api off)"
				if s.TraefikAPI != "" {
					api = "it does not answer at " + s.TraefikAPI
				}
				fmt.Fprintf(b, "  (causes inferred from the HTTP answers: Traefik's API explains them when it answers, and %s; set --traefik-api / PICATEST_TRAEFIK_API to Traefik's --api.insecure entrypoint)\n", api)
			}
		}
	}
	if l := r.Logs; l != nil {
		if len(l.Matches) == 0 {
			b.WriteString("Log scan: no error lines\n")
			return
		}
		total := 0
		for _, m := range l.Matches {
			total += m.Total
		}
		kind := "warnings; --strict makes them fail"
		if l.Strict {
			kind = "failure: --strict"
		}
		fmt.Fprintf(b, "Log scan: %s in %s (%s; ignore patterns: x-picatest log-ignore):\n", plural(total, "error line"), plural(len(l.Matches), "container"), kind)
		for _, m := range l.Matches {
			for _, line := range m.Lines {
				fmt.Fprintf(b, "  WARNING: %s | %s\n", m.Service, termsafe.Line(line))
			}
			if m.Total > len(m.Lines) {
				fmt.Fprintf(b, "  WARNING: %s | ... %d more (docker picatest logs %s)\n", m.Service, m.Total-len(m.Lines), m.Service)
			}
		}
	}
}

// plural is "1 thing" or "n things".
func plural(n int, thing string) string {
	if n == 1 {
		return "1 " + thing
	}
	return fmt.Sprintf("%d %ss", n, thing)
}
