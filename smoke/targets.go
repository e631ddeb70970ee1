package smoke

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"

	"github.com/picasoft/docker-picatest/internal/traefik"
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

// Targets returns the URLs to check of the services of a transformed
// project: for every HTTP router rule (v2/v3, and v1 frontends) of a
// service, every host of the rule under testDomain, with path "/" then the
// x-picatest smoke paths of the service. TCP routers are not HTTP and are
// left out. Sorted by service, host, path; deduplicated. An invalid
// x-picatest extension is an error.
func Targets(p *types.Project, testDomain string) ([]Target, error) {
	extras, err := ProjectExtras(p)
	if err != nil {
		return nil, err
	}
	return TargetsWith(p, testDomain, extras), nil
}

// ProjectExtras reads and validates the x-picatest extension of every
// service of p, by service name.
func ProjectExtras(p *types.Project) (map[string]Extras, error) {
	out := map[string]Extras{}
	for _, name := range p.ServiceNames() {
		x, err := ServiceExtras(name, p.Services[name])
		if err != nil {
			return nil, err
		}
		out[name] = x
	}
	return out, nil
}

// TargetsWith is Targets with the x-picatest extensions already read by
// ProjectExtras.
func TargetsWith(p *types.Project, testDomain string, extras map[string]Extras) []Target {
	var out []Target
	for _, name := range p.ServiceNames() {
		s, x := p.Services[name], extras[name]
		seen := map[string]bool{}
		var svc []Target
		for _, r := range traefik.HTTPRouters(s.Labels) {
			for _, h := range traefik.UnderDomain(traefik.RuleHosts(r.Rule), testDomain) {
				paths := append([]string{"/"}, x.Smoke...)
				for i, path := range paths {
					t := Target{Service: name, Router: r.Name, Rule: r.Rule, Scheme: r.Scheme, Host: h, Path: path, Smoke: i > 0}
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
	return out
}

// URLs returns the test URLs of a service from its labels: scheme://host/
// for every host under testDomain of its HTTP routers (the URLs Targets
// checks with path "/"), sorted and deduplicated.
func URLs(labels map[string]string, testDomain string) []string {
	seen := map[string]bool{}
	var urls []string
	for _, r := range traefik.HTTPRouters(labels) {
		for _, h := range traefik.UnderDomain(traefik.RuleHosts(r.Rule), testDomain) {
			if u := r.Scheme + "://" + h + "/"; !seen[u] {
				seen[u] = true
				urls = append(urls, u)
			}
		}
	}
	sort.Strings(urls)
	return urls
}
