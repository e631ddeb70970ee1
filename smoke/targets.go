package smoke

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"

	"github.com/picasoft/docker-picatest/transforms/verify"
)

// ExtensionKey is the service extension read by the smoke checks:
//
//	x-picatest:
//	  smoke: ["/healthz", "/api/status"]   # paths checked besides "/"
//	  log-ignore: ["error: cache miss"]    # regexps of log lines to ignore
const ExtensionKey = "x-picatest"

// Extras are the smoke settings of one service, from its x-picatest
// extension.
type Extras struct {
	Smoke     []string         // extra paths, each starting with "/"
	LogIgnore []*regexp.Regexp // log lines matching one of them are ignored
}

// ServiceExtras reads and validates the x-picatest extension of a service.
// The error says which service and which value is wrong (an invalid input).
func ServiceExtras(name string, s types.ServiceConfig) (Extras, error) {
	var raw struct {
		Smoke     []string `mapstructure:"smoke"`
		LogIgnore []string `mapstructure:"log-ignore"`
	}
	var x Extras
	if _, err := s.Extensions.Get(ExtensionKey, &raw); err != nil {
		return x, fmt.Errorf("service %s: %s: %v (expected smoke: [\"/path\", ...] and log-ignore: [\"regexp\", ...])", name, ExtensionKey, err)
	}
	for _, p := range raw.Smoke {
		if !strings.HasPrefix(p, "/") {
			return x, fmt.Errorf("service %s: %s.smoke: path %q must start with \"/\" (e.g. \"/healthz\")", name, ExtensionKey, p)
		}
		x.Smoke = append(x.Smoke, p)
	}
	for _, expr := range raw.LogIgnore {
		re, err := regexp.Compile(expr)
		if err != nil {
			return x, fmt.Errorf("service %s: %s.log-ignore: %q is not a valid regular expression (Go RE2 syntax): %v", name, ExtensionKey, expr, err)
		}
		x.LogIgnore = append(x.LogIgnore, re)
	}
	return x, nil
}

// Target is one URL to request through Traefik.
type Target struct {
	Service string `json:"service"`
	Router  string `json:"router"`
	Rule    string `json:"rule"`
	Scheme  string `json:"scheme"` // http or https
	Host    string `json:"host"`
	Path    string `json:"path"`
	// Smoke: Path comes from x-picatest smoke (the app must answer it with
	// a 2xx or 3xx); otherwise Path is "/" and any answer of the app counts.
	Smoke bool `json:"smoke,omitempty"`
}

// URL is scheme://host/path.
func (t Target) URL() string { return t.Scheme + "://" + t.Host + t.Path }

// RouterScheme is the scheme a Traefik router is served with: https when
// the router has TLS (labels <router>.tls=true, .tls.certresolver,
// .tls.options, .tls.domains...) or its entrypoints include a TLS entrypoint
// (named websecure or https, as in Traefik's documentation), else http.
// router is the label prefix of the router, e.g.
// "traefik.http.routers.pad" (v1: "traefik.frontend" or
// "traefik.<name>.frontend").
func RouterScheme(labels map[string]string, router string) string {
	lower := map[string]string{}
	for k, v := range labels {
		lower[strings.ToLower(k)] = v
	}
	r := strings.ToLower(router)
	if v, ok := lower[r+".tls"]; ok && !strings.EqualFold(strings.TrimSpace(v), "false") {
		return "https"
	}
	for k := range lower {
		if strings.HasPrefix(k, r+".tls.") {
			return "https"
		}
	}
	// v2/v3 <router>.entrypoints, v1 traefik.frontend.entryPoints.
	for _, ep := range strings.Split(lower[r+".entrypoints"], ",") {
		switch strings.ToLower(strings.TrimSpace(ep)) {
		case "websecure", "https":
			return "https"
		}
	}
	return "http"
}

// Targets returns the URLs to check of the services of a transformed
// project: for every HTTP router rule (v2/v3, and v1 frontends) of a
// service, every host of the rule under testDomain, with path "/" then the
// x-picatest smoke paths of the service. TCP routers are not HTTP and are
// left out. Sorted by service, host, path; deduplicated. An invalid
// x-picatest extension is an error.
func Targets(p *types.Project, testDomain string) ([]Target, error) {
	var out []Target
	for _, name := range p.ServiceNames() {
		s := p.Services[name]
		x, err := ServiceExtras(name, s)
		if err != nil {
			return nil, err
		}
		seen := map[string]bool{}
		var svc []Target
		for _, r := range httpRouters(s.Labels) {
			for _, h := range UnderDomain(RuleHosts(r.rule), testDomain) {
				paths := append([]string{"/"}, x.Smoke...)
				for i, path := range paths {
					t := Target{Service: name, Router: r.name, Rule: r.rule, Scheme: r.scheme, Host: h, Path: path, Smoke: i > 0}
					if seen[t.URL()] {
						continue
					}
					seen[t.URL()] = true
					svc = append(svc, t)
				}
			}
		}
		sort.Slice(svc, func(i, j int) bool {
			a, b := svc[i], svc[j]
			if a.Host != b.Host {
				return a.Host < b.Host
			}
			if a.Smoke != b.Smoke {
				return !a.Smoke
			}
			if a.Path != b.Path {
				return a.Path < b.Path
			}
			return a.Scheme < b.Scheme
		})
		out = append(out, svc...)
	}
	return out, nil
}

// router is one HTTP router of a service's Traefik labels.
type router struct {
	name   string // e.g. "pad" for traefik.http.routers.pad.rule
	rule   string
	scheme string // see RouterScheme
}

// httpRouters returns the HTTP routers (v2/v3, and v1 frontends) of a
// service's labels; none when the service says traefik.enable=false. TCP
// routers are not HTTP and are left out.
func httpRouters(labels map[string]string) []router {
	if !traefikEnabled(labels) {
		return nil
	}
	var out []router
	for key, rule := range verify.TraefikRules(labels) {
		lk := strings.ToLower(key)
		if strings.HasPrefix(lk, "traefik.tcp.") {
			continue
		}
		prefix := key[:len(key)-len(".rule")]
		name := prefix
		if strings.HasPrefix(lk, "traefik.http.routers.") {
			name = prefix[len("traefik.http.routers."):]
		}
		out = append(out, router{name: name, rule: rule, scheme: RouterScheme(labels, prefix)})
	}
	return out
}

// URLs returns the test URLs of a service from its labels: scheme://host/
// for every host under testDomain of its HTTP routers (the URLs Targets
// checks with path "/"), sorted and deduplicated.
func URLs(labels map[string]string, testDomain string) []string {
	seen := map[string]bool{}
	var urls []string
	for _, r := range httpRouters(labels) {
		for _, h := range UnderDomain(RuleHosts(r.rule), testDomain) {
			if u := r.scheme + "://" + h + "/"; !seen[u] {
				seen[u] = true
				urls = append(urls, u)
			}
		}
	}
	sort.Strings(urls)
	return urls
}

// traefikEnabled is false only when the service says traefik.enable=false
// (with exposedbydefault=false a missing traefik.enable means not routed,
// but then the rule labels are there for a reason and a missing router is
// worth reporting).
func traefikEnabled(labels map[string]string) bool {
	for k, v := range labels {
		if strings.EqualFold(k, "traefik.enable") {
			return !strings.EqualFold(strings.TrimSpace(v), "false")
		}
	}
	return true
}
