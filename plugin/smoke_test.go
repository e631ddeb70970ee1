package plugin

import (
	"strings"
	"testing"

	"github.com/picasoft/docker-picatest/smoke"
	"github.com/picasoft/docker-picatest/testrun"
)

// TestPrintChecks: the checks' text (the rule of their failure is tested
// in testrun: TestCheckResultFailure).
func TestPrintChecks(t *testing.T) {
	ok := testrun.SmokeCheck{Service: "web", URL: "http://a/", Result: "ok", Line: "OK    http://a/  200 OK  3ms"}
	logs := &testrun.LogSection{Matches: []smoke.LogMatch{{Service: "web", Container: "p-web-1", Lines: []string{"error: x"}, Total: 3}}}

	r := testrun.CheckResult{Smoke: &testrun.SmokeSection{Proxy: "127.0.0.1", Checks: []testrun.SmokeCheck{ok}}, Logs: logs}
	var b strings.Builder
	printChecks(&b, r)
	for _, want := range []string{"Smoke checks through Traefik at 127.0.0.1:", "OK    http://a/", "3 error lines in 1 container (warnings", "WARNING: web | error: x", "... 2 more"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("missing %q in\n%s", want, b.String())
		}
	}
}
