package traefikapi

import (
	"fmt"
	"slices"
	"sort"
	"strings"
)

// Check is a failed smoke check, as Explain needs it.
type Check struct {
	// Service is the Compose service whose labels define the router.
	Service string
	// Router is the router's name in the labels (traefik.http.routers.<Router>.rule).
	Router string
	// Rule is the router's rule in the deployment.
	Rule string
	// Scheme is the scheme of the request: http or https.
	Scheme string
	// Kind is the smoke result: no-router (Traefik's own 404),
	// no-healthy-server (502, 503, 504), app-error, proxy-unreachable.
	Kind string
	// Status is the HTTP status answered (0 when none).
	Status int
	// ProxyPort is the host port the request went to.
	ProxyPort string
}

// The causes Explain names.
const (
	// CauseNoContainer: the service has no container.
	CauseNoContainer = "no-container"
	// CauseNotRunning: the container is not running; Traefik only routes
	// running containers.
	CauseNotRunning = "container-not-running"
	// CauseNotHealthy: the container has a health check and is not
	// healthy; Traefik ignores it until it is.
	CauseNotHealthy = "container-not-healthy"
	// CauseNoEnable: traefik.enable=true is missing (exposedByDefault=false).
	CauseNoEnable = "traefik-enable-missing"
	// CauseNoSharedNetwork: the container is on no network Traefik is on.
	CauseNoSharedNetwork = "no-shared-network"
	// CauseDockerNetwork: traefik.docker.network names a network the
	// container is not on.
	CauseDockerNetwork = "docker-network-missing"
	// CauseRouterConflict: another project defines the same router name
	// with other settings: Traefik drops the router.
	CauseRouterConflict = "router-conflict"
	// CauseRouterError: Traefik disabled the router, or keeps it with a
	// warning: its own error text.
	CauseRouterError = "router-error"
	// CauseRuleDiffers: Traefik's router has another rule than the
	// deployment's.
	CauseRuleDiffers = "rule-differs"
	// CauseEntryPoint: the router is on entrypoints other than the one the
	// check used.
	CauseEntryPoint = "entrypoint-mismatch"
	// CauseTLS: TLS expected where the router is plain, or the reverse.
	CauseTLS = "tls-mismatch"
	// CauseServersDown: every server of the service is DOWN.
	CauseServersDown = "servers-down"
	// CauseNoServer: the service has no server.
	CauseNoServer = "no-server"
	// CauseWrongPort: the load balancer sends to a port the container does
	// not expose.
	CauseWrongPort = "wrong-port"
	// CauseRuleUnmatched: the router is enabled but its rule asks for what
	// the check does not send (ClientIP, Method, Query, a negation).
	CauseRuleUnmatched = "rule-not-matched"
	// CauseAppAnswer: Traefik routed the request: the answer is the app's.
	CauseAppAnswer = "app-answer"
	// CauseUnexplained: Traefik has no router and the engine shows no
	// reason.
	CauseUnexplained = "no-router-unexplained"
)

// Explanation is the cause of a failed check.
type Explanation struct {
	// Cause is one of the Cause constants.
	Cause string `json:"cause"`
	// Text says what happened and what to change.
	Text string `json:"text"`
	// Label is the label the cause comes from, when one does.
	Label string `json:"label,omitempty"`
}

// App reports whether the answer came from the app, not from Traefik.
func (e Explanation) App() bool { return e.Cause == CauseAppAnswer }

// Router returns the router of the Docker provider named name (as in
// the labels), nil when Traefik has none.
func (s *Snapshot) Router(name string) *Router {
	var found *Router
	for i, r := range s.Routers {
		n, provider, _ := strings.Cut(r.Name, "@")
		if !strings.EqualFold(n, name) {
			continue
		}
		if provider == "docker" || r.Provider == "docker" {
			return &s.Routers[i]
		}
		if found == nil {
			found = &s.Routers[i]
		}
	}
	return found
}

// Service returns the service of router r (qualified with the router's
// provider when its name is not), nil when Traefik has none.
func (s *Snapshot) Service(r *Router) *Service {
	name := r.Service
	if name != "" && !strings.Contains(name, "@") {
		if _, p, ok := strings.Cut(r.Name, "@"); ok {
			name += "@" + p
		}
	}
	for i, svc := range s.Services {
		if svc.Name == name {
			return &s.Services[i]
		}
	}
	return nil
}

// entryPoint is the entrypoint a request to the proxy port reaches: the
// port Traefik's container publishes it on, else the port itself.
func (s *Snapshot) entryPoint(f *Facts, proxyPort string) *EntryPoint {
	port := proxyPort
	if f != nil && f.Traefik != nil {
		if p, ok := f.Traefik.Published[proxyPort]; ok {
			port = p
		}
	}
	for i, e := range s.EntryPoints {
		if e.Port() == port {
			return &s.EntryPoints[i]
		}
	}
	return nil
}

// Routes reports whether Traefik routes the check's request to the app:
// the router is enabled, with the deployment's rule, on the entrypoint
// the request reaches, with the scheme it expects. Traefik's own 404 and
// an app's are byte-identical: with Routes true, a 404 is the app's.
func Routes(c Check, s *Snapshot, f *Facts) bool {
	r := s.Router(c.Router)
	if r == nil || r.Status != "enabled" || len(r.Errors) > 0 || strings.TrimSpace(r.Rule) != strings.TrimSpace(c.Rule) || unsent(r.Rule) != "" {
		return false
	}
	ep := s.entryPoint(f, c.ProxyPort)
	if ep == nil || !slices.Contains(routerEntryPoints(r), ep.Name) {
		return false
	}
	return routerTLS(r, ep) == (c.Scheme == "https")
}

func routerEntryPoints(r *Router) []string {
	if len(r.Using) > 0 {
		return r.Using
	}
	return r.EntryPoints
}

func routerTLS(r *Router, ep *EntryPoint) bool {
	return present(r.TLS) || (ep != nil && ep.TLS())
}

// Explain names the cause of a failed check from Traefik's API (s) and
// the engine (f, nil when the engine could not be asked); false when
// neither says anything about it.
func Explain(c Check, s *Snapshot, f *Facts) (Explanation, bool) {
	if f == nil {
		f = &Facts{}
	}
	prefix := "traefik.http.routers." + c.Router
	r := s.Router(c.Router)
	if r == nil {
		return explainNoRouter(c, s, f), true
	}
	if r.Status != "enabled" || len(r.Errors) > 0 {
		label := errorLabel(prefix, r.Errors)
		return Explanation{Cause: CauseRouterError, Label: label,
			Text: fmt.Sprintf("Traefik's router %s is %s: %s (label %s)", r.Name, orText(r.Status, "in error"), strings.Join(r.Errors, "; "), label)}, true
	}
	if strings.TrimSpace(r.Rule) != strings.TrimSpace(c.Rule) {
		return Explanation{Cause: CauseRuleDiffers, Label: prefix + ".rule",
			Text: fmt.Sprintf("Traefik's router %s has the rule %s, the deployment's label %s.rule says %s: is another deployment or Traefik's own configuration defining it?", r.Name, r.Rule, prefix, c.Rule)}, true
	}
	ep := s.entryPoint(f, c.ProxyPort)
	eps := routerEntryPoints(r)
	if ep != nil && !slices.Contains(eps, ep.Name) {
		return Explanation{Cause: CauseEntryPoint, Label: prefix + ".entrypoints",
			Text: fmt.Sprintf("Traefik's router %s is on the entrypoints %s, the check went to the entrypoint %s (%s): set label %s.entrypoints, or point --proxy at the port of %s",
				r.Name, strings.Join(eps, ", "), ep.Name, ep.Address, prefix, strings.Join(eps, ", "))}, true
	}
	if ep != nil {
		switch tls := routerTLS(r, ep); {
		case tls && c.Scheme == "http":
			return Explanation{Cause: CauseTLS, Label: prefix + ".tls",
				Text: fmt.Sprintf("Traefik's router %s has TLS (it answers https only) but the check requested http on the entrypoint %s (%s): remove label %s.tls, or give the router a TLS entrypoint (websecure)", r.Name, ep.Name, ep.Address, prefix)}, true
		case !tls && c.Scheme == "https":
			return Explanation{Cause: CauseTLS, Label: prefix + ".tls",
				Text: fmt.Sprintf("the check requested https but Traefik's router %s has no TLS on the entrypoint %s (%s, plain http): add label %s.tls=true, or route it on the http entrypoint", r.Name, ep.Name, ep.Address, prefix)}, true
		}
	}
	if e, ok := explainServers(c, s, f, r); ok {
		return e, true
	}
	switch c.Kind {
	case "no-router":
		if m := unsent(r.Rule); m != "" {
			return Explanation{Cause: CauseRuleUnmatched, Label: prefix + ".rule",
				Text: fmt.Sprintf("Traefik's router %s is enabled on %s, but its rule %s asks for %s, which the check does not send: this 404 is Traefik's own", r.Name, strings.Join(eps, ", "), r.Rule, m)}, true
		}
		return Explanation{Cause: CauseAppAnswer,
			Text: fmt.Sprintf("Traefik's router %s is enabled on %s and routes the request: this 404 is the app's own answer (the same body as Traefik's)", r.Name, strings.Join(eps, ", "))}, true
	case "no-healthy-server", "app-error":
		return Explanation{Cause: CauseAppAnswer,
			Text: fmt.Sprintf("Traefik's router %s routes the request to service %s, whose servers are UP: the %d is the app's own answer", r.Name, r.Service, c.Status)}, true
	}
	return Explanation{}, false
}

// explainServers looks at the service of router r: no server, every
// server DOWN, a port the container does not expose, a server on no
// network Traefik is on.
func explainServers(c Check, s *Snapshot, f *Facts, r *Router) (Explanation, bool) {
	svc := s.Service(r)
	if svc == nil {
		return Explanation{}, false
	}
	svcName, _, _ := strings.Cut(svc.Name, "@")
	portLabel := "traefik.http.services." + svcName + ".loadbalancer.server.port"
	var urls []string
	if svc.LoadBalancer != nil {
		for _, sv := range svc.LoadBalancer.Servers {
			urls = append(urls, sv.URL)
		}
	}
	if len(urls) == 0 {
		return Explanation{Cause: CauseNoServer,
			Text: fmt.Sprintf("Traefik's service %s has no server: Traefik found no address for the containers of service %s", svc.Name, c.Service)}, true
	}
	down := 0
	for _, u := range urls {
		if strings.EqualFold(svc.ServerStatus[u], "DOWN") {
			down++
		}
	}
	if down == len(urls) {
		return Explanation{Cause: CauseServersDown, Label: "traefik.http.services." + svcName + ".loadbalancer.healthcheck",
			Text: fmt.Sprintf("every server of Traefik's service %s is DOWN in Traefik's health check (%s): the app does not answer Traefik's health-check request", svc.Name, strings.Join(urls, ", "))}, true
	}
	ctrs := f.ServiceContainers(c.Service)
	for _, u := range urls {
		ip, port := hostPort(u)
		for _, ct := range ctrs {
			netName := ""
			for n, a := range ct.Networks {
				if a == ip {
					netName = n
				}
			}
			if netName == "" {
				continue
			}
			if len(ct.Exposed) > 0 && port != "" && !slices.Contains(ct.Exposed, port) {
				return Explanation{Cause: CauseWrongPort, Label: portLabel,
					Text: fmt.Sprintf("Traefik's service %s sends to %s, but container %s exposes port %s, not %s: set label %s to the port the app listens on",
						svc.Name, u, ct.Name, strings.Join(ct.Exposed, ", "), port, portLabel)}, true
			}
			if t := f.Traefik; t != nil {
				if _, ok := t.Networks[netName]; !ok {
					return Explanation{Cause: CauseNoSharedNetwork, Label: "traefik.docker.network",
						Text: fmt.Sprintf("Traefik's service %s sends to %s, on network %s, which Traefik (container %s, networks %s) is not on: put service %s on Traefik's network (%s) and set label traefik.docker.network to it",
							svc.Name, u, netName, t.Name, strings.Join(sortedKeys(t.Networks), ", "), c.Service, strings.Join(sortedKeys(t.Networks), ", "))}, true
				}
			}
		}
	}
	return Explanation{}, false
}

// explainNoRouter says why Traefik has no router for the check: the
// container filtered out, or the router dropped by a conflict.
func explainNoRouter(c Check, s *Snapshot, f *Facts) Explanation {
	prefix := "traefik.http.routers." + c.Router
	ctrs := f.ServiceContainers(c.Service)
	if len(ctrs) == 0 && f.Project != "" {
		return Explanation{Cause: CauseNoContainer,
			Text: fmt.Sprintf("Traefik has no router %s: service %s has no container", c.Router, c.Service)}
	}
	for _, ct := range ctrs {
		if ct.State != "running" {
			return Explanation{Cause: CauseNotRunning,
				Text: fmt.Sprintf("Traefik has no router %s: container %s is %s, and Traefik only routes running containers", c.Router, ct.Name, ct.State)}
		}
		if ct.Health != "" && ct.Health != "healthy" {
			return Explanation{Cause: CauseNotHealthy, Label: "healthcheck",
				Text: fmt.Sprintf("Traefik has no router %s: container %s is %s, and Traefik ignores a container with a health check until it is healthy (docker inspect %s shows the health-check outputs)", c.Router, ct.Name, ct.Health, ct.Name)}
		}
		if !strings.EqualFold(strings.TrimSpace(labelValue(ct.Labels, "traefik.enable")), "true") {
			return Explanation{Cause: CauseNoEnable, Label: "traefik.enable",
				Text: fmt.Sprintf("Traefik has no router %s: container %s has no label traefik.enable=true, and a Traefik with exposedByDefault=false ignores it: add traefik.enable: \"true\" to the labels of service %s", c.Router, ct.Name, c.Service)}
		}
		if n := labelValue(ct.Labels, "traefik.docker.network"); n != "" {
			if _, ok := ct.Networks[n]; !ok {
				return Explanation{Cause: CauseDockerNetwork, Label: "traefik.docker.network",
					Text: fmt.Sprintf("Traefik has no router %s: label traefik.docker.network names network %s, which container %s is not on (its networks: %s)", c.Router, n, ct.Name, strings.Join(sortedKeys(ct.Networks), ", "))}
			}
		}
		if t := f.Traefik; t != nil && !shares(ct, *t) {
			return Explanation{Cause: CauseNoSharedNetwork, Label: "networks",
				Text: fmt.Sprintf("Traefik has no router %s: container %s (networks %s) shares no network with Traefik (container %s, networks %s): add Traefik's network to service %s",
					c.Router, ct.Name, strings.Join(sortedKeys(ct.Networks), ", "), t.Name, strings.Join(sortedKeys(t.Networks), ", "), c.Service)}
		}
	}
	if others := f.RouterDefiners(c.Router); len(others) > 0 {
		var who []string
		for _, o := range others {
			who = append(who, fmt.Sprintf("project %s (container %s)", orText(o.Project, "-"), o.Name))
		}
		return Explanation{Cause: CauseRouterConflict, Label: prefix + ".rule",
			Text: fmt.Sprintf("Traefik has no router %s: project %s and %s both define it, with different settings, and Traefik drops a router defined twice differently: rename the router in one of them", c.Router, f.Project, strings.Join(who, ", "))}
	}
	text := fmt.Sprintf("Traefik has no router %s, and the engine shows no reason", c.Router)
	if len(ctrs) > 0 {
		ct := ctrs[0]
		text = fmt.Sprintf("Traefik has no router %s although container %s is running%s with traefik.enable=true on a network Traefik is on: Traefik's log says why", c.Router, ct.Name, map[bool]string{true: ", healthy,", false: ""}[ct.Health == "healthy"])
		if f.Traefik != nil {
			text += " (docker logs " + f.Traefik.Name + ")"
		}
	}
	return Explanation{Cause: CauseUnexplained, Text: text}
}

// unsent names the matchers of a rule the smoke checks do not satisfy
// (ClientIP, Method, Query, a negation), "" when none.
func unsent(rule string) string {
	l := strings.ToLower(rule)
	var out []string
	for _, m := range []string{"ClientIP", "Method", "Query"} {
		if strings.Contains(l, strings.ToLower(m)) {
			out = append(out, m)
		}
	}
	if strings.Contains(strings.NewReplacer("!=", "").Replace(l), "!") {
		out = append(out, "a negation (!)")
	}
	return strings.Join(out, ", ")
}

// errorLabel is the label a router error comes from, by the words of
// Traefik's error text.
func errorLabel(prefix string, errs []string) string {
	all := strings.ToLower(strings.Join(errs, " "))
	switch {
	case strings.Contains(all, "rule"), strings.Contains(all, "parsing"):
		return prefix + ".rule"
	case strings.Contains(all, "entrypoint"):
		return prefix + ".entrypoints"
	case strings.Contains(all, "middleware"):
		return prefix + ".middlewares"
	case strings.Contains(all, "tls"):
		return prefix + ".tls"
	case strings.Contains(all, "service"):
		return prefix + ".service"
	}
	return prefix + ".*"
}

func labelValue(labels map[string]string, key string) string {
	for k, v := range labels {
		if strings.EqualFold(k, key) {
			return v
		}
	}
	return ""
}

func shares(a, b Container) bool {
	for n := range a.Networks {
		if _, ok := b.Networks[n]; ok {
			return true
		}
	}
	return false
}

func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func orText(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
