package lint

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"

	"github.com/picasoft/docker-picatest/internal/traefik"
	"github.com/picasoft/docker-picatest/internal/traefikapi"
)

// checkRouterPort reports a router without a service of its own
// (<router>.service) in a service that sets no load balancer port and
// exposes several ports: Traefik then sends to the lowest port the
// container exposes, which may not be the app's.
func checkRouterPort(name string, svc types.ServiceConfig, add func(Finding)) {
	ports := exposedPorts(svc)
	if len(ports) < 2 {
		return
	}
	lower := map[string]bool{}
	for k := range svc.Labels {
		k = strings.ToLower(k)
		lower[k] = true
		if strings.HasPrefix(k, "traefik.http.services.") && strings.HasSuffix(k, ".loadbalancer.server.port") {
			return
		}
	}
	routers := traefik.HTTPRouters(svc.Labels)
	sort.Slice(routers, func(i, j int) bool { return routers[i].Name < routers[j].Name })
	for _, r := range routers {
		key := "traefik.http.routers." + r.Name
		if strings.HasPrefix(r.Name, "traefik.") || lower[strings.ToLower(key+".service")] { // a v1 frontend, or a service named
			continue
		}
		add(Finding{Severity: Warning, Rule: "traefik-port", Service: name,
			Message: fmt.Sprintf("service %s: router %s names no service and the service exposes ports %s: Traefik sends to the lowest one (%s), which may not be the app's", name, r.Name, strings.Join(ports, ", "), ports[0]),
			Hint:    fmt.Sprintf("add the label traefik.http.services.%s.loadbalancer.server.port with the app's port (and %s.service: %s)", r.Name, key, r.Name),
			path:    []string{"services", name, "labels", key + ".rule"}})
	}
}

// exposedPorts are the container ports of expose: and ports:, sorted as
// numbers, without duplicates. The image's EXPOSE cannot be read
// statically.
func exposedPorts(svc types.ServiceConfig) []string {
	seen := map[string]bool{}
	var out []string
	addPort := func(p string) {
		p, _, _ = strings.Cut(p, "/")
		if p != "" && !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	for _, e := range svc.Expose {
		addPort(e)
	}
	for _, p := range svc.Ports {
		if p.Protocol == "" || p.Protocol == "tcp" {
			addPort(fmt.Sprint(p.Target))
		}
	}
	slices.SortFunc(out, func(a, b string) int {
		if len(a) != len(b) {
			return len(a) - len(b)
		}
		return strings.Compare(a, b)
	})
	return out
}

// RouterConflicts reports the HTTP routers of p whose name a running
// container of another project also defines (f lists the engine's
// containers): Traefik drops a router defined twice with different
// settings, and merges it into one when the settings are equal.
func RouterConflicts(p *types.Project, f *traefikapi.Facts) []Finding {
	var out []Finding
	for _, name := range p.ServiceNames() {
		svc := p.Services[name]
		routers := traefik.HTTPRouters(svc.Labels)
		sort.Slice(routers, func(i, j int) bool { return routers[i].Name < routers[j].Name })
		for _, r := range routers {
			if strings.HasPrefix(r.Name, "traefik.") { // a v1 frontend
				continue
			}
			var who []string
			for _, c := range f.RouterDefiners(r.Name) {
				if c.State == "running" {
					who = append(who, fmt.Sprintf("project %s (container %s)", orDash(c.Project), c.Name))
				}
			}
			if len(who) == 0 {
				continue
			}
			out = append(out, Finding{Severity: Warning, Rule: "traefik-router-conflict", Service: name,
				Message: fmt.Sprintf("service %s: router %s is also defined by %s on this engine: Traefik drops a router defined twice with different settings", name, r.Name, strings.Join(who, ", ")),
				Hint:    "give the router a name of its own (e.g. prefixed with the project's name), or stop the other deployment",
				path:    []string{"services", name, "labels", "traefik.http.routers." + r.Name + ".rule"}})
		}
	}
	return out
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
