package testrun

import (
	"strings"
	"testing"

	"github.com/picasoft/docker-picatest/internal/exitcode"
	"github.com/picasoft/docker-picatest/smoke"
)

func TestCheckResultFailure(t *testing.T) {
	ok := SmokeCheck{Service: "web", URL: "http://a/", Result: "ok", Line: "OK    http://a/  200 OK  3ms"}
	bad := SmokeCheck{Service: "api", URL: "http://b/", Result: "no-router", Line: "FAIL  http://b/  no-router 404: ..."}
	logs := &LogSection{Matches: []smoke.LogMatch{{Service: "web", Container: "p-web-1", Lines: []string{"error: x"}, Total: 3}}}

	r := CheckResult{Smoke: &SmokeSection{Proxy: "127.0.0.1", Checks: []SmokeCheck{ok}}, Logs: logs}
	if svc, _ := r.FirstFailure(); svc != "" || r.Failed() != nil {
		t.Fatalf("log lines without --strict are warnings: %s", svc)
	}

	logs.Strict = true
	if svc, reason := r.FirstFailure(); svc != "web" || !strings.Contains(reason, "3 error lines in the logs of p-web-1 (--strict)") {
		t.Errorf("strict: %s %s", svc, reason)
	}
	r.Smoke.Checks = []SmokeCheck{ok, bad, bad}
	svc, reason := r.FirstFailure()
	if svc != "api" || reason != "smoke check http://b/: no-router (and 1 more failed checks)" {
		t.Errorf("smoke failure first: %s %s", svc, reason)
	}
	if err := r.Failed(); err == nil || exitcode.Of(err) != exitcode.Failed {
		t.Errorf("exit code of %v", err)
	}
}
