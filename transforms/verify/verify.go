// Package verify asserts what the transforms must guarantee (SPEC §3.5)
// before anything is deployed: no production hostname is left in a Traefik
// rule, so a test never routes production traffic, and no image name was
// changed, so a test runs (and push pushes) the images the project names.
//
// A broken assertion is an invalid input (exit 2): Check returns an *Error
// listing every problem.
package verify

import (
	"fmt"
	"sort"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"

	"github.com/picasoft/docker-picatest/internal/traefik"
	"github.com/picasoft/docker-picatest/transforms/testurls"
)

// ProdHostFinder finds the production hostnames left in a string.
// testurls.Rewriter implements it.
type ProdHostFinder interface {
	// ProdHosts returns the production hostnames found in s that the
	// rewrite changes.
	ProdHosts(s string) []string
	// Kept returns the production hostnames found in s that the rewrite
	// keeps on purpose, with the rule that keeps each.
	Kept(s string) []testurls.Kept
}

// Problem is one broken assertion.
type Problem struct {
	// Service is the service concerned.
	Service string `json:"service"`
	// Field is where in the service: "labels.<key>" or "image".
	Field string `json:"field"`
	// Value is the offending value in the transformed project.
	Value string `json:"value"`
	// Message says what is wrong and what to do.
	Message string `json:"message"`
}

// String formats the problem on one line.
func (p Problem) String() string {
	return fmt.Sprintf("service %q: %s %q: %s", p.Service, p.Field, p.Value, p.Message)
}

// Error lists every broken assertion, sorted by service and field.
type Error struct {
	Problems []Problem
}

// Error prints a header line, then one problem per line.
func (e *Error) Error() string {
	var b strings.Builder
	if len(e.Problems) == 1 {
		b.WriteString("the transformed project is unsafe to test (1 problem):")
	} else {
		fmt.Fprintf(&b, "the transformed project is unsafe to test (%d problems):", len(e.Problems))
	}
	for _, p := range e.Problems {
		b.WriteString("\n  ")
		b.WriteString(p.String())
	}
	return b.String()
}

// Check returns an *Error when after, the transformed project, is unsafe to
// test:
//   - a Traefik rule label of a service of after still contains a
//     production hostname (as found by f; f nil skips this check), or has a
//     HostRegexp that matches one (in Traefik v2 or v3 syntax: see
//     traefik.PatternHost);
//   - a service of before has another image in after, or is missing from
//     after.
//
// It returns nil when every assertion holds.
func Check(before, after *types.Project, f ProdHostFinder) error {
	var problems []Problem
	if after != nil && f != nil {
		for _, name := range after.ServiceNames() {
			rules := traefik.Rules(after.Services[name].Labels)
			keys := make([]string, 0, len(rules))
			for k := range rules {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				hosts := f.ProdHosts(rules[k])
				hint := ""
				for _, kept := range f.Kept(rules[k]) {
					hosts = append(hosts, fmt.Sprintf("%s (kept by the rewrite: %s)", kept.Host, kept.Reason))
					hint = "; a rule routes a host written on its own (Host(`name.<production domain>`)), never inside an e-mail address or a path, which the rewrite keeps"
				}
				for _, h := range patternProdHosts(after.Services[name].Labels, k, rules[k], f) {
					hosts = append(hosts, h)
					hint = "; in a HostRegexp write the domain as name\\.<production domain> (v3) or name.<production domain> (v2)"
				}
				if len(hosts) == 0 {
					continue
				}
				problems = append(problems, Problem{
					Service: name,
					Field:   "labels." + k,
					Value:   rules[k],
					Message: fmt.Sprintf("Traefik rule still routes production host %s; "+
						"write each host literally in the rule (Host(`name.<production domain>`)) so it is rewritten "+
						"to the test domain, or check --prod-domain/--test-domain%s", strings.Join(hosts, ", "), hint),
				})
			}
		}
	}
	if before != nil {
		for _, name := range before.ServiceNames() {
			old := before.Services[name].Image
			s, ok := serviceOf(after, name)
			switch {
			case !ok:
				problems = append(problems, Problem{
					Service: name,
					Field:   "image",
					Value:   old,
					Message: "service disappeared from the transformed project; this is a bug in docker picatest, please report it",
				})
			case s.Image != old:
				problems = append(problems, Problem{
					Service: name,
					Field:   "image",
					Value:   s.Image,
					Message: fmt.Sprintf("image was %q before transforming: a transform must never change an image name; "+
						"this is a bug in docker picatest, please report it", old),
				})
			}
		}
	}
	if len(problems) == 0 {
		return nil
	}
	sort.SliceStable(problems, func(i, j int) bool {
		if problems[i].Service != problems[j].Service {
			return problems[i].Service < problems[j].Service
		}
		return problems[i].Field < problems[j].Field
	})
	return &Error{Problems: problems}
}

// patternProdHosts returns, for every HostRegexp pattern of the rule
// labelled key, the host traefik.PatternHost derives from it (in the
// router's syntax) when f finds it a production host: a pattern can match
// production hosts without spelling the domain as f finds it (pad[.]x[.]net,
// ^.+x\.net$), and then the test-URL rewrite did not change it.
func patternProdHosts(labels map[string]string, key, rule string, f ProdHostFinder) []string {
	var out []string
	syntax := traefik.RuleSyntax(labels, key[:len(key)-len(".rule")], rule)
	for _, p := range traefik.HostPatterns(rule) {
		if h, _ := traefik.PatternHost(p, syntax); h != "" && len(f.ProdHosts(h)) > 0 {
			out = append(out, fmt.Sprintf("%s (HostRegexp(`%s`) matches it)", h, p))
		}
	}
	return out
}

func serviceOf(p *types.Project, name string) (types.ServiceConfig, bool) {
	if p == nil {
		return types.ServiceConfig{}, false
	}
	s, ok := p.Services[name]
	return s, ok
}
