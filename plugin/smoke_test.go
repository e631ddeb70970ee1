package plugin

import (
	"strings"
	"testing"

	"github.com/picasoft/docker-picatest/internal/exitcode"
	"github.com/picasoft/docker-picatest/smoke"
)

func TestCheckResultFailure(t *testing.T) {
	ok := smokeCheck{Service: "web", URL: "http://a/", Result: "ok", line: "OK    http://a/  200 OK  3ms"}
	bad := smokeCheck{Service: "api", URL: "http://b/", Result: "no-router", line: "FAIL  http://b/  no-router 404: ..."}
	logs := &logSection{Matches: []smoke.LogMatch{{Service: "web", Container: "p-web-1", Lines: []string{"error: x"}, Total: 3}}}

	r := checkResult{Smoke: &smokeSection{Proxy: "127.0.0.1", Checks: []smokeCheck{ok}}, Logs: logs}
	if svc, _ := r.failure(); svc != "" || checksError(r) != nil {
		t.Fatalf("log lines without --strict are warnings: %s", svc)
	}
	var b strings.Builder
	r.print(&b)
	for _, want := range []string{"Smoke checks through Traefik at 127.0.0.1:", "OK    http://a/", "3 error lines in 1 container (warnings", "WARNING: web | error: x", "... 2 more"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("missing %q in\n%s", want, b.String())
		}
	}

	logs.Strict = true
	if svc, reason := r.failure(); svc != "web" || !strings.Contains(reason, "3 error lines in the logs of p-web-1 (--strict)") {
		t.Errorf("strict: %s %s", svc, reason)
	}
	r.Smoke.Checks = []smokeCheck{ok, bad, bad}
	svc, reason := r.failure()
	if svc != "api" || reason != "smoke check http://b/: no-router (and 1 more failed checks)" {
		t.Errorf("smoke failure first: %s %s", svc, reason)
	}
	if err := checksError(r); err == nil || exitcode.Of(err) != exitcode.Failed {
		t.Errorf("exit code of %v", err)
	}
}
