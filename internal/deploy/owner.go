package deploy

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"
	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/compose/v5/pkg/api"
	"github.com/moby/moby/client"

	"github.com/picasoft/docker-picatest/internal/exitcode"
	"github.com/picasoft/docker-picatest/internal/traefik"
	"github.com/picasoft/docker-picatest/transforms/instance"
)

// Ownership says whose a volume or network that the project declares is
// (SPEC §5: the reset and down remove only what the test deployment owns).
type Ownership int

const (
	// Absent: it does not exist on the engine; Compose's up creates it,
	// for the deployment.
	Absent Ownership = iota
	// Owned: Compose created it for this deployment. The reset and down
	// remove it.
	Owned
	// External: the project declares it external. The reset removes and
	// re-creates an external volume empty, after a confirmation; down
	// keeps it.
	External
	// NotOwned: it exists, but Compose did not create it for this
	// deployment: it carries another project's Compose label, no Compose
	// label at all, or another instance label than the deployment's. It
	// is treated as an external one: the reset resets a volume only after
	// the same confirmation (and never removes a network); down keeps
	// both.
	NotOwned
)

// ownership is the rule, decided here only: an object the project
// declares (external or not, with the labels the project gives it) that
// exists (with the labels it has on the engine) is the deployment's own
// when Compose created it for project p (its com.docker.compose.project
// label) and for the same instance (the instance label the project gives
// it, none for the default deployment: an instance's volume of the same
// name is not the default deployment's).
func ownership(external, exists bool, declared, existing map[string]string, project string) Ownership {
	switch {
	case external:
		return External
	case !exists:
		return Absent
	case existing[api.ProjectLabel] == project && existing[instance.Label] == declared[instance.Label]:
		return Owned
	default:
		return NotOwned
	}
}

// Object is a volume or network that the project declares and does not
// own.
type Object struct {
	// Kind is "volume" or "network".
	Kind string
	// Name is its Docker name.
	Name string
	// Labels are those it has on the engine.
	Labels map[string]string
}

// Whose says who created o, from its labels.
func (o Object) Whose() string {
	project, inst := o.Labels[api.ProjectLabel], o.Labels[instance.Label]
	switch {
	case project == "":
		return "not created by Docker Compose"
	case inst != "":
		return fmt.Sprintf("created by Compose for project %s, instance %s", project, inst)
	default:
		return "created by Compose for project " + project
	}
}

func (o Object) String() string {
	return fmt.Sprintf("%s %s (%s)", o.Kind, o.Name, o.Whose())
}

// ObjectClient is the part of the moby client that the ownership rule
// needs.
type ObjectClient interface {
	VolumeInspect(ctx context.Context, volumeID string, options client.VolumeInspectOptions) (client.VolumeInspectResult, error)
	NetworkList(ctx context.Context, options client.NetworkListOptions) (client.NetworkListResult, error)
}

// NotOwnedObjects returns the volumes and networks of p, not external,
// that exist on the engine and that Compose did not create for this
// deployment (ownership), volumes first, each sorted by name.
func NotOwnedObjects(ctx context.Context, c ObjectClient, p *types.Project) ([]Object, error) {
	var out []Object
	for _, key := range slices.Sorted(maps.Keys(p.Volumes)) {
		v := p.Volumes[key]
		if bool(v.External) {
			continue
		}
		res, err := c.VolumeInspect(ctx, v.Name, client.VolumeInspectOptions{})
		if err != nil && !cerrdefs.IsNotFound(err) {
			return nil, fmt.Errorf("inspecting volume %s: %w", v.Name, err)
		}
		if ownership(false, err == nil, v.Labels, res.Volume.Labels, p.Name) == NotOwned {
			out = append(out, Object{Kind: "volume", Name: v.Name, Labels: res.Volume.Labels})
		}
	}
	if len(p.Networks) == 0 {
		return sortObjects(out), nil
	}
	res, err := c.NetworkList(ctx, client.NetworkListOptions{})
	if err != nil {
		return nil, fmt.Errorf("listing the networks: %w", err)
	}
	for _, key := range slices.Sorted(maps.Keys(p.Networks)) {
		n := p.Networks[key]
		if bool(n.External) {
			continue
		}
		for _, e := range res.Items {
			// Several networks can have one name: each counts.
			if e.Name == n.Name && ownership(false, true, n.Labels, e.Labels, p.Name) == NotOwned {
				out = append(out, Object{Kind: "network", Name: n.Name, Labels: e.Labels})
				break
			}
		}
	}
	return sortObjects(out), nil
}

func sortObjects(l []Object) []Object {
	slices.SortStableFunc(l, func(a, b Object) int {
		if a.Kind != b.Kind {
			return strings.Compare(b.Kind, a.Kind) // volumes first
		}
		return strings.Compare(a.Name, b.Name)
	})
	return l
}

// Volumes returns the names of the volumes of l.
func Volumes(l []Object) []string {
	var names []string
	for _, o := range l {
		if o.Kind == "volume" {
			names = append(names, o.Name)
		}
	}
	return names
}

// WithoutNotOwned returns p (not modified) with the volumes and networks
// of notOwned marked external, so that Compose's down -v leaves them
// alone: Compose removes every volume the project declares that is not
// external, whoever created it.
func WithoutNotOwned(p *types.Project, notOwned []Object) *types.Project {
	if len(notOwned) == 0 {
		return p
	}
	is := map[string]bool{}
	for _, o := range notOwned {
		is[o.Kind+" "+o.Name] = true
	}
	out := *p
	out.Volumes = maps.Clone(p.Volumes)
	out.Networks = maps.Clone(p.Networks)
	for key, v := range out.Volumes {
		if !bool(v.External) && is["volume "+v.Name] {
			v.External = true
			out.Volumes[key] = v
		}
	}
	for key, n := range out.Networks {
		if !bool(n.External) && is["network "+n.Name] {
			n.External = true
			out.Networks[key] = n
		}
	}
	return &out
}

// ConfirmQuestion is the question the reset asks before it resets the
// external volumes and uses the volumes and networks it does not own
// (notOwned), "" when there is nothing to ask.
func ConfirmQuestion(project string, external []string, notOwned []Object) string {
	var parts []string
	if len(external) > 0 {
		parts = append(parts, fmt.Sprintf("Remove and re-create empty the external volumes %s of project %s?", strings.Join(external, ", "), project))
	}
	if len(notOwned) > 0 {
		var l []string
		for _, o := range notOwned {
			l = append(l, o.String())
		}
		q := fmt.Sprintf("Project %s names %s, which it did not create:", project, strings.Join(l, ", "))
		if v := Volumes(notOwned); len(v) > 0 {
			q += fmt.Sprintf(" remove and re-create empty the volumes %s (their data is lost) and", strings.Join(v, ", "))
		}
		q += " let the test deployment use them?"
		parts = append(parts, q)
	}
	return strings.Join(parts, " ")
}

// CheckInstanceNames refuses (exit 2) instance inst of a project, p (the
// instance's project, from the directory p.WorkingDir when it has
// services), when a name the instance derives is taken on the engine by
// something that is not this instance's:
//
//   - the project name: a container of project p.Name from another
//     working directory (com.docker.compose.project.working_dir) or
//     without this instance's label;
//   - a volume or network of p, not external, that exists and is not
//     Owned (ownership: the project's label and the instance's);
//   - a container_name of p: a container of that name not of this
//     instance;
//   - a Traefik router, service or middleware that p's labels define: a
//     container not of this instance that defines one of that name.
//
// A default deployment (inst "") is not checked.
func CheckInstanceNames(ctx context.Context, c InstanceClient, p *types.Project, inst string) error {
	if inst == "" {
		return nil
	}
	var found []string
	ours := func(labels map[string]string) bool {
		return labels[api.ProjectLabel] == p.Name && labels[instance.Label] == inst &&
			(len(p.Services) == 0 || labels[api.WorkingDirLabel] == p.WorkingDir)
	}
	res, err := c.ContainerList(ctx, client.ContainerListOptions{All: true})
	if err != nil {
		return fmt.Errorf("listing the containers: %w", err)
	}
	containerNames := map[string]string{} // container name -> service
	for name, s := range p.Services {
		if s.ContainerName != "" {
			containerNames[s.ContainerName] = name
		}
	}
	defined := definedTraefikObjects(p)
	project := map[string]bool{}
	for _, ctr := range res.Items {
		if ours(ctr.Labels) {
			continue
		}
		who := describeContainer(ctr.Names, ctr.Labels)
		if ctr.Labels[api.ProjectLabel] == p.Name && !project[who] {
			project[who] = true
			found = append(found, fmt.Sprintf("project %s: %s belongs to another deployment of that name", p.Name, who))
		}
		for _, n := range ctr.Names {
			if svc, ok := containerNames[strings.TrimPrefix(n, "/")]; ok {
				found = append(found, fmt.Sprintf("container_name %s (service %s): %s exists", strings.TrimPrefix(n, "/"), svc, who))
			}
		}
		for _, o := range slices.Sorted(maps.Keys(traefikObjects(ctr.Labels))) {
			if name, ok := defined[o]; ok {
				found = append(found, fmt.Sprintf("Traefik %s %s: %s defines it too", o[:strings.LastIndex(o, " ")], name, who))
			}
		}
	}
	notOwned, err := NotOwnedObjects(ctx, c, p)
	if err != nil {
		return err
	}
	for _, o := range notOwned {
		found = append(found, fmt.Sprintf("%s %s exists, %s", o.Kind, o.Name, o.Whose()))
	}
	if len(found) == 0 {
		return nil
	}
	slices.Sort(found)
	found = slices.Compact(found)
	return exitcode.Invalidf("instance %s: its names are taken on the engine by what is not this instance's:\n  %s\nThe instance would replace or remove it: choose another --instance name (e.g. --instance %s). "+
		"A volume or network that is this instance's own but lacks the label %s (made by an older docker picatest) is yours to remove ('docker volume rm NAME', 'docker network rm NAME') before you run again.",
		inst, strings.Join(found, "\n  "), instance.Suffixed(inst, "2"), instance.Label)
}

// describeContainer names a container and its project for a message.
func describeContainer(names []string, labels map[string]string) string {
	name := ""
	if len(names) > 0 {
		name = strings.TrimPrefix(names[0], "/")
	}
	var about []string
	if p := labels[api.ProjectLabel]; p != "" {
		about = append(about, "project "+p)
	}
	if d := labels[api.WorkingDirLabel]; d != "" {
		about = append(about, "working dir "+d)
	}
	if i := labels[instance.Label]; i != "" {
		about = append(about, "instance "+i)
	}
	if len(about) == 0 {
		return "container " + name
	}
	return fmt.Sprintf("container %s (%s)", name, strings.Join(about, ", "))
}

// InstanceClient is the part of the moby client CheckInstanceNames needs.
type InstanceClient interface {
	ObjectClient
	ContainerList(ctx context.Context, options client.ContainerListOptions) (client.ContainerListResult, error)
}

// traefikObjects are the Traefik objects that labels define, by a key
// "<protocol> <kind> <lower-case name>" (Traefik's names are compared
// case-insensitively here), with their name as written.
func traefikObjects(labels map[string]string) map[string]string {
	out := map[string]string{}
	for k := range labels {
		if o, _, ok := traefik.ObjectOf(k); ok {
			out[o.Protocol+" "+strings.TrimSuffix(o.Kind, "s")+" "+strings.ToLower(o.Name)] = o.Name
		}
	}
	return out
}

// definedTraefikObjects are the Traefik objects the labels of p's
// services define (traefikObjects).
func definedTraefikObjects(p *types.Project) map[string]string {
	out := map[string]string{}
	for _, s := range p.Services {
		maps.Copy(out, traefikObjects(s.Labels))
	}
	return out
}
