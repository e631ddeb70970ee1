package configfiles

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"path"
	"sort"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"

	"github.com/picasoft/docker-picatest/transforms"
)

// apply returns a copy of p with the plan carried out, and one change per
// rewritten file and place it reaches, sorted.
func (pl *plan) apply(p *types.Project) (*types.Project, []transforms.Change, error) {
	n := p.WithServicesDisabled() // deep copy
	changes := applyMounts(n, pl.mounts)
	for _, o := range pl.objects {
		changes = append(changes, applyObject(n, o))
	}
	sort.Slice(changes, func(i, j int) bool {
		if changes[i].Where != changes[j].Where {
			return changes[i].Where < changes[j].Where
		}
		return changes[i].New < changes[j].New
	})
	return n, changes, nil
}

// applyMounts replaces the bind mounts of n by service config references,
// one per file, and returns a change per rewritten file and place.
func applyMounts(n *types.Project, mounts []mount) []transforms.Change {
	var changes []transforms.Change
	// Bind mounts, grouped by service; volumes removed from the end so that
	// indexes stay valid.
	drop := map[string][]int{}
	for _, m := range mounts {
		svc := n.Services[m.service]
		for _, df := range m.files {
			f := df.f
			target := m.target
			if m.isDir {
				target = path.Join(m.target, df.sub)
			}
			key := addFileConfig(n, f)
			mode := types.FileMode(f.mode)
			svc.Configs = append(svc.Configs, types.ServiceConfigObjConfig{Source: key, Target: target, Mode: &mode})
			if f.changed || m.copy {
				changes = append(changes, transforms.Change{
					Transform: Name,
					Where:     fmt.Sprintf("%s -> services.%s:%s", f.rel, m.service, target),
					Old:       f.rel,
					New:       "configs." + key,
				})
			}
		}
		n.Services[m.service] = svc
		drop[m.service] = append(drop[m.service], m.index)
	}
	for name, idx := range drop {
		svc := n.Services[name]
		sort.Sort(sort.Reverse(sort.IntSlice(idx)))
		for _, i := range idx {
			svc.Volumes = append(svc.Volumes[:i], svc.Volumes[i+1:]...)
		}
		if len(svc.Volumes) == 0 {
			svc.Volumes = nil
		}
		n.Services[name] = svc
	}
	return changes
}

// addFileConfig adds to n, unless it is there already, the top-level config
// that carries f to the containers, and returns its key.
func addFileConfig(n *types.Project, f *file) string {
	key := configKey(f.rel)
	if _, ok := n.Configs[key]; ok {
		return key
	}
	if n.Configs == nil {
		n.Configs = types.Configs{}
	}
	c := types.ConfigObjConfig{Name: n.Name + "_picatest_" + shortHash(f.rel)}
	switch {
	case f.changed:
		c.Content = f.rewritten
	case f.data == "":
		// Compose skips empty inline content: bind-mount it.
		c.File = f.abs
	default:
		c.Content = f.data
	}
	n.Configs[key] = c
	return key
}

// applyObject puts the rewritten text of a top-level config or secret in n
// (a secret's in the project environment), gives the service references to
// it without mode the permission bits of its file, and returns the change.
func applyObject(n *types.Project, o object) transforms.Change {
	where := "configs." + o.key
	if o.secret {
		where = "secrets." + o.key
		sec := n.Secrets[o.key]
		env := "PICATEST_SECRET_" + strings.ToUpper(shortHash(o.f.rel))
		sec.File = ""
		sec.Environment = env
		if n.Environment == nil {
			n.Environment = types.Mapping{}
		}
		n.Environment[env] = o.f.rewritten
		n.Secrets[o.key] = sec
	} else {
		c := n.Configs[o.key]
		c.File = ""
		c.Content = o.f.rewritten
		n.Configs[o.key] = c
	}
	setReferenceModes(n, o)
	return transforms.Change{
		Transform: Name,
		Where:     o.f.rel + " -> " + where,
		Old:       o.f.rel,
		New:       where,
	}
}

// setReferenceModes gives the service references to o that have no mode
// the permission bits of o's file.
func setReferenceModes(n *types.Project, o object) {
	for name, svc := range n.Services {
		mode := types.FileMode(o.f.mode)
		touched := false
		if o.secret {
			for i, r := range svc.Secrets {
				if r.Source == o.key && r.Mode == nil {
					svc.Secrets[i].Mode, touched = &mode, true
				}
			}
		} else {
			for i, r := range svc.Configs {
				if r.Source == o.key && r.Mode == nil {
					svc.Configs[i].Mode, touched = &mode, true
				}
			}
		}
		if touched {
			n.Services[name] = svc
		}
	}
}

// configKey is the top-level config key generated for a file:
// picatest_<sanitized relative path>_<8 hex of sha256(relative path)>.
// Compose accepts [a-zA-Z0-9._-] in config keys.
func configKey(rel string) string {
	var b strings.Builder
	b.Grow(len("picatest__") + len(rel) + 8)
	b.WriteString("picatest_")
	for _, c := range rel {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '.', c == '-', c == '_':
			b.WriteRune(c)
		default:
			b.WriteByte('_')
		}
	}
	b.WriteByte('_')
	b.WriteString(shortHash(rel))
	return b.String()
}

func shortHash(rel string) string {
	h := sha256.Sum256([]byte(rel))
	return hex.EncodeToString(h[:4])
}
