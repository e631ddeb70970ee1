package instance

import (
	"cmp"
	"errors"
	"maps"
	"slices"

	"github.com/compose-spec/compose-go/v2/types"

	"github.com/picasoft/docker-picatest/internal/traefik"
	"github.com/picasoft/docker-picatest/transforms"
	"github.com/picasoft/docker-picatest/transforms/testurls"
)

// Name is the Transform name recorded in every Change.
const Name = "instance"

// Label is the label that records the instance, on its containers,
// volumes and networks: the reset and down of an instance never remove a
// volume or network without it.
const Label = "net.picasoft.picatest.instance"

// composeProjectLabel is the label the Compose SDK's loader puts on every
// service (api.ProjectLabel).
const composeProjectLabel = "com.docker.compose.project"

// Transform returns a copy of p as instance r.Instance() of it (see the
// package documentation), with the changes made, sorted by Where. It runs
// after the test-URL transform: it acts on test hosts. p is never
// modified.
func Transform(p *types.Project, r *Rewriter) (*types.Project, []transforms.Change, error) {
	if p == nil {
		return nil, nil, errors.New("instance: nil project")
	}
	if r == nil {
		return nil, nil, errors.New("instance: nil rewriter")
	}
	// A deep copy (see testurls.RewriteHosts): its maps are ours to edit.
	out, changes := testurls.RewriteHosts(p, r, Name)
	c := &collector{inst: r.inst, changes: changes}
	c.project(p.Name, out)
	defined := definedObjects(out)
	for name, s := range out.Services {
		out.Services[name] = c.service(name, s, p.Name, out.Name, defined)
	}
	if err := checkCollisions(p, out, r.inst); err != nil {
		return nil, nil, err
	}
	slices.SortStableFunc(c.changes, func(a, b transforms.Change) int {
		return cmp.Or(cmp.Compare(a.Where, b.Where), cmp.Compare(a.Old, b.Old))
	})
	return out, c.changes, nil
}

type collector struct {
	inst    string
	changes []transforms.Change
}

func (c *collector) add(where, old, new string) {
	c.changes = append(c.changes, transforms.Change{Transform: Name, Where: where, Old: old, New: new})
}

// project renames the project and its top-level resources.
func (c *collector) project(old string, out *types.Project) {
	out.Name = ProjectName(old, c.inst)
	c.add("name", old, out.Name)
	// compose-go names a resource without a name "<project>_<key>".
	rename := func(key, name string) string {
		if name == old+"_"+key {
			return out.Name + "_" + key
		}
		return Suffixed(name, c.inst)
	}
	for _, key := range slices.Sorted(maps.Keys(out.Volumes)) {
		v := out.Volumes[key]
		n := Suffixed(v.Name, c.inst)
		if !bool(v.External) {
			n = rename(key, v.Name)
		}
		c.add("volumes."+key+".name", v.Name, n)
		v.Name, v.External = n, false
		v.Labels = withLabel(v.Labels, Label, c.inst)
		out.Volumes[key] = v
	}
	for _, key := range slices.Sorted(maps.Keys(out.Networks)) {
		if n := out.Networks[key]; !bool(n.External) {
			nn := rename(key, n.Name)
			c.add("networks."+key+".name", n.Name, nn)
			n.Name = nn
			n.Labels = withLabel(n.Labels, Label, c.inst)
			out.Networks[key] = n
		}
	}
	for _, key := range slices.Sorted(maps.Keys(out.Configs)) {
		o := types.FileObjectConfig(out.Configs[key])
		if c.fileObject("configs."+key, key, &o, rename) {
			out.Configs[key] = types.ConfigObjConfig(o)
		}
	}
	for _, key := range slices.Sorted(maps.Keys(out.Secrets)) {
		o := types.FileObjectConfig(out.Secrets[key])
		if c.fileObject("secrets."+key, key, &o, rename) {
			out.Secrets[key] = types.SecretConfig(o)
		}
	}
}

// fileObject renames a config or secret that is not external.
func (c *collector) fileObject(where, key string, o *types.FileObjectConfig, rename func(key, name string) string) bool {
	if bool(o.External) || o.Name == "" {
		return false
	}
	n := rename(key, o.Name)
	c.add(where+".name", o.Name, n)
	o.Name = n
	return true
}

// service applies the instance to the deep copy s of service name.
func (c *collector) service(name string, s types.ServiceConfig, oldProject, newProject string, defined map[traefik.Object]bool) types.ServiceConfig {
	where := "services." + name
	if s.CustomLabels[composeProjectLabel] == oldProject {
		s.CustomLabels[composeProjectLabel] = newProject
	}
	if s.ContainerName != "" {
		n := Suffixed(s.ContainerName, c.inst)
		c.add(where+".container_name", s.ContainerName, n)
		s.ContainerName = n
	}
	labels, renamed := traefik.RenameObjects(s.Labels, func(o traefik.Object) (string, bool) {
		if defined[o] {
			return Suffixed(o.Name, c.inst), true
		}
		return "", false
	})
	for _, k := range slices.Sorted(maps.Keys(renamed)) {
		old := renamed[k]
		if old[0] != k {
			c.add(where+".labels", old[0], k)
		}
		if old[1] != labels[k] {
			c.add(where+".labels."+k, old[1], labels[k])
		}
	}
	s.Labels = withLabel(labels, Label, c.inst)
	c.add(where+".labels."+Label, "", c.inst)
	return s
}

// definedObjects are the Traefik objects that the labels of p's services
// define.
func definedObjects(p *types.Project) map[traefik.Object]bool {
	defined := map[traefik.Object]bool{}
	for _, s := range p.Services {
		for k := range s.Labels {
			if o, _, ok := traefik.ObjectOf(k); ok {
				defined[o] = true
			}
		}
	}
	return defined
}

// withLabel returns labels (a map owned by the caller, or nil) with k=v.
func withLabel(labels types.Labels, k, v string) types.Labels {
	if labels == nil {
		labels = types.Labels{}
	}
	labels[k] = v
	return labels
}
