package testurls

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/picasoft/docker-picatest/internal/traefik"
	"github.com/picasoft/docker-picatest/transforms"
)

// Name is the Transform name recorded in every Change.
const Name = "test-urls"

// Transform returns a copy of p with production hostnames rewritten by r (see
// the package documentation for the fields concerned), and the changes made,
// sorted by Where (then Old). p is never modified.
func Transform(p *types.Project, r *Rewriter) (*types.Project, []transforms.Change, error) {
	if p == nil {
		return nil, nil, errors.New("testurls: nil project")
	}
	if r == nil {
		return nil, nil, errors.New("testurls: nil rewriter")
	}
	for _, name := range p.ServiceNames() {
		if _, err := RewritePaths(name, p.Services[name]); err != nil {
			return nil, nil, err
		}
	}
	out, changes := RewriteHosts(p, r, Name)
	return out, changes, nil
}

// ExtensionKey is the service extension holding rewrite-paths:
//
//	x-picatest:
//	  rewrite-paths: true   # hosts inside paths are rewritten too
const ExtensionKey = "x-picatest"

// RewritePaths reads x-picatest rewrite-paths of a service: true when the
// service derives paths from its host name (sites/<host>/...), so that its
// hosts inside paths get the test host too.
func RewritePaths(name string, s types.ServiceConfig) (bool, error) {
	var raw map[string]any
	if _, err := s.Extensions.Get(ExtensionKey, &raw); err != nil || raw == nil {
		return false, nil
	}
	v, ok := raw["rewrite-paths"]
	if !ok {
		return false, nil
	}
	b, ok := v.(bool)
	if !ok {
		return false, fmt.Errorf("service %s: %s.rewrite-paths must be true or false, got %v", name, ExtensionKey, v)
	}
	return b, nil
}

// KeptHost is a production host the test-URL rule leaves in a project on
// purpose.
type KeptHost struct {
	// Where locates it, as Change.Where does.
	Where string `json:"where"`
	Kept
	// Value is the string that keeps it.
	Value string `json:"-"`
	// OutOfStep: the host is kept inside a path here while it is rewritten
	// elsewhere in the project, so the two no longer agree
	// (SITE_NAME=erp.test.picasoft.net, sites/erp.picasoft.net/...).
	OutOfStep bool `json:"out_of_step,omitempty"`
}

// String formats the kept host on one line.
func (k KeptHost) String() string {
	s := fmt.Sprintf("%s: %s (%s)", k.Where, k.Host, k.Reason)
	if k.OutOfStep {
		s += "; rewritten elsewhere in the project: set x-picatest: {rewrite-paths: true} on the service if it derives this path from its host name"
	}
	return s
}

// Text is the content of a file the rewrite reaches (a config file, a file
// of a build context), named as the report names it.
type Text struct {
	Name, Content string
}

// KeptHosts lists the production hosts r leaves on purpose in the strings
// Transform reads (and in the inline content of configs and secrets), then
// in each line of texts ("conf/app.ini:12"), marking those kept inside a
// path while rewritten elsewhere in any of them. p is never modified.
func KeptHosts(p *types.Project, r *Rewriter, texts ...Text) []KeptHost {
	c := &collector{r: r, name: Name, kept: &[]KeptHost{}, rewritten: map[string]bool{}}
	out := p.WithServicesDisabled()
	for _, name := range out.ServiceNames() {
		c.service("services."+name, out.Services[name])
	}
	for k, v := range out.Extensions {
		c.any(k, v)
	}
	for _, k := range slices.Sorted(maps.Keys(p.Configs)) {
		c.str("configs."+k+".content", p.Configs[k].Content)
	}
	for _, k := range slices.Sorted(maps.Keys(p.Secrets)) {
		c.str("secrets."+k+".content", p.Secrets[k].Content)
	}
	model := len(*c.kept)
	for _, t := range texts {
		for i, line := range strings.Split(t.Content, "\n") {
			c.str(t.Name+":"+strconv.Itoa(i+1), line)
		}
	}
	kept := *c.kept
	slices.SortStableFunc(kept[:model], func(a, b KeptHost) int { return cmp.Compare(a.Where, b.Where) })
	for i, k := range kept {
		kept[i].OutOfStep = k.Reason == KeptPath && c.rewritten[strings.ToLower(k.Host)]
	}
	return kept
}

// RewriteHosts returns a copy of p with r applied to every string that can
// carry a hostname (the fields of Transform), and the changes, recorded
// under the transform name and sorted by Where (then Old). Transform
// applies it with the test-URL rule; other host rules (the instance
// suffix) reach exactly the same fields through it. p is never modified.
func RewriteHosts(p *types.Project, r transforms.Rewriter, transform string) (*types.Project, []transforms.Change) {
	// WithServicesDisabled without names is a deep copy, except for the
	// values of x- extensions, which rewriteAny never modifies in place.
	out := p.WithServicesDisabled()
	c := &collector{r: r, name: transform}
	for name, s := range out.Services {
		out.Services[name] = c.service("services."+name, s)
	}
	for k, v := range out.Extensions {
		if nv, ok := c.any(k, v); ok {
			out.Extensions[k] = nv
		}
	}
	slices.SortStableFunc(c.changes, func(a, b transforms.Change) int {
		return cmp.Or(cmp.Compare(a.Where, b.Where), cmp.Compare(a.Old, b.Old))
	})
	return out, c.changes
}

type collector struct {
	r       transforms.Rewriter
	name    string
	changes []transforms.Change
	// kept, when not nil, receives the hosts kept (KeptHosts), and
	// rewritten the hosts rewritten, in lower case.
	kept      *[]KeptHost
	rewritten map[string]bool
}

// str rewrites s, recording the change at where.
func (c *collector) str(where, s string) (string, bool) {
	if r, ok := c.r.(*Rewriter); ok && c.kept != nil {
		for _, k := range r.Kept(s) {
			*c.kept = append(*c.kept, KeptHost{Where: where, Kept: k, Value: s})
		}
		for _, h := range r.ProdHosts(s) {
			c.rewritten[strings.ToLower(strings.ReplaceAll(h, `\.`, "."))] = true
		}
	}
	n, ok := c.r.Rewrite(s)
	if ok {
		c.changes = append(c.changes, transforms.Change{Transform: c.name, Where: where, Old: s, New: n})
	}
	return n, ok
}

// list rewrites the elements of l in place (l is a copy owned by the caller).
func (c *collector) list(where string, l []string) {
	for i, v := range l {
		l[i], _ = c.str(where+"["+strconv.Itoa(i)+"]", v)
	}
}

// service rewrites the deep copy s of a service; where is "services.NAME".
func (c *collector) service(where string, s types.ServiceConfig) types.ServiceConfig {
	// A service that derives paths from its host name gets its hosts
	// rewritten inside paths too; a Traefik rule claims its hosts, so they
	// all get the test host, never-rewritten ones included.
	rules := c.r
	if r, ok := c.r.(*Rewriter); ok {
		if paths, _ := RewritePaths(where, s); paths {
			defer func(r transforms.Rewriter) { c.r = r }(c.r)
			r = r.WithPaths()
			c.r = r
		}
		rules = r.ForRules()
	}
	for k, v := range s.Labels {
		if traefik.IsRule(k) {
			all := c.r
			c.r = rules
			s.Labels[k], _ = c.str(where+".labels."+k, v)
			c.r = all
			continue
		}
		s.Labels[k], _ = c.str(where+".labels."+k, v)
	}
	for k, v := range s.Environment {
		if v != nil {
			if n, ok := c.str(where+".environment."+k, *v); ok {
				s.Environment[k] = &n
			}
		}
	}
	c.list(where+".command", s.Command)
	c.list(where+".entrypoint", s.Entrypoint)
	if s.HealthCheck != nil {
		c.list(where+".healthcheck.test", s.HealthCheck.Test)
	}
	if s.Build != nil {
		for k, v := range s.Build.Args {
			if v != nil {
				if n, ok := c.str(where+".build.args."+k, *v); ok {
					s.Build.Args[k] = &n
				}
			}
		}
	}
	if len(s.ExtraHosts) > 0 {
		hosts := make(types.HostsList, len(s.ExtraHosts))
		for _, host := range slices.Sorted(maps.Keys(s.ExtraHosts)) {
			n, _ := c.str(where+".extra_hosts", host)
			for _, ip := range s.ExtraHosts[host] {
				if !slices.Contains(hosts[n], ip) {
					hosts[n] = append(hosts[n], ip)
				}
			}
			if hosts[n] == nil {
				hosts[n] = s.ExtraHosts[host] // keep an empty, non-nil list as is
			}
		}
		s.ExtraHosts = hosts
	}
	s.PostStart = c.hooks(where+".post_start", s.PostStart)
	s.PreStop = c.hooks(where+".pre_stop", s.PreStop)
	s.Hostname, _ = c.str(where+".hostname", s.Hostname)
	s.DomainName, _ = c.str(where+".domainname", s.DomainName)
	for name, n := range s.Networks {
		if n != nil {
			c.list(where+".networks."+name+".aliases", n.Aliases)
		}
	}
	for k, v := range s.Extensions {
		if nv, ok := c.any(where+"."+k, v); ok {
			s.Extensions[k] = nv
		}
	}
	return s
}

// hooks rewrites the command and environment of lifecycle hooks, in copies.
func (c *collector) hooks(where string, hooks []types.ServiceHook) []types.ServiceHook {
	if hooks == nil {
		return nil
	}
	hooks = slices.Clone(hooks)
	for i, h := range hooks {
		w := where + "[" + strconv.Itoa(i) + "]"
		h.Command = slices.Clone(h.Command)
		c.list(w+".command", h.Command)
		if h.Environment != nil {
			env := make(types.MappingWithEquals, len(h.Environment))
			for _, k := range slices.Sorted(maps.Keys(h.Environment)) {
				v := h.Environment[k]
				if v != nil {
					if n, ok := c.str(w+".environment."+k, *v); ok {
						v = &n
					}
				}
				env[k] = v
			}
			h.Environment = env
		}
		hooks[i] = h
	}
	return hooks
}

// any rewrites the strings in an extension value, returning a new value
// when something changed: v itself, shared with the original project, is
// never modified.
func (c *collector) any(where string, v any) (any, bool) {
	switch v := v.(type) {
	case string:
		return c.str(where, v)
	case map[string]any:
		var out map[string]any
		for _, k := range slices.Sorted(maps.Keys(v)) {
			if nv, ok := c.any(where+"."+k, v[k]); ok {
				if out == nil {
					out = make(map[string]any, len(v))
					for k2, v2 := range v {
						out[k2] = v2
					}
				}
				out[k] = nv
			}
		}
		return out, out != nil
	case types.Extensions:
		if nv, ok := c.any(where, map[string]any(v)); ok {
			return types.Extensions(nv.(map[string]any)), true
		}
	case []any:
		var out []any
		for i, e := range v {
			if ne, ok := c.any(where+"["+strconv.Itoa(i)+"]", e); ok {
				if out == nil {
					out = slices.Clone(v)
				}
				out[i] = ne
			}
		}
		return out, out != nil
	case []string:
		var out []string
		for i, e := range v {
			if ne, ok := c.str(where+"["+strconv.Itoa(i)+"]", e); ok {
				if out == nil {
					out = slices.Clone(v)
				}
				out[i] = ne
			}
		}
		return out, out != nil
	case map[string]string:
		var out map[string]string
		for _, k := range slices.Sorted(maps.Keys(v)) {
			if nv, ok := c.str(where+"."+k, v[k]); ok {
				if out == nil {
					out = make(map[string]string, len(v))
					for k2, v2 := range v {
						out[k2] = v2
					}
				}
				out[k] = nv
			}
		}
		return out, out != nil
	}
	return v, false
}
