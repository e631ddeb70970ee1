package e2e

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"
	"gotest.tools/v3/poll"
)

// smokeJSON is the part of the reports of up and smoke the tests read.
type smokeJSON struct {
	Result  string
	Failure *struct{ Service, Reason string }
	Smoke   *struct {
		Proxy  string
		Checks []struct {
			Service, Router, Rule, URL, Result, Health, Detail string
			Status                                             int
			LatencyMS                                          float64 `json:"latency_ms"`
			AfterMS                                            float64 `json:"after_ms"`
			Attempts                                           int
		}
	}
	Logs *struct {
		Strict  bool
		Matches []struct {
			Service, Container string
			Lines              []string
			Total              int
		}
	}
}

func parseSmoke(t *testing.T, r result) smokeJSON {
	t.Helper()
	var s smokeJSON
	assert.NilError(t, json.Unmarshal([]byte(r.Stdout), &s), r)
	return s
}

func (s smokeJSON) check(url string) (result string, status int, detail, health string) {
	for _, c := range s.Smoke.Checks {
		if c.URL == url {
			return c.Result, c.Status, c.Detail, c.Health
		}
	}
	return "missing", 0, "", ""
}

// TestSmoke runs up, then smoke, against the real Traefik: routed and
// healthy, wrong port (502), a rule that matches nothing (Traefik's 404), an
// x-picatest smoke path the app does not serve, a container that turns
// unhealthy (no longer routed), an unreachable proxy, and the log scan with
// an ignore pattern, as a warning and with --strict.
func TestSmoke(t *testing.T) {
	p := newProject(t)
	requireTraefik(t)
	p.Env = append(p.Env, "PICATEST_PROXY="+traefikHTTP)

	start := time.Now()
	r := p.picatest("up", "--yes", "--stable", "0s", "--wait-timeout", "20s", "--format", "json", "--progress", "quiet")
	t.Logf("up with failing checks: %s", time.Since(start).Round(time.Millisecond))
	assert.Equal(t, r.ExitCode, 1, r)
	s := parseSmoke(t, r)
	assert.Equal(t, s.Result, "failed")
	assert.Equal(t, s.Smoke.Proxy, traefikHTTP)

	res, status, _, _ := s.check("http://smoke-web.test.picasoft.net/")
	assert.Check(t, is.Equal(res+" "+itoa(status), "ok 200"))
	res, status, _, _ = s.check("http://smoke-web.test.picasoft.net/healthz")
	assert.Check(t, is.Equal(res+" "+itoa(status), "ok 200"), "x-picatest smoke path")
	res, status, detail, health := s.check("http://smoke-badport.test.picasoft.net/")
	assert.Check(t, is.Equal(res+" "+itoa(status), "no-healthy-server 502"), detail)
	assert.Check(t, is.Equal(health, "running, healthy"))
	res, status, detail, _ = s.check("http://smoke-norule.test.picasoft.net/")
	assert.Check(t, is.Equal(res+" "+itoa(status), "no-router 404"), detail)
	assert.Check(t, is.Contains(detail, "Host(`smoke-norule.test.picasoft.net`) && ClientIP(`192.0.2.1`)"), "the rule is printed")
	res, status, _, _ = s.check("http://smoke-apperr.test.picasoft.net/")
	assert.Check(t, is.Equal(res+" "+itoa(status), "ok 200"))
	res, status, detail, _ = s.check("http://smoke-apperr.test.picasoft.net/does-not-exist")
	assert.Check(t, is.Equal(res+" "+itoa(status), "app-error 404"), detail)

	// Log scan: the ignored line is not reported, the other one is, as a
	// warning.
	assert.Assert(t, s.Logs != nil)
	assert.Equal(t, len(s.Logs.Matches), 1, "%+v", s.Logs.Matches)
	assert.Check(t, is.Equal(s.Logs.Matches[0].Service, "web"))
	assert.Check(t, is.DeepEqual(s.Logs.Matches[0].Lines, []string{"error: mail server unreachable"}))

	// Text report of the same failures, and the error message.
	r = p.picatest("smoke", "--wait-timeout", "3s")
	assert.Equal(t, r.ExitCode, 1, r)
	assert.Check(t, is.Contains(r.Stdout, "Smoke checks through Traefik at "+traefikHTTP))
	assert.Check(t, is.Contains(r.Stdout, "OK    http://smoke-web.test.picasoft.net/  200 OK"))
	assert.Check(t, is.Contains(r.Stdout, "FAIL  http://smoke-badport.test.picasoft.net/  no-healthy-server 502"))
	assert.Check(t, is.Contains(r.Stdout, "(service badport: running, healthy)"))
	assert.Check(t, is.Contains(r.Stdout, "FAIL  http://smoke-norule.test.picasoft.net/  no-router 404"))
	assert.Check(t, is.Contains(r.Stdout, "WARNING: web | error: mail server unreachable"))
	assert.Check(t, !strings.Contains(r.Stdout, "cache miss"), r.Stdout)
	assert.Check(t, is.Contains(r.Stderr, "test failed: service apperr: smoke check http://smoke-apperr.test.picasoft.net/does-not-exist: app-error"))

	// Only the healthy, routed service: OK; its log lines are warnings.
	r = p.picatest("smoke", "web")
	assert.Equal(t, r.ExitCode, 0, r)
	assert.Check(t, is.Contains(r.Stdout, "OK: project "+p.Name+" passes the smoke checks"))
	r = p.picatest("smoke", "--strict", "--format", "json", "web")
	assert.Equal(t, r.ExitCode, 1, r)
	assert.Check(t, is.Contains(r.Stderr, "1 error line in the logs of "+p.Name+"-web-1 (--strict)"))

	// Traefik not reachable at the proxy address.
	r = p.dockerEnv([]string{"PICATEST_PROXY=127.0.0.1:1"}, "picatest", "smoke", "--wait-timeout", "3s", "web")
	assert.Equal(t, r.ExitCode, 1, r)
	assert.Check(t, is.Contains(r.Stdout, "Traefik is not reachable at 127.0.0.1:1 (connection refused)"))
	assert.Check(t, is.Contains(r.Stdout, "--proxy / PICATEST_PROXY"))
	r = p.picatest("smoke", "--proxy", "http://127.0.0.1", "web")
	assert.Equal(t, r.ExitCode, 2, r)

	// web turns unhealthy: Traefik stops routing it.
	web := p.containerOf("web")
	marker := filepath.Join(t.TempDir(), "unhealthy")
	assert.NilError(t, os.WriteFile(marker, []byte("x"), 0o644))
	assert.Equal(t, p.docker("cp", marker, web+":/unhealthy").ExitCode, 0)
	deadline := time.Now().Add(30 * time.Second)
	for p.inspect(web, "{{.State.Health.Status}}") != "unhealthy" && time.Now().Before(deadline) {
		time.Sleep(200 * time.Millisecond)
	}
	assert.Equal(t, p.inspect(web, "{{.State.Health.Status}}"), "unhealthy")
	// Traefik drops the server when its provider sees the health event,
	// a moment later.
	poll.WaitOn(t, func(poll.LogT) poll.Result {
		req, err := http.NewRequest(http.MethodGet, "http://"+traefikHTTP+"/", nil)
		if err != nil {
			return poll.Error(err)
		}
		req.Host = "smoke-web.test.picasoft.net"
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return poll.Continue("GET through Traefik: %v", err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			return poll.Continue("Traefik still routes the unhealthy web: %d", resp.StatusCode)
		}
		return poll.Success()
	}, poll.WithTimeout(30*time.Second), poll.WithDelay(200*time.Millisecond))
	r = p.picatest("smoke", "--wait-timeout", "5s", "--format", "json", "web")
	assert.Equal(t, r.ExitCode, 1, r)
	s = parseSmoke(t, r)
	res, status, detail, health = s.check("http://smoke-web.test.picasoft.net/")
	assert.Check(t, is.Equal(res+" "+itoa(status), "no-router 404"), detail)
	assert.Check(t, is.Equal(health, "running, unhealthy"))
}

// TestSmokeTiming measures the time from healthy to the first OK through
// Traefik (up with --stable 0s: the checks start as soon as the wait ends).
// Reported, never asserted: a measurement, run with PICATEST_MEASURE=1
// (bench/README.md), as smoke's TestHealthyLatency.
func TestSmokeTiming(t *testing.T) {
	if os.Getenv("PICATEST_MEASURE") == "" {
		t.Skip("a measurement, not a test: run it with PICATEST_MEASURE=1 (bench/README.md)")
	}
	p := newProject(t, "TestSmoke")
	requireTraefik(t)
	p.Env = append(p.Env, "PICATEST_PROXY="+traefikHTTP)
	for i := range 3 {
		r := p.picatest("up", "--yes", "--stable", "0s", "--format", "json", "--progress", "quiet", "web")
		assert.Equal(t, r.ExitCode, 0, r)
		s := parseSmoke(t, r)
		for _, c := range s.Smoke.Checks {
			t.Logf("run %d: %s %s %d: first OK %.0f ms after healthy, %d attempts, latency %.1f ms", i+1, c.URL, c.Result, c.Status, c.AfterMS, c.Attempts, c.LatencyMS)
		}
	}
}

func itoa(i int) string { return strconv.Itoa(i) }
