package smoke

import (
	"regexp"
	"sort"
	"strings"
)

var (
	// hostMatcherV2 matches Traefik v2/v3 Host(`a`, `b`) and HostSNI(`a`).
	hostMatcherV2 = regexp.MustCompile("(?i)\\bHost(?:SNI)?\\(([^)]*)\\)")
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
