package lint

import (
	"os"
	"path/filepath"
	"strings"

	"github.com/compose-spec/compose-go/v2/template"
	"github.com/compose-spec/compose-go/v2/types"
	"go.yaml.in/yaml/v4"

	"github.com/picasoft/docker-picatest/internal/treefile"
)

// composeDoc is one Compose file as the locator reads it.
type composeDoc struct {
	// name is the file as check prints it.
	name string
	// dir is the directory its relative include: and extends.file paths
	// are resolved against, as compose-go resolves them: the project
	// directory for the files given with -f, the project directory of the
	// include (by default the included file's folder) for an included
	// file, its own folder for an extends.file base.
	dir string
	// root is the parsed file, nil when it cannot be read or parsed.
	root *yaml.Node
}

// maxExtends bounds a chain of extends (compose-go refuses a cycle).
const maxExtends = 16

// locator finds the file and line of a model path in the Compose files of
// a project: the files given with -f and every file they include, and the
// extends bases of their services.
type locator struct {
	workDir string
	env     template.Mapping
	// docs are the files given with -f and the files they include, in the
	// order compose-go merges them: a file's includes before it.
	docs []*composeDoc
	// first is the first file given with -f, where a finding found
	// nowhere is put.
	first string
	// read caches every file read, by absolute path.
	read map[string]*composeDoc
}

func newLocator(p *types.Project) *locator {
	l := &locator{workDir: p.WorkingDir, read: map[string]*composeDoc{}, env: func(k string) (string, bool) {
		v, ok := p.Environment[k]
		return v, ok
	}}
	visiting := map[string]bool{}
	for i, f := range p.ComposeFiles {
		if i == 0 {
			l.first = relTo(p.WorkingDir, f)
		}
		l.addWithIncludes(f, p.WorkingDir, visiting)
	}
	return l
}

// doc reads the Compose file path (absolute), once.
func (l *locator) doc(path, dir string) *composeDoc {
	if d, ok := l.read[path]; ok {
		return d
	}
	d := &composeDoc{name: relTo(l.workDir, path), dir: dir}
	if b, err := treefile.ReadFile(path, treefile.TextFile); err == nil {
		var n yaml.Node
		if yaml.Unmarshal(b, &n) == nil {
			d.root = &n
		}
	}
	l.read[path] = d
	return d
}

// addWithIncludes adds the files that the Compose file path includes
// (recursively, each before the file that includes it), then path itself,
// read with dir as its directory.
func (l *locator) addWithIncludes(path, dir string, visiting map[string]bool) {
	if visiting[path] {
		return // an include cycle: compose-go refuses it
	}
	visiting[path] = true
	defer delete(visiting, path)
	d := l.doc(path, dir)
	for _, inc := range includes(d.root) {
		var files []string
		for _, f := range inc.paths {
			if f = l.resolve(f, d.dir); f != "" {
				files = append(files, f)
			}
		}
		if len(files) == 0 {
			continue
		}
		// The project directory of the include: its project_directory,
		// relative to the including file's, else the folder of its
		// first file.
		incDir := filepath.Dir(files[0])
		if inc.projectDir != "" {
			incDir = l.resolve(inc.projectDir, d.dir)
		}
		for _, f := range files {
			l.addWithIncludes(f, incDir, visiting)
		}
	}
	l.docs = append(l.docs, d)
}

// resolve interpolates a path of a Compose file and makes it absolute
// from dir; "" for a remote resource (git, oci: nothing to read here).
func (l *locator) resolve(path, dir string) string {
	if s, err := template.Substitute(path, l.env); err == nil {
		path = s
	}
	if path == "" || strings.Contains(path, "://") || strings.HasPrefix(path, "git@") {
		return ""
	}
	if strings.HasPrefix(path, "~/") {
		if home, err := os.UserHomeDir(); err == nil {
			path = filepath.Join(home, path[2:])
		}
	}
	if !filepath.IsAbs(path) {
		path = filepath.Join(dir, path)
	}
	return filepath.Clean(path)
}

// include is one entry of a Compose file's include: list.
type include struct {
	paths      []string
	projectDir string
}

// includes reads the include: list of a Compose file: "path", or
// {path: path or [paths], project_directory: dir}.
func includes(root *yaml.Node) []include {
	list := child(root, "include")
	if list == nil || list.Kind != yaml.SequenceNode {
		return nil
	}
	var out []include
	for _, item := range list.Content {
		item = resolveAlias(item)
		switch item.Kind {
		case yaml.ScalarNode:
			out = append(out, include{paths: []string{item.Value}})
		case yaml.MappingNode:
			inc := include{paths: scalars(child(item, "path"))}
			if d := child(item, "project_directory"); d != nil && d.Kind == yaml.ScalarNode {
				inc.projectDir = d.Value
			}
			out = append(out, inc)
		}
	}
	return out
}

// extendsBase is the service that the service name of d extends, and the
// file it is in: extends: name (the same file) or {service: name, file:
// path}; ok is false when the service extends nothing.
func (l *locator) extendsBase(d *composeDoc, name string) (base *composeDoc, service string, ok bool) {
	ext := child(child(child(d.root, "services"), name), "extends")
	if ext == nil {
		return nil, "", false
	}
	switch ext.Kind {
	case yaml.ScalarNode:
		return d, ext.Value, ext.Value != ""
	case yaml.MappingNode:
		svc := child(ext, "service")
		if svc == nil || svc.Kind != yaml.ScalarNode || svc.Value == "" {
			return nil, "", false
		}
		file := child(ext, "file")
		if file == nil || file.Kind != yaml.ScalarNode {
			return d, svc.Value, true
		}
		path := l.resolve(file.Value, d.dir)
		if path == "" {
			return nil, "", false
		}
		return l.doc(path, filepath.Dir(path)), svc.Value, true
	}
	return nil, "", false
}

// lineIn returns the file and line of path in d, looking up a key of a
// service that d does not define in the service it extends, and so on.
func (l *locator) lineIn(d *composeDoc, path []string) (*composeDoc, int) {
	for range maxExtends {
		if line := yamlLine(d.root, path); line > 0 {
			return d, line
		}
		if len(path) < 3 || path[0] != "services" {
			return nil, 0
		}
		base, service, ok := l.extendsBase(d, path[1])
		if !ok || (base == d && service == path[1]) {
			return nil, 0
		}
		d, path = base, append([]string{"services", service}, path[2:]...)
	}
	return nil, 0
}

// locate sets File and Line of f: the last file that defines the
// Finding's path (a later file overrides an earlier one, a file its
// includes), through the extends bases of a service, else the nearest
// defined parent; the first Compose file and line 0 when nothing is found.
func (l *locator) locate(f *Finding) {
	if f.path == nil && f.File != "" {
		return // a finding in another file (a config file), already located
	}
	f.File = l.first
	for depth := len(f.path); depth > 0; depth-- {
		for j := len(l.docs) - 1; j >= 0; j-- {
			if d, line := l.lineIn(l.docs[j], f.path[:depth]); line > 0 {
				f.File, f.Line = d.name, line
				return
			}
		}
	}
}

// locateFindings sets File and Line of each Finding from the Compose files
// of p (see locator.locate).
func locateFindings(p *types.Project, findings []Finding) {
	l := newLocator(p)
	for i := range findings {
		l.locate(&findings[i])
	}
}

// child is the value of key in the mapping n (a document's root mapping
// for a document), nil when n is not a mapping or lacks the key.
func child(n *yaml.Node, key string) *yaml.Node {
	n = resolveAlias(n)
	if n != nil && n.Kind == yaml.DocumentNode {
		if len(n.Content) == 0 {
			return nil
		}
		n = resolveAlias(n.Content[0])
	}
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return resolveAlias(n.Content[i+1])
		}
	}
	return nil
}

// scalars is a scalar, or a list of scalars, as a list.
func scalars(n *yaml.Node) []string {
	switch {
	case n == nil:
		return nil
	case n.Kind == yaml.ScalarNode:
		return []string{n.Value}
	case n.Kind == yaml.SequenceNode:
		var out []string
		for _, item := range n.Content {
			if item = resolveAlias(item); item.Kind == yaml.ScalarNode {
				out = append(out, item.Value)
			}
		}
		return out
	}
	return nil
}
