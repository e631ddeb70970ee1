package smoke

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
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
	// Headers are sent with the request: those the rule asks for
	// (Header, Headers...).
	Headers map[string]string `json:"headers,omitempty"`
	// Smoke: Path comes from x-picatest smoke (the app must answer it with
	// a 2xx or 3xx); otherwise Path is the one the rule routes ("/", or its
	// PathPrefix...) and any answer of the app counts.
	Smoke bool `json:"smoke,omitempty"`
	// Skip, when not empty, says why the rule gives nothing to request (a
	// HostRegexp under the test domain with no host derived from it): the
	// target is reported, not requested. Host and Path are empty.
	Skip string `json:"skip,omitempty"`
}

// URL is scheme://host/path.
func (t Target) URL() string { return t.Scheme + "://" + t.Host + t.Path }

// Display is the URL, followed by the headers sent when there are some:
// "http://pad.test.example.org/ (X-Api: 1)".
func (t Target) Display() string {
	if len(t.Headers) == 0 {
		return t.URL()
	}
	var hs []string
	for _, k := range slices.Sorted(maps.Keys(t.Headers)) {
		hs = append(hs, k+": "+t.Headers[k])
	}
	return t.URL() + " (" + strings.Join(hs, ", ") + ")"
}

// Targets returns the URLs to check of the services of a transformed
// project: for every HTTP router rule (v2/v3 in either syntax, and v1
// frontends) of a service, every request the rule routes
// (traefik.RuleRequests) whose host is under testDomain, with the path and
// headers the rule asks for, then with the x-picatest smoke paths of the
// service. A HostRegexp gives the host traefik.PatternHost derives from it;
// one whose pattern names the test domain but gives no host is a Skip
// target. TCP routers are not HTTP and are left out. Sorted by service,
// host, path; deduplicated; Skip targets last. An invalid x-picatest
// extension is an error.
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
			reqs, unresolved := ruleRequests(r, testDomain)
			for _, req := range reqs {
				paths := append([]string{req.Path}, x.Smoke...)
				for i, path := range paths {
					t := Target{Service: name, Router: r.Name, Rule: r.Rule, Scheme: r.Scheme, Host: req.Host, Path: path, Headers: req.Headers, Smoke: i > 0}
					if seen[t.Display()] {
						continue
					}
					seen[t.Display()] = true
					svc = append(svc, t)
				}
			}
			for _, u := range unresolved {
				t := Target{Service: name, Router: r.Name, Rule: r.Rule, Scheme: r.Scheme,
					Skip: fmt.Sprintf("HostRegexp(`%s`) gives no host to request (%s); name the test host in a Host() of the rule to have it checked", u.Pattern, u.Reason)}
				if !seen[t.Skip] {
					seen[t.Skip] = true
					svc = append(svc, t)
				}
			}
		}
		sort.SliceStable(svc, func(i, j int) bool {
			a, b := svc[i], svc[j]
			if (a.Skip != "") != (b.Skip != "") {
				return a.Skip == ""
			}
			if a.Host != b.Host {
				return a.Host < b.Host
			}
			if a.Smoke != b.Smoke {
				return !a.Smoke
			}
			if a.Path != b.Path {
				return a.Path < b.Path
			}
			if a.Scheme != b.Scheme {
				return a.Scheme < b.Scheme
			}
			return a.Display() < b.Display()
		})
		out = append(out, svc...)
	}
	return out
}

// ruleRequests returns the requests of router r whose host is under
// testDomain, and its HostRegexp patterns that name testDomain but give no
// host.
func ruleRequests(r traefik.Router, testDomain string) ([]traefik.Request, []traefik.Unresolved) {
	reqs, unresolved := traefik.RuleRequests(r.Rule, r.Syntax)
	var under []traefik.Request
	for _, req := range reqs {
		if len(traefik.UnderDomain([]string{req.Host}, testDomain)) > 0 {
			under = append(under, req)
		}
	}
	var named []traefik.Unresolved
	for _, u := range unresolved {
		if namesDomain(u.Pattern, testDomain) {
			named = append(named, u)
		}
	}
	return under, named
}

// namesDomain reports whether a HostRegexp pattern spells domain, its dots
// written ".", `\.` or "[.]".
func namesDomain(pattern, domain string) bool {
	p := strings.NewReplacer(`\.`, ".", "[.]", ".").Replace(strings.ToLower(pattern))
	return strings.Contains(p, strings.ToLower(domain))
}

// URLs returns the test URLs of a service from its labels: scheme://host
// and the path the rule routes, for every request of its HTTP routers
// whose host is under testDomain (the URLs Targets checks besides the
// x-picatest smoke paths), sorted and deduplicated.
func URLs(labels map[string]string, testDomain string) []string {
	seen := map[string]bool{}
	var urls []string
	for _, r := range traefik.HTTPRouters(labels) {
		reqs, _ := ruleRequests(r, testDomain)
		for _, req := range reqs {
			if u := r.Scheme + "://" + req.Host + req.Path; !seen[u] {
				seen[u] = true
				urls = append(urls, u)
			}
		}
	}
	sort.Strings(urls)
	return urls
}
