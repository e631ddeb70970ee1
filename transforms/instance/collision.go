package instance

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"
)

// Collision is a name that an instance derives and that the project
// itself already uses for an object of the same kind: the default
// deployment and the instance would share (and remove, and write into)
// one volume, or Traefik would drop both routers of that name.
type Collision struct {
	// Kind is the kind of object: "volume", "network", "container" or a
	// Traefik object ("Traefik http router").
	Kind string
	// Name is the derived name, the instance's.
	Name string
	// From is the project's name the instance derives Name from.
	From string
	// Project says what the project itself names Name ("external
	// volume pad-db", "router pad-db").
	Project string
}

func (c Collision) String() string {
	return fmt.Sprintf("%s %s (the instance's name for %s) is the name of the project's own %s", c.Kind, c.Name, c.From, c.Project)
}

// CollisionError is Transform's error when a name the instance derives
// is one the project itself uses (SPEC §9: names that collide are
// refused).
type CollisionError struct {
	Instance   string
	Collisions []Collision
}

func (e *CollisionError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "instance %s: its names collide with the project's own:", e.Instance)
	for _, c := range e.Collisions {
		b.WriteString("\n  " + c.String())
	}
	fmt.Fprintf(&b, "\nThe default deployment and the instance would share them: choose another --instance name (one that no name of the project ends with, e.g. --instance %s)", Suffixed(e.Instance, "2"))
	return b.String()
}

// checkCollisions returns a *CollisionError when a name out (instance
// inst of p) derives equals a name of the same kind that p uses: volumes
// (external or not), networks, container_name values and the Traefik
// objects the labels define (compared case-insensitively, by protocol and
// kind).
func checkCollisions(p, out *types.Project, inst string) error {
	var found []Collision
	// own and derived map a comparison key to the project's description
	// of its object, and to the derived name and its origin.
	type name struct{ name, from string }
	check := func(kind string, own map[string]string, derived map[string]name) {
		for _, k := range slices.Sorted(maps.Keys(derived)) {
			if what, ok := own[k]; ok {
				found = append(found, Collision{Kind: kind, Name: derived[k].name, From: derived[k].from, Project: what})
			}
		}
	}
	own, derived := map[string]string{}, map[string]name{}
	for key, v := range p.Volumes {
		own[v.Name] = describe("volume", v.Name, bool(v.External))
		n := out.Volumes[key].Name
		derived[n] = name{n, "volume " + v.Name}
	}
	check("volume", own, derived)
	own, derived = map[string]string{}, map[string]name{}
	for key, nw := range p.Networks {
		own[nw.Name] = describe("network", nw.Name, bool(nw.External))
		if !bool(nw.External) {
			n := out.Networks[key].Name
			derived[n] = name{n, "network " + nw.Name}
		}
	}
	check("network", own, derived)
	own, derived = map[string]string{}, map[string]name{}
	for svc, s := range p.Services {
		if s.ContainerName != "" {
			own[s.ContainerName] = "container_name " + s.ContainerName + " (service " + svc + ")"
			n := out.Services[svc].ContainerName
			derived[n] = name{n, "container_name " + s.ContainerName}
		}
	}
	check("container", own, derived)
	for _, kind := range []string{"routers", "services", "middlewares", "serverstransports"} {
		for _, proto := range []string{"http", "tcp", "udp"} {
			own, derived = map[string]string{}, map[string]name{}
			singular := strings.TrimSuffix(kind, "s")
			for o := range definedObjects(p) {
				if o.Kind == kind && o.Protocol == proto {
					own[strings.ToLower(o.Name)] = singular + " " + o.Name
				}
			}
			// Every object the project defines is renamed "<name>-<instance>".
			for o := range definedObjects(out) {
				if o.Kind == kind && o.Protocol == proto {
					derived[strings.ToLower(o.Name)] = name{o.Name, singular + " " + strings.TrimSuffix(o.Name, "-"+inst)}
				}
			}
			check("Traefik "+proto+" "+singular, own, derived)
		}
	}
	if len(found) == 0 {
		return nil
	}
	return &CollisionError{Instance: inst, Collisions: found}
}

func describe(kind, name string, external bool) string {
	if external {
		return "external " + kind + " " + name
	}
	return kind + " " + name
}
