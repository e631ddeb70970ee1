package deploy

import (
	"fmt"
	"sort"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"

	"github.com/picasoft/docker-picatest/internal/engine"
	"github.com/picasoft/docker-picatest/transforms"
)

// ClientPathsWarning is the warning of up when the engine at daemonHost is
// not local (engine.Remote) and services of the transformed project p
// still mount paths of this machine: bind mounts, and the `configs:` and
// `secrets:` files that Compose bind-mounts. The transforms deliver
// rewritten config files through the API, and env files are read here,
// but such a path is resolved on the daemon's host, where it may be
// missing or hold other files. "" when there is nothing to say.
func ClientPathsWarning(p *types.Project, daemonHost string) string {
	if !engine.Remote(daemonHost) {
		return ""
	}
	paths := ClientPaths(p)
	if len(paths) == 0 {
		return ""
	}
	return fmt.Sprintf("the Docker engine is not local (%s): these paths are resolved on the daemon's host, not on this machine: %s",
		daemonHost, strings.Join(paths, ", "))
}

// ClientPaths lists the paths of the client machine that the services of p
// mount, as "services.NAME: PATH", by service.
func ClientPaths(p *types.Project) []string {
	names := make([]string, 0, len(p.Services))
	for name := range p.Services {
		names = append(names, name)
	}
	sort.Strings(names)
	var out []string
	for _, name := range names {
		s := p.Services[name]
		var paths []string
		for _, v := range s.Volumes {
			if v.Type == types.VolumeTypeBind && v.Source != "" {
				paths = append(paths, v.Source)
			}
		}
		for _, c := range s.Configs {
			if d, ok := p.Configs[c.Source]; ok && !bool(d.External) && d.File != "" && d.Content == "" && d.Environment == "" {
				paths = append(paths, d.File)
			}
		}
		for _, c := range s.Secrets {
			if d, ok := p.Secrets[c.Source]; ok && !bool(d.External) && d.File != "" && d.Content == "" && d.Environment == "" {
				paths = append(paths, d.File)
			}
		}
		seen := map[string]bool{}
		for _, path := range paths {
			if !seen[path] {
				seen[path] = true
				out = append(out, "services."+name+": "+transforms.DisplayPath(p.WorkingDir, path))
			}
		}
	}
	return out
}
