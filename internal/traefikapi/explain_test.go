package traefikapi

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"
)

// recorded is the API of a real Traefik v3.6.12 (testdata/traefik,
// --api.insecure=true), recorded during TestSmokeExplained (e2e): the
// routers, services and entrypoints of e2e/testdata/TestSmokeExplained.
func recorded(t *testing.T) *Snapshot {
	t.Helper()
	s := &Snapshot{}
	for name, dst := range map[string]any{"routers": &s.Routers, "services": &s.Services, "entrypoints": &s.EntryPoints} {
		b, err := os.ReadFile(filepath.Join("testdata", name+".json"))
		assert.NilError(t, err)
		assert.NilError(t, json.Unmarshal(b, dst), name)
	}
	return s
}

// serverIP is the IP of the first server of a recorded service.
func serverIP(t *testing.T, s *Snapshot, service string) string {
	t.Helper()
	for _, svc := range s.Services {
		if svc.Name == service && svc.LoadBalancer != nil && len(svc.LoadBalancer.Servers) > 0 {
			ip, _ := hostPort(svc.LoadBalancer.Servers[0].URL)
			return ip
		}
	}
	t.Fatalf("no server for %s in the recorded services", service)
	return ""
}

func TestExplainRecorded(t *testing.T) {
	s := recorded(t)
	const project = "e2e_testsmokeexplained"
	traefik := Container{Name: "picatest-traefik-api", State: "running", Networks: map[string]string{"proxy": "172.18.0.2"},
		Published: map[string]string{"18280": "80", "18643": "443", "18282": "8082"}}
	ctr := func(service, state, health string, labels map[string]string, exposed ...string) Container {
		if labels == nil {
			labels = map[string]string{"traefik.enable": "true", "traefik.docker.network": "proxy"}
		}
		ip := "172.18.0.99"
		for _, svc := range s.Services {
			if svc.Name == "e2e-why-"+service+"@docker" {
				ip = serverIP(t, s, svc.Name)
			}
		}
		return Container{Name: project + "-" + service + "-1", Project: project, Service: service, State: state, Health: health,
			Labels: labels, Networks: map[string]string{"proxy": ip}, Exposed: exposed}
	}
	facts := &Facts{Project: project, Traefik: &traefik, Containers: []Container{
		traefik,
		ctr("web", "running", "healthy", nil),
		ctr("stopped", "exited", "unhealthy", nil),
		ctr("unhealthy", "running", "unhealthy", nil),
		ctr("noenable", "running", "healthy", map[string]string{"traefik.docker.network": "proxy"}),
		ctr("ruleerr", "running", "healthy", nil),
		ctr("conflict", "running", "healthy", nil),
		ctr("secure", "running", "healthy", nil),
		ctr("badport", "running", "healthy", nil, "8080"),
		ctr("down", "running", "healthy", nil),
		ctr("app404", "running", "healthy", nil),
		ctr("app503", "running", "", nil),
		{Name: project + "_other-other-1", Project: project + "_other", Service: "other", State: "running",
			Labels: map[string]string{"traefik.http.routers.e2e-why-conflict.rule": "Host(`why-conflict-other.test.picasoft.net`)"}},
	}}
	check := func(service, kind string, status int) Check {
		c := Check{Service: service, Router: "e2e-why-" + service, Scheme: "http", Kind: kind, Status: status, ProxyPort: "18280",
			Rule: "Host(`why-" + service + ".test.picasoft.net`)"}
		if r := s.Router(c.Router); r != nil {
			c.Rule = r.Rule
		}
		return c
	}
	secure := check("secure", "tls-error", 0)
	secure.Scheme = "https"
	cases := []struct {
		check              Check
		cause, label, text string
	}{
		{check("stopped", "no-router", 404), CauseNotRunning, "", "container e2e_testsmokeexplained-stopped-1 is exited, and Traefik only routes running containers"},
		{check("unhealthy", "no-router", 404), CauseNotHealthy, "healthcheck", "container e2e_testsmokeexplained-unhealthy-1 is unhealthy"},
		{check("noenable", "no-router", 404), CauseNoEnable, "traefik.enable", "has no label traefik.enable=true"},
		{check("ruleerr", "no-router", 404), CauseRouterError, "traefik.http.routers.e2e-why-ruleerr.rule", "Traefik's router e2e-why-ruleerr@docker is disabled: error while parsing rule"},
		{check("conflict", "no-router", 404), CauseRouterConflict, "traefik.http.routers.e2e-why-conflict.rule", "project e2e_testsmokeexplained and project e2e_testsmokeexplained_other (container e2e_testsmokeexplained_other-other-1) both define it"},
		{secure, CauseEntryPoint, "traefik.http.routers.e2e-why-secure.entrypoints", "is on the entrypoints websecure, the check went to the entrypoint web (:80)"},
		{check("badport", "no-healthy-server", 502), CauseWrongPort, "traefik.http.services.e2e-why-badport.loadbalancer.server.port", "exposes port 8080, not 9999"},
		{check("down", "no-healthy-server", 503), CauseServersDown, "traefik.http.services.e2e-why-down.loadbalancer.healthcheck", "every server of Traefik's service e2e-why-down@docker is DOWN"},
		{check("app404", "no-router", 404), CauseAppAnswer, "", "this 404 is the app's own answer"},
		{check("app503", "app-error", 503), CauseAppAnswer, "", "the 503 is the app's own answer"},
	}
	for _, tc := range cases {
		t.Run(tc.check.Service, func(t *testing.T) {
			e, ok := Explain(tc.check, s, facts)
			assert.Assert(t, ok)
			assert.Check(t, is.Equal(e.Cause, tc.cause), e.Text)
			assert.Check(t, is.Equal(e.Label, tc.label), e.Text)
			assert.Check(t, is.Contains(e.Text, tc.text))
		})
	}
	assert.Check(t, Routes(check("app404", "no-router", 404), s, facts), "the app's 404: Traefik routes it")
	assert.Check(t, !Routes(check("unhealthy", "no-router", 404), s, facts))
	assert.Check(t, !Routes(secure, s, facts), "another entrypoint")
}

func TestExplainRuleNotMatched(t *testing.T) {
	s := &Snapshot{
		Routers: []Router{{Name: "pad@docker", Provider: "docker", Status: "enabled", Rule: "Host(`pad.test.example.org`) && ClientIP(`192.0.2.1`)",
			Service: "pad", EntryPoints: []string{"web"}, Using: []string{"web"}}},
		EntryPoints: []EntryPoint{{Name: "web", Address: ":80"}},
	}
	c := Check{Service: "pad", Router: "pad", Rule: s.Routers[0].Rule, Scheme: "http", Kind: "no-router", Status: 404, ProxyPort: "80"}
	assert.Check(t, !Routes(c, s, nil))
	e, ok := Explain(c, s, nil)
	assert.Assert(t, ok)
	assert.Check(t, is.Equal(e.Cause, CauseRuleUnmatched))
	assert.Check(t, strings.Contains(e.Text, "asks for ClientIP, which the check does not send"), e.Text)
}
