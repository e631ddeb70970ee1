package e2e

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"
	"gotest.tools/v3/poll"
)

// explainedJSON is the part of the smoke report TestSmokeExplained reads.
type explainedJSON struct {
	Smoke struct {
		TraefikAPI string `json:"traefik_api"`
		Causes     string
		Checks     []struct {
			URL, Result, Detail, Cause, Label string
			CauseFrom                         string `json:"cause_from"`
			Status                            int
		}
	}
}

type explained struct{ result, cause, from, label, detail string }

func parseExplained(t *testing.T, r result) (explainedJSON, map[string]explained) {
	t.Helper()
	var s explainedJSON
	assert.NilError(t, json.Unmarshal([]byte(r.Stdout), &s), r)
	by := map[string]explained{}
	for _, c := range s.Smoke.Checks {
		res := c.Result
		if c.Status != 0 {
			res += " " + itoa(c.Status)
		}
		by[c.URL] = explained{res, c.Cause, c.CauseFrom, c.Label, c.Detail}
	}
	return s, by
}

// TestSmokeExplained sets up each cause of a failed smoke check on
// purpose, behind a real Traefik with its API (requireTraefikAPI): the
// smoke report names each cause from the API and the engine, in JSON and
// in text; with the API off the same failures give today's inferred
// messages. check and up --dry-run report what is known before starting.
func TestSmokeExplained(t *testing.T) {
	p := newProject(t, "TestSmokeExplained/main")
	other := newProjectAs(t, projectName(t)+"_other", "TestSmokeExplained/other")
	requireTraefikAPI(t)
	env := []string{"PICATEST_PROXY=" + traefikAPIHTTP, "PICATEST_TRAEFIK_API=" + traefikAPIAddr}
	p.Env = append(p.Env, env...)
	other.Env = append(other.Env, env...)

	r := other.picatest("up", "--yes", "--no-smoke", "--stable", "0s", "--wait-timeout", "60s", "--progress", "quiet")
	assert.Equal(t, r.ExitCode, 0, r)

	// Before starting: the static findings.
	r = p.picatest("up", "--dry-run")
	assert.Equal(t, r.ExitCode, 0, r)
	assert.Check(t, is.Contains(r.Stdout, "failures explained from Traefik's API ("+traefikAPIAddr+", if it answers)"))
	assert.Check(t, is.Contains(r.Stdout, "router e2e-why-conflict is also defined by project "+other.Name), r.Stdout)
	assert.Check(t, is.Contains(r.Stdout, "router e2e-why-multiport names no service and the service exposes ports 8080, 9000"), r.Stdout)
	assert.Check(t, is.Contains(r.Stdout, "label traefik.docker.network names network no-such-network, which the service is not on"), r.Stdout)
	r = p.picatest("check", "--format", "json")
	assert.Check(t, is.Contains(r.Stdout, `"rule": "traefik-router-conflict"`), r)
	assert.Check(t, is.Contains(r.Stdout, `"rule": "traefik-port"`), r)
	t.Logf("up --dry-run:\n%s", p.picatest("up", "--dry-run").Stdout)

	r = p.picatest("up", "--yes", "--no-smoke", "--stable", "0s", "--wait-timeout", "60s", "--progress", "quiet")
	assert.Equal(t, r.ExitCode, 0, r)
	assert.Equal(t, p.docker("stop", "-t", "1", p.containerOf("stopped")).ExitCode, 0)
	unhealthy := p.containerOf("unhealthy")
	marker := filepath.Join(t.TempDir(), "unhealthy")
	assert.NilError(t, os.WriteFile(marker, []byte("x"), 0o644))
	assert.Equal(t, p.docker("cp", marker, unhealthy+":/unhealthy").ExitCode, 0)
	poll.WaitOn(t, func(poll.LogT) poll.Result {
		if h := p.inspect(unhealthy, "{{.State.Health.Status}}"); h != "unhealthy" {
			return poll.Continue("unhealthy is %s", h)
		}
		return poll.Success()
	}, poll.WithTimeout(30*time.Second), poll.WithDelay(200*time.Millisecond))

	// Traefik drops the unhealthy container when its provider sees the
	// health event, and marks the server of "down" DOWN after its first
	// health check: a moment later. In this order: the provider's update
	// for the unhealthy container recreates the services, and the server
	// of "down" is UP again until its next health check.
	for _, c := range []struct {
		host   string
		status int
	}{
		{"why-unhealthy.test.picasoft.net", http.StatusNotFound},
		{"why-down.test.picasoft.net", http.StatusServiceUnavailable},
	} {
		host, status := c.host, c.status
		poll.WaitOn(t, func(poll.LogT) poll.Result {
			req, err := http.NewRequest(http.MethodGet, "http://"+traefikAPIHTTP+"/", nil)
			if err != nil {
				return poll.Error(err)
			}
			req.Host = host
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				return poll.Continue("GET %s through Traefik: %v", host, err)
			}
			resp.Body.Close()
			if resp.StatusCode != status {
				return poll.Continue("%s: %d, waiting for %d", host, resp.StatusCode, status)
			}
			return poll.Success()
		}, poll.WithTimeout(30*time.Second), poll.WithDelay(200*time.Millisecond))
	}

	url := func(name string) string { return "http://why-" + name + ".test.picasoft.net/" }
	want := map[string]explained{
		url("web"):                              {result: "ok 200"},
		url("multiport"):                        {result: "ok 200"},
		url("stopped"):                          {result: "no-router 404", cause: "container-not-running", detail: "container " + p.Name + "-stopped-1 is exited, and Traefik only routes running containers"},
		url("unhealthy"):                        {result: "no-router 404", cause: "container-not-healthy", label: "healthcheck", detail: "container " + p.Name + "-unhealthy-1 is unhealthy"},
		url("noenable"):                         {result: "no-router 404", cause: "traefik-enable-missing", label: "traefik.enable", detail: "has no label traefik.enable=true"},
		url("ruleerr"):                          {result: "no-router 404", cause: "router-error", label: "traefik.http.routers.e2e-why-ruleerr.rule", detail: "error while adding rule Host: unexpected number of parameters; got 2, expected one of [1]"},
		url("conflict"):                         {result: "no-router 404", cause: "router-conflict", label: "traefik.http.routers.e2e-why-conflict.rule", detail: "project " + p.Name + " and project " + other.Name + " (container " + other.Name + "-other-1) both define it"},
		"https://why-secure.test.picasoft.net/": {result: "tls-error", cause: "entrypoint-mismatch", label: "traefik.http.routers.e2e-why-secure.entrypoints", detail: "is on the entrypoints websecure, the check went to the entrypoint web"},
		url("badport"):                          {result: "no-healthy-server 502", cause: "wrong-port", label: "traefik.http.services.e2e-why-badport.loadbalancer.server.port", detail: "exposes port 8080, not 9999"},
		url("down"):                             {result: "no-healthy-server 503", cause: "servers-down", label: "traefik.http.services.e2e-why-down.loadbalancer.healthcheck", detail: "is DOWN in Traefik's health check"},
		url("app404") + "missing":               {result: "ok 404", cause: "", detail: "the app answers 404"},
		url("app503") + "healthz":               {result: "app-error 503", cause: "app-answer", detail: "the 503 is the app's own answer"},
	}
	r = p.picatest("smoke", "--wait-timeout", "5s", "--format", "json")
	assert.Equal(t, r.ExitCode, 1, r)
	s, got := parseExplained(t, r)
	assert.Check(t, is.Equal(s.Smoke.TraefikAPI, traefikAPIAddr))
	assert.Check(t, is.Equal(s.Smoke.Causes, "traefik-api"))
	for u, w := range want {
		g, ok := got[u]
		if !assert.Check(t, ok, "no check of %s in %s", u, r.Stdout) {
			continue
		}
		assert.Check(t, is.Equal(g.result, w.result), "%s: %+v", u, g)
		assert.Check(t, is.Equal(g.cause, w.cause), "%s: %+v", u, g)
		assert.Check(t, is.Equal(g.label, w.label), "%s: %+v", u, g)
		assert.Check(t, is.Contains(g.detail, w.detail), "%s: %+v", u, g)
		if w.cause != "" {
			assert.Check(t, is.Equal(g.from, "traefik-api"), "%s: %+v", u, g)
		}
	}

	// The same in text.
	r = p.picatest("smoke", "--wait-timeout", "5s")
	assert.Equal(t, r.ExitCode, 1, r)
	t.Logf("smoke with the API:\n%s", r.Stdout)
	for _, line := range []string{
		"FAIL  " + url("stopped") + "  no-router 404: Traefik has no router e2e-why-stopped: container " + p.Name + "-stopped-1 is exited",
		"FAIL  " + url("unhealthy") + "  no-router 404: Traefik has no router e2e-why-unhealthy: container " + p.Name + "-unhealthy-1 is unhealthy",
		"FAIL  " + url("noenable") + "  no-router 404: Traefik has no router e2e-why-noenable: container " + p.Name + "-noenable-1 has no label traefik.enable=true",
		"FAIL  " + url("ruleerr") + "  no-router 404: Traefik's router e2e-why-ruleerr@docker is disabled",
		"FAIL  " + url("conflict") + "  no-router 404: Traefik has no router e2e-why-conflict: project " + p.Name + " and project " + other.Name,
		"FAIL  " + url("badport") + "  no-healthy-server 502: Traefik's service e2e-why-badport@docker sends to http://",
		"FAIL  " + url("down") + "  no-healthy-server 503: every server of Traefik's service e2e-why-down@docker is DOWN",
		"FAIL  " + url("app503") + "healthz  app-error 503: Traefik's router e2e-why-app503@docker routes the request",
		"OK    " + url("app404") + "missing  404 Not Found",
	} {
		assert.Check(t, is.Contains(r.Stdout, line))
	}
	assert.Check(t, !strings.Contains(r.Stdout, "causes inferred"), r.Stdout)

	// The API off: today's inferred messages.
	r = p.dockerEnv([]string{"PICATEST_TRAEFIK_API=off"}, "picatest", "smoke", "--wait-timeout", "5s", "--format", "json")
	assert.Equal(t, r.ExitCode, 1, r)
	s, got = parseExplained(t, r)
	assert.Check(t, is.Equal(s.Smoke.TraefikAPI, ""))
	assert.Check(t, is.Equal(s.Smoke.Causes, "inferred"))
	for u, w := range map[string]string{
		url("stopped"): "no-router 404", url("unhealthy"): "no-router 404", url("noenable"): "no-router 404",
		url("ruleerr"): "no-router 404", url("conflict"): "no-router 404", url("badport"): "no-healthy-server 502",
		url("down"): "no-healthy-server 503", url("app404") + "missing": "no-router 404",
		url("app503") + "healthz": "no-healthy-server 503",
	} {
		assert.Check(t, is.Equal(got[u].result, w), "%s: %+v", u, got[u])
		assert.Check(t, is.Equal(got[u].from, "inferred"), "%s: %+v", u, got[u])
		assert.Check(t, is.Equal(got[u].cause, ""), "%s: %+v", u, got[u])
	}
	assert.Check(t, is.Contains(got[url("stopped")].detail, "Traefik has no router for this URL after 5s (its own 404)"))
	r = p.dockerEnv([]string{"PICATEST_TRAEFIK_API=127.0.0.1:1"}, "picatest", "smoke", "--wait-timeout", "5s")
	assert.Equal(t, r.ExitCode, 1, r)
	t.Logf("smoke without the API:\n%s", r.Stdout)
	assert.Check(t, is.Contains(r.Stdout, "FAIL  "+url("badport")+"  no-healthy-server 502: Traefik answers 502 Bad Gateway: the router matches but no healthy server answers behind it"))
	assert.Check(t, is.Contains(r.Stdout, "(causes inferred from the HTTP answers: Traefik's API explains them when it answers, and it does not answer at 127.0.0.1:1;"))
}
