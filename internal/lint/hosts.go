package lint

import (
	"fmt"
	"maps"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"

	"github.com/picasoft/docker-picatest/internal/settings"
	"github.com/picasoft/docker-picatest/internal/treefile"
	"github.com/picasoft/docker-picatest/transforms/examplesecrets"
	"github.com/picasoft/docker-picatest/transforms/testurls"
)

// maxUnreachedFile bounds the size of a mounted file check reads.
const maxUnreachedFile = 1 << 20

// checkHosts reports what of the test-URL rule (SPEC §3.1) a person must
// know before testing: a host kept inside a path while rewritten elsewhere
// (host-in-path), a connection to a never-rewritten production host
// (prod-connection), and a bind-mounted file outside the project folder,
// which the rewrite does not reach, that holds production hosts
// (prod-host-unreached).
func checkHosts(p *types.Project, s settings.Settings, add func(Finding)) {
	rw, err := testurls.New(s.ProdDomain, s.TestDomain, s.NeverRewritten()...)
	if err != nil {
		return // the settings are reported by the commands that use them
	}
	texts, mountedBy := mountedTexts(p)
	for _, k := range testurls.KeptHosts(p, rw, texts...) {
		service, path := keptPath(k.Where)
		file, line := "", 0
		if name, n, ok := fileLine(k.Where); ok && mountedBy[name] != "" {
			service, path, file, line = mountedBy[name], nil, name, n
		}
		switch {
		case k.OutOfStep:
			add(Finding{Severity: Warning, Rule: "host-in-path", Service: service,
				Message: fmt.Sprintf("%s keeps %s inside a path (%s), while the test rewrites it elsewhere in the project: the two no longer agree in a test", k.Where, k.Host, strings.TrimSpace(k.Value)),
				Hint:    fmt.Sprintf("if service %s derives this path from its host name, set x-picatest: {rewrite-paths: true} on it (its Compose values; a file keeps the common rule: write the path without the host there)", service),
				File:    file, Line: line, path: path})
		case k.Reason == testurls.KeptNeverRewritten && connects(k.Value, k.Host):
			add(Finding{Severity: Warning, Rule: "prod-connection", Service: service,
				Message: fmt.Sprintf("%s connects to %s, a production host the test keeps (the registry or a keep-host): a test deployment reaches production there", k.Where, k.Host),
				Hint:    "make sure a test may use it (pulling images is fine), or remove it from keep-hosts",
				File:    file, Line: line, path: path})
		}
	}
	unreached := func(service, what string, path []string, hosts []string) {
		add(Finding{Severity: Error, Rule: "prod-host-unreached", Service: service,
			Message: fmt.Sprintf("%s holds production hosts %s, which the test rewrite does not reach: a test deployment would connect to production", what, strings.Join(hosts, ", ")),
			Hint:    "use a host the test may reach here, or move the value to one the test rewrites (environment, command, a config file of the service folder)",
			path:    path})
	}
	for _, name := range p.ServiceNames() {
		if l := p.Services[name].Logging; l != nil {
			for _, k := range sortedKeys(l.Options) {
				if hosts := rw.ProdHosts(l.Options[k]); len(hosts) > 0 {
					unreached(name, fmt.Sprintf("service %s: logging option %s", name, k), []string{"services", name, "logging", "options", k}, hosts)
				}
			}
		}
	}
	for _, name := range sortedKeys(p.Volumes) {
		for _, k := range sortedKeys(p.Volumes[name].DriverOpts) {
			if hosts := rw.ProdHosts(p.Volumes[name].DriverOpts[k]); len(hosts) > 0 {
				unreached("", fmt.Sprintf("volume %s: driver option %s", name, k), []string{"volumes", name, "driver_opts", k}, hosts)
			}
		}
	}
	for _, name := range p.ServiceNames() {
		for i, v := range p.Services[name].Volumes {
			if v.Type != types.VolumeTypeBind || inside(p.WorkingDir, v.Source) {
				continue
			}
			b, err := treefile.ReadFile(v.Source, maxUnreachedFile)
			if err != nil {
				continue
			}
			if hosts := rw.ProdHosts(string(b)); len(hosts) > 0 {
				add(Finding{Severity: Error, Rule: "prod-host-unreached", Service: name,
					Message: fmt.Sprintf("service %s mounts %s, outside the project folder, which holds production hosts %s: the test rewrite does not reach it, so a test deployment would connect to production", name, v.Source, strings.Join(hosts, ", ")),
					Hint:    "move the file into the service folder (the test gets it with test hosts), or mount a file without production hosts",
					path:    []string{"services", name, "volumes", fmt.Sprint(i)}})
			}
		}
	}
}

// mountedTexts reads the files inside the project that a service
// bind-mounts or uses as a config (the files config-files rewrites; real
// secrets files left out), by name relative to the project, and which
// service uses each.
func mountedTexts(p *types.Project) ([]testurls.Text, map[string]string) {
	var texts []testurls.Text
	by := map[string]string{}
	read := func(service, path string) {
		if !filepath.IsAbs(path) {
			path = filepath.Join(p.WorkingDir, path)
		}
		rel := relTo(p.WorkingDir, path)
		if by[rel] != "" || !inside(p.WorkingDir, path) || examplesecrets.IsSecretsFile(path) {
			return
		}
		b, err := treefile.ReadFile(path, maxUnreachedFile)
		if err != nil {
			return
		}
		by[rel] = service
		texts = append(texts, testurls.Text{Name: rel, Content: string(b)})
	}
	for _, name := range p.ServiceNames() {
		svc := p.Services[name]
		for _, v := range svc.Volumes {
			if v.Type == types.VolumeTypeBind {
				read(name, v.Source)
			}
		}
		for _, c := range svc.Configs {
			if o, ok := p.Configs[c.Source]; ok && o.File != "" {
				read(name, o.File)
			}
		}
	}
	return texts, by
}

// fileLine splits the Where of a line of a file ("conf/app.ini:12").
func fileLine(where string) (string, int, bool) {
	i := strings.LastIndexByte(where, ':')
	if i < 0 {
		return "", 0, false
	}
	n, err := strconv.Atoi(where[i+1:])
	return where[:i], n, err == nil
}

// connection is a host in a URL, after user information, or before a port.
var connection = `(//|@)%s|%s:[0-9]`

// connects reports whether value uses host as a connection: in a URL
// ("https://host", "scheme://user@host"), an scp form, or "host:port".
func connects(value, host string) bool {
	h := regexp.QuoteMeta(host)
	return regexp.MustCompile("(?i)" + fmt.Sprintf(connection, h, h)).MatchString(value)
}

// inside reports whether path lies in dir (after resolving links).
func inside(dir, path string) bool {
	if d, err := filepath.EvalSymlinks(dir); err == nil {
		dir = d
	}
	if p, err := filepath.EvalSymlinks(path); err == nil {
		path = p
	}
	rel, err := filepath.Rel(dir, path)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

// keptPath turns the Where of a kept host ("services.pad.environment.URL",
// "services.pad.command[1]") into its service and the path the locator
// finds.
func keptPath(where string) (string, []string) {
	parts := strings.SplitN(where, ".", 4)
	if len(parts) < 3 || parts[0] != "services" {
		return "", strings.SplitN(where, ".", 2)
	}
	path := parts[:3]
	if i := strings.IndexByte(path[2], '['); i >= 0 {
		path[2] = path[2][:i]
	} else if len(parts) == 4 {
		key := parts[3]
		if i := strings.IndexByte(key, '['); i >= 0 {
			key = key[:i]
		}
		path = append(path, key)
	}
	return parts[1], path
}

func sortedKeys[M ~map[string]V, V any](m M) []string {
	return slices.Sorted(maps.Keys(m))
}
