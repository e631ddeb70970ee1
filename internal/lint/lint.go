// Package lint holds the rules of `docker picatest check`: a static review
// of a Compose project against the conventions of Picasoft's service
// folders (explicit non-latest tags, built images under the home registry,
// an example for every secrets file and the real one ignored by git, a
// healthcheck on every Traefik-routed service, rules on the production
// domain, Traefik's network), and the YAML locator that gives each
// Finding its Compose file and line.
package lint

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/compose-spec/compose-go/v2/dotenv"
	"github.com/compose-spec/compose-go/v2/types"
	"github.com/distribution/reference"
	"go.yaml.in/yaml/v4"

	"github.com/picasoft/docker-picatest/internal/gitrepo"
	"github.com/picasoft/docker-picatest/internal/registry"
	"github.com/picasoft/docker-picatest/internal/settings"
	"github.com/picasoft/docker-picatest/internal/traefik"
	"github.com/picasoft/docker-picatest/internal/traefikapi"
	"github.com/picasoft/docker-picatest/internal/treefile"
	"github.com/picasoft/docker-picatest/smoke"
	"github.com/picasoft/docker-picatest/transforms"
	"github.com/picasoft/docker-picatest/transforms/examplesecrets"
	"github.com/picasoft/docker-picatest/transforms/inferbuild"
)

// Severities of a finding.
const (
	// Error fails check (exit 1).
	Error = "error"
	// Warning is reported and does not fail check.
	Warning = "warning"
)

// Finding is one problem found by check.
type Finding struct {
	Severity string `json:"severity"`
	File     string `json:"file"`
	Line     int    `json:"line"`
	Rule     string `json:"rule"`
	Service  string `json:"service,omitempty"`
	Message  string `json:"message"`
	Hint     string `json:"hint,omitempty"`

	// path locates the finding in the Compose files (keys from the root).
	path []string
}

// Git answers the git questions of check; the zero RepoGit
// asks git, a test may answer itself.
type Git interface {
	// status reports whether path is in a git work tree, tracked, and
	// ignored.
	status(path string) (inRepo, tracked, ignored bool)
}

type RepoGit struct{}

// status asks git.
func (RepoGit) status(path string) (inRepo, tracked, ignored bool) {
	return gitrepo.FileStatus(path)
}

// check returns the findings on p (unlocated, unsorted).
func check(p *types.Project, s settings.Settings, g Git) []Finding {
	var out []Finding
	add := func(f Finding) { out = append(out, f) }
	for _, name := range p.ServiceNames() {
		svc := p.Services[name]
		checkImage(name, svc, s, add)
		checkTraefik(p, name, svc, s, add)
		if traefik.Routed(svc.Labels) {
			checkRouterPort(name, svc, add)
		}
	}
	checkSecretsFiles(p, g, add)
	checkMissingBuild(p, s, add)
	checkHosts(p, s, add)
	return out
}

// checkMissingBuild reports the home-made images without a build section:
// up and push build them as the procedure does (inferbuild), or cannot.
func checkMissingBuild(p *types.Project, s settings.Settings, add func(Finding)) {
	_, changes, err := inferbuild.Transform(p, registry.HomeMade(s.Registry))
	for _, c := range changes {
		name := strings.TrimSuffix(strings.TrimPrefix(c.Where, "services."), ".build")
		add(Finding{Severity: Warning, Rule: "build-missing", Service: name,
			Message: fmt.Sprintf("service %s has the home-made image %s but no build section: up and push build it from ./%s, as the procedure does by hand", name, p.Services[name].Image, inferbuild.Dockerfile),
			Hint:    fmt.Sprintf("add '%s' to service %s, so that docker compose builds it too", inferbuild.BuildSection(), name),
			path:    []string{"services", name, "image"}})
	}
	var e *inferbuild.Error
	if !errors.As(err, &e) {
		return
	}
	for _, pr := range e.Problems {
		add(Finding{Severity: Error, Rule: "build-missing", Service: pr.Service,
			Message: fmt.Sprintf("service %s has the home-made image %s but no build section, and it cannot be built from this folder (%s)", pr.Service, pr.Image, dockerfilesFound(pr.Candidates)),
			Hint:    pr.Hint,
			path:    []string{"services", pr.Service, "image"}})
	}
}

// dockerfilesFound says which Dockerfiles the folder holds.
func dockerfilesFound(candidates []string) string {
	if len(candidates) == 0 {
		return "no Dockerfile"
	}
	return "Dockerfiles: " + strings.Join(candidates, ", ")
}

func checkImage(name string, svc types.ServiceConfig, s settings.Settings, add func(Finding)) {
	if svc.Image == "" {
		if svc.Build != nil {
			add(Finding{Severity: Warning, Rule: "build-without-image", Service: name,
				Message: fmt.Sprintf("service %s is built but has no image name", name),
				Hint:    fmt.Sprintf("add 'image: %s/<name>:<version>' so that 'docker picatest push' can publish it", s.Registry),
				path:    []string{"services", name, "build"}})
		}
		return
	}
	named, err := reference.ParseNormalizedNamed(svc.Image)
	if err != nil {
		add(Finding{Severity: Error, Rule: "image-invalid", Service: name,
			Message: fmt.Sprintf("service %s: invalid image reference %q: %v", name, svc.Image, err),
			Hint:    "write the image as [registry/]name:tag",
			path:    []string{"services", name, "image"}})
		return
	}
	_, digested := named.(reference.Digested)
	tagged, hasTag := named.(reference.Tagged)
	switch {
	case hasTag && tagged.Tag() == "latest":
		add(Finding{Severity: Error, Rule: "image-latest", Service: name,
			Message: fmt.Sprintf("service %s uses image %s with the tag latest", name, svc.Image),
			Hint:    "pin an explicit version tag, so that test and production run the same image",
			path:    []string{"services", name, "image"}})
	case !hasTag && !digested:
		add(Finding{Severity: Error, Rule: "image-untagged", Service: name,
			Message: fmt.Sprintf("service %s uses image %s without a tag (latest is implied)", name, svc.Image),
			Hint:    "add an explicit version tag, e.g. " + reference.FamiliarName(named) + ":1.0",
			path:    []string{"services", name, "image"}})
	}
	if svc.Build != nil && !registry.UnderRegistry(named, s.Registry) {
		add(Finding{Severity: Error, Rule: "build-image-registry", Service: name,
			Message: fmt.Sprintf("service %s is built but its image %s is not under the registry %s", name, svc.Image, s.Registry),
			Hint:    fmt.Sprintf("name it %s/%s:<version>, or set the registry (--registry, PICATEST_REGISTRY, %s)", s.Registry, lastPathElem(named), settings.File),
			path:    []string{"services", name, "image"}})
	}
}

func lastPathElem(named reference.Named) string {
	path := reference.Path(named)
	return path[strings.LastIndex(path, "/")+1:]
}

func checkTraefik(p *types.Project, name string, svc types.ServiceConfig, s settings.Settings, add func(Finding)) {
	if !traefik.Routed(svc.Labels) {
		return
	}
	if !smoke.HasHealthcheck(svc) {
		add(Finding{Severity: Warning, Rule: "traefik-healthcheck", Service: name,
			Message: fmt.Sprintf("service %s is routed by Traefik but has no healthcheck in the Compose file", name),
			Hint:    "add a healthcheck so that 'up' waits for the service to be ready; if the image declares its own HEALTHCHECK this is fine, but check cannot read the image statically",
			path:    []string{"services", name}})
	}

	rules := traefik.Rules(svc.Labels)
	keys := make([]string, 0, len(rules))
	for k := range rules {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		// The literal hosts, then the host each HostRegexp matches (in the
		// router's syntax, v2 template or v3 regexp), named by its pattern.
		type ruleHost struct{ host, what string }
		var hosts []ruleHost
		for _, h := range traefik.RuleHosts(rules[k]) {
			hosts = append(hosts, ruleHost{h, h})
		}
		syntax := traefik.RuleSyntax(svc.Labels, k[:len(k)-len(".rule")], rules[k])
		for _, pat := range traefik.HostPatterns(rules[k]) {
			// A pattern without a dot in its host (HostRegexp(`.+`)) is a
			// catch-all, not a domain.
			if h, _ := traefik.PatternHost(pat, syntax); strings.Contains(h, ".") {
				hosts = append(hosts, ruleHost{h, fmt.Sprintf("%s (HostRegexp(`%s`) matches it)", h, pat)})
			}
		}
		for _, h := range hosts {
			switch {
			case len(traefik.UnderDomain([]string{h.host}, s.TestDomain)) > 0:
				add(Finding{Severity: Error, Rule: "traefik-test-host", Service: name,
					Message: fmt.Sprintf("service %s: Traefik rule %s routes the test host %s", name, k, h.what),
					Hint:    fmt.Sprintf("write the production host (under %s): picatest rewrites it to the test domain in memory; a test URL in git is a mistake", s.ProdDomain),
					path:    []string{"services", name, "labels", k}})
			case len(traefik.UnderDomain([]string{h.host}, s.ProdDomain)) == 0:
				add(Finding{Severity: Warning, Rule: "traefik-foreign-host", Service: name,
					Message: fmt.Sprintf("service %s: Traefik rule %s routes %s, not under the production domain %s", name, k, h.what, s.ProdDomain),
					Hint:    fmt.Sprintf("use a host under %s (or set --prod-domain, PICATEST_PROD_DOMAIN, %s); this host is not rewritten for the test machine", s.ProdDomain, settings.File),
					path:    []string{"services", name, "labels", k}})
			}
		}
	}

	checkTraefikNetwork(p, name, svc, add)
}

// checkTraefikNetwork reports a traefik.docker.network naming a network
// the service is not on, and a routed service on no external network.
func checkTraefikNetwork(p *types.Project, name string, svc types.ServiceConfig, add func(Finding)) {
	// The networks of the service: by Compose key and by Docker name.
	onNetwork := map[string]bool{}
	external := false
	for key := range svc.Networks {
		onNetwork[key] = true
		if n, ok := p.Networks[key]; ok {
			if n.Name != "" {
				onNetwork[n.Name] = true
			}
			if bool(n.External) {
				external = true
			}
		}
	}
	if svc.NetworkMode != "" {
		external = true // network_mode: the service is not on project networks; nothing to say
	}
	for k, v := range svc.Labels {
		if !strings.EqualFold(k, "traefik.docker.network") {
			continue
		}
		if !onNetwork[v] {
			add(Finding{Severity: Warning, Rule: "traefik-network", Service: name,
				Message: fmt.Sprintf("service %s: label %s names network %s, which the service is not on", name, k, v),
				Hint:    "set it to the Docker name of the external network Traefik is on, and add that network to the service",
				path:    []string{"services", name, "labels", k}})
		}
	}
	if !external {
		add(Finding{Severity: Warning, Rule: "traefik-external-network", Service: name,
			Message: fmt.Sprintf("service %s is routed by Traefik but is on no external network", name),
			Hint:    "add the external network Traefik is on (networks: {proxy: {external: true}}), or Traefik cannot reach it",
			path:    []string{"services", name, "networks"}})
	}
}

// secretsRef is a file referenced by env_file, secrets: or configs:.
type secretsRef struct {
	file    string
	path    []string
	service string
}

func checkSecretsFiles(p *types.Project, g Git, add func(Finding)) {
	var refs []secretsRef
	for _, name := range p.ServiceNames() {
		for _, ef := range p.Services[name].EnvFiles {
			refs = append(refs, secretsRef{file: ef.Path, path: []string{"services", name, "env_file"}, service: name})
		}
	}
	for _, name := range p.ServiceNames() {
		for _, v := range p.Services[name].Volumes {
			if v.Type != types.VolumeTypeBind {
				continue
			}
			if st, err := os.Stat(v.Source); err != nil || st.IsDir() {
				continue // a directory, or nothing mounted yet
			}
			refs = append(refs, secretsRef{file: v.Source, path: []string{"services", name, "volumes"}, service: name})
		}
	}
	for _, name := range slices.Sorted(maps.Keys(p.Secrets)) {
		if f := p.Secrets[name].File; f != "" {
			refs = append(refs, secretsRef{file: f, path: []string{"secrets", name, "file"}})
		}
	}
	for _, name := range slices.Sorted(maps.Keys(p.Configs)) {
		if f := p.Configs[name].File; f != "" {
			refs = append(refs, secretsRef{file: f, path: []string{"configs", name, "file"}})
		}
	}
	seen := map[string]bool{}
	for _, r := range refs {
		if !filepath.IsAbs(r.file) {
			r.file = filepath.Join(p.WorkingDir, r.file)
		}
		if seen[r.file] || !examplesecrets.IsSecretsFile(r.file) {
			continue
		}
		seen[r.file] = true
		rel := relTo(p.WorkingDir, r.file)
		if _, err := os.Stat(r.file + examplesecrets.ExampleSuffix); err != nil {
			add(Finding{Severity: Error, Rule: "secrets-example", Service: r.service,
				Message: fmt.Sprintf("secrets file %s has no %s", rel, rel+examplesecrets.ExampleSuffix),
				Hint:    fmt.Sprintf("commit %s with the same keys and fake values: tests run on it, never on the real secrets", rel+examplesecrets.ExampleSuffix),
				path:    r.path})
		} else {
			checkExample(p.WorkingDir, r, add)
		}
		inRepo, tracked, ignored := g.status(r.file)
		switch {
		case !inRepo:
		case tracked:
			add(Finding{Severity: Error, Rule: "secrets-tracked", Service: r.service,
				Message: fmt.Sprintf("real secrets file %s is tracked by git", rel),
				Hint:    fmt.Sprintf("run 'git rm --cached %s', add it to .gitignore, and change the secrets it exposed", rel),
				path:    r.path})
		case !ignored:
			add(Finding{Severity: Warning, Rule: "secrets-not-ignored", Service: r.service,
				Message: fmt.Sprintf("real secrets file %s is not ignored by git", rel),
				Hint:    fmt.Sprintf("add %s (or *%s) to .gitignore so that it is never committed", filepath.Base(rel), examplesecrets.SecretsSuffix),
				path:    r.path})
		}
	}
}

// checkExample reports the example of the secrets file r that would put
// the real values in a test: the real file itself under another name (a
// link, refused by up), one leaving the project, or a copy holding the
// real values.
func checkExample(dir string, r secretsRef, add func(Finding)) {
	example := r.file + examplesecrets.ExampleSuffix
	rel, relEx := relTo(dir, r.file), relTo(dir, example)
	if msg, err := examplesecrets.ExampleProblem(example, r.file, dir); err == nil && msg != "" {
		add(Finding{Severity: Error, Rule: "secrets-example-real", Service: r.service,
			Message: msg,
			Hint:    fmt.Sprintf("'git rm %s', then commit a regular file %s with the same keys and fake values", relEx, relEx),
			path:    r.path})
		return
	}
	if sameValues(example, r.file) {
		add(Finding{Severity: Error, Rule: "secrets-example-real", Service: r.service,
			Message: fmt.Sprintf("example %s holds the values of the real secrets file %s: tests would run on them", relEx, rel),
			Hint:    fmt.Sprintf("put fake values in %s, and change the real secrets if it was committed", relEx),
			path:    r.path})
	}
}

// sameValues reports whether the example and the real file, both present,
// hold the same text, or the same non-empty KEY=value pairs once parsed as
// dotenv files. Files that cannot be read (bounded) say nothing.
func sameValues(example, real string) bool {
	e, err := treefile.ReadFile(example, treefile.SmallFile)
	if err != nil {
		return false
	}
	r, err := treefile.ReadFile(real, treefile.SmallFile)
	if err != nil {
		return false
	}
	if len(bytes.TrimSpace(e)) > 0 && bytes.Equal(bytes.TrimSpace(e), bytes.TrimSpace(r)) {
		return true
	}
	noLookup := func(string) (string, bool) { return "", false }
	em, err1 := dotenv.UnmarshalBytesWithLookup(e, noLookup)
	rm, err2 := dotenv.UnmarshalBytesWithLookup(r, noLookup)
	return err1 == nil && err2 == nil && len(em) > 0 && maps.Equal(em, rm)
}

// relTo is path as check prints it: relative to dir inside it, absolute
// outside (transforms.DisplayPath).
func relTo(dir, path string) string {
	return transforms.DisplayPath(dir, path)
}

// yamlLine returns the line of the key at path in the document n, 0 when
// absent. A label key is also found in the list form of labels
// ("- key=value"), and the last element of a path may be a dotted key.
func yamlLine(n *yaml.Node, path []string) int {
	if n == nil {
		return 0
	}
	n = resolveAlias(n)
	if n.Kind == yaml.DocumentNode {
		if len(n.Content) == 0 {
			return 0
		}
		n = resolveAlias(n.Content[0])
	}
	line := 0
	for _, key := range path {
		n = resolveAlias(n)
		switch n.Kind {
		case yaml.MappingNode:
			found := false
			for i := 0; i+1 < len(n.Content); i += 2 {
				if n.Content[i].Value == key {
					line = n.Content[i].Line
					n = n.Content[i+1]
					found = true
					break
				}
			}
			if !found {
				return 0
			}
		case yaml.SequenceNode:
			found := false
			for _, item := range n.Content {
				item = resolveAlias(item)
				if item.Kind == yaml.ScalarNode && (item.Value == key || strings.HasPrefix(item.Value, key+"=")) {
					line = item.Line
					n = item
					found = true
					break
				}
			}
			if !found {
				return 0
			}
		default:
			return 0
		}
	}
	return line
}

func resolveAlias(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

// sortFindings orders findings by file, line, severity (errors first),
// rule and message.
func sortFindings(fs []Finding) {
	sort.SliceStable(fs, func(i, j int) bool {
		a, b := fs[i], fs[j]
		if a.File != b.File {
			return a.File < b.File
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		if a.Severity != b.Severity {
			return a.Severity == Error
		}
		if a.Rule != b.Rule {
			return a.Rule < b.Rule
		}
		return a.Message < b.Message
	})
}

// Run returns the findings on p, each located in the Compose files (file
// and line) and sorted by file, line, severity (errors first), rule and
// message.
func Run(p *types.Project, s settings.Settings, g Git) []Finding {
	return RunWith(p, s, g, nil)
}

// RunWith is Run with the engine's containers (nil when the engine is not
// reachable): then the routers another running project also defines are
// reported too (RouterConflicts).
func RunWith(p *types.Project, s settings.Settings, g Git, f *traefikapi.Facts) []Finding {
	findings := check(p, s, g)
	if f != nil {
		findings = append(findings, RouterConflicts(p, f)...)
	}
	locateFindings(p, findings)
	sortFindings(findings)
	return findings
}

// Routing returns what can be known before starting about how Traefik
// will route the services of p (up --dry-run): a router whose port
// Traefik guesses (traefik-port), traefik.docker.network naming a network
// the service is not on (traefik-network), and, with the engine's
// containers (f, nil when the engine is not reachable), a router name
// another running project also uses (traefik-router-conflict).
func Routing(p *types.Project, f *traefikapi.Facts) []Finding {
	var findings []Finding
	add := func(x Finding) {
		if x.Rule != "traefik-external-network" {
			findings = append(findings, x)
		}
	}
	for _, name := range p.ServiceNames() {
		svc := p.Services[name]
		if traefik.Routed(svc.Labels) {
			checkRouterPort(name, svc, add)
			checkTraefikNetwork(p, name, svc, add)
		}
	}
	if f != nil {
		findings = append(findings, RouterConflicts(p, f)...)
	}
	locateFindings(p, findings)
	sortFindings(findings)
	return findings
}
