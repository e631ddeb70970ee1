// Package traefik reads the Traefik label grammar of a Compose service:
// which labels are router rules (v1 frontends, v2/v3 HTTP and TCP routers),
// the hosts a rule names, the scheme a router is served with, and whether
// Traefik routes the service at all. The transforms' assertions, the smoke
// targets and the check rules all decide these questions here.
package traefik

import (
	"regexp"
	"sort"
	"strings"
)

var (
	// hostMatcherV2 matches Traefik v2/v3 Host(`a`, `b`) and HostSNI(`a`).
	hostMatcherV2 = regexp.MustCompile(`(?i)\bHost(?:SNI)?\(([^)]*)\)`)
	// quoted matches one back-quoted or double-quoted argument.
	quoted = regexp.MustCompile("[`\"]([^`\"]+)[`\"]")
	// hostMatcherV1 matches Traefik v1 Host:a,b up to ';'.
	hostMatcherV1 = regexp.MustCompile(`(?i)\bHost:\s*([^;]+)`)
)

// RuleHosts returns the literal hostnames of a Traefik router rule (v1
// `Host:a,b`, v2/v3 Host(`a`, `b`) and HostSNI), lowercased, deduplicated and
// sorted. HostRegexp patterns are not hosts and are left out.
func RuleHosts(rule string) []string {
	seen := map[string]bool{}
	for _, m := range hostMatcherV2.FindAllStringSubmatch(rule, -1) {
		for _, q := range quoted.FindAllStringSubmatch(m[1], -1) {
			seen[strings.ToLower(strings.TrimSpace(q[1]))] = true
		}
	}
	if !strings.Contains(rule, "(") {
		for _, m := range hostMatcherV1.FindAllStringSubmatch(rule, -1) {
			for _, h := range strings.Split(m[1], ",") {
				if h = strings.ToLower(strings.TrimSpace(h)); h != "" {
					seen[h] = true
				}
			}
		}
	}
	hosts := make([]string, 0, len(seen))
	for h := range seen {
		if h != "" && h != "*" {
			hosts = append(hosts, h)
		}
	}
	sort.Strings(hosts)
	return hosts
}

// UnderDomain keeps the hosts equal to domain or under it.
func UnderDomain(hosts []string, domain string) []string {
	domain = strings.ToLower(domain)
	var out []string
	for _, h := range hosts {
		if h == domain || strings.HasSuffix(h, "."+domain) {
			out = append(out, h)
		}
	}
	return out
}

// ruleKey matches the keys of Traefik router rule labels:
// v2/v3 traefik.http.routers.<name>.rule and traefik.tcp.routers.<name>.rule,
// v1 traefik.frontend.rule and traefik.<name>.frontend.rule.
var ruleKey = regexp.MustCompile(`(?i)^traefik\.(?:(?:http|tcp)\.routers\.[^.]+(?:\.[^.]+)*\.rule|(?:[^.]+\.)?frontend\.rule)$`)

// IsRule reports whether key is the label key of a Traefik router
// rule (case-insensitive).
func IsRule(key string) bool {
	return ruleKey.MatchString(key)
}

// Rules returns the Traefik router rule labels among labels
// (key -> rule), keys as written.
func Rules(labels map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range labels {
		if IsRule(k) {
			out[k] = v
		}
	}
	return out
}

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

// Router is one HTTP router of a service's Traefik labels.
type Router struct {
	Name   string // e.g. "pad" for traefik.http.routers.pad.rule
	Rule   string
	Scheme string // see RouterScheme
	Syntax string // see RuleSyntax: v2, v3 or "" (not said)
}

// HTTPRouters returns the HTTP routers (v2/v3, and v1 frontends) of a
// service's labels; none when the service says traefik.enable=false. TCP
// routers are not HTTP and are left out.
func HTTPRouters(labels map[string]string) []Router {
	if !Enabled(labels) {
		return nil
	}
	var out []Router
	for key, rule := range Rules(labels) {
		lk := strings.ToLower(key)
		if strings.HasPrefix(lk, "traefik.tcp.") {
			continue
		}
		prefix := key[:len(key)-len(".rule")]
		name := prefix
		if strings.HasPrefix(lk, "traefik.http.routers.") {
			name = prefix[len("traefik.http.routers."):]
		}
		out = append(out, Router{Name: name, Rule: rule, Scheme: RouterScheme(labels, prefix), Syntax: RuleSyntax(labels, prefix, rule)})
	}
	return out
}

// Enabled is false only when the service says traefik.enable=false
// (with exposedbydefault=false a missing traefik.enable means not routed,
// but then the rule labels are there for a reason and a missing router is
// worth reporting).
func Enabled(labels map[string]string) bool {
	for k, v := range labels {
		if strings.EqualFold(k, "traefik.enable") {
			return !strings.EqualFold(strings.TrimSpace(v), "false")
		}
	}
	return true
}

// Routed reports whether Traefik routes a service with these labels:
// traefik.enable=true, or a router rule and traefik.enable not false.
func Routed(labels map[string]string) bool {
	enable, set := "", false
	for k, v := range labels {
		if strings.EqualFold(k, "traefik.enable") {
			enable, set = strings.ToLower(strings.TrimSpace(v)), true
		}
	}
	if set && enable == "true" {
		return true
	}
	return (!set || enable != "false") && len(Rules(labels)) > 0
}
