// Package examplesecrets swaps the secrets files of a Compose project for
// their ".example" siblings (SPEC §3.3), so that a test never runs on
// production secrets.
//
// For every service env_file, and every top-level secrets: or configs: entry
// declared with file:, a file P is replaced in the model by P.example when
// P.example exists. The files themselves are only looked at (os.Stat), never
// read or written.
//
// Transform must run on a project loaded without environment resolution
// (cli.WithoutEnvironmentResolution, as Compose's own CLI loads it) and
// before project.WithServicesEnvironmentResolved, so that the environment is
// read from the example files:
//
//	p, changes, err := examplesecrets.Transform(p, examplesecrets.Options{})
//	...
//	p, err = p.WithServicesEnvironmentResolved(true)
package examplesecrets

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"

	"github.com/picasoft/docker-picatest/transforms"
)

// Name is the Transform name used in the changes this package reports.
const Name = "example-secrets"

// ExampleSuffix is appended to a file name to find its example sibling.
const ExampleSuffix = ".example"

// SecretsSuffix marks a file as a secrets file even without an example.
const SecretsSuffix = ".secrets"

// Options configures Transform.
type Options struct {
	// RealSecrets keeps every file P as is, even when P.example exists
	// (--real-secrets).
	RealSecrets bool
}

// MissingError reports the files P for which neither P nor P.example exists
// (with Options.RealSecrets: for which P does not exist). Env files declared
// with `required: false` are never reported.
type MissingError struct {
	// Files are the missing files, absolute as in the model, sorted.
	Files []string
	// Dir is the project directory; Error names the files inside it
	// relative to it, the others absolute (transforms.DisplayPath).
	Dir string
	// RealSecrets is set when Transform ran with Options.RealSecrets, so
	// that only P itself would do.
	RealSecrets bool
}

// Error names every missing file and says how to fix it.
func (e *MissingError) Error() string {
	var b strings.Builder
	if e.RealSecrets {
		fmt.Fprintf(&b, "%d missing file(s), needed with --real-secrets:", len(e.Files))
		for _, f := range e.Files {
			r := e.rel(f)
			fmt.Fprintf(&b, "\n  %s: create it, or run without --real-secrets to use %s", r, r+ExampleSuffix)
		}
		return b.String()
	}
	if len(e.Files) == 1 {
		b.WriteString("missing file, neither it nor its .example exists:")
	} else {
		fmt.Fprintf(&b, "%d missing files, neither they nor their .example exist:", len(e.Files))
	}
	for _, f := range e.Files {
		r := e.rel(f)
		fmt.Fprintf(&b, "\n  %s: create %s with test values (or %s itself)", r, r+ExampleSuffix, r)
	}
	return b.String()
}

func (e *MissingError) rel(f string) string {
	return transforms.DisplayPath(e.Dir, f)
}

// fileRef is one place of the model that names a file.
type fileRef struct {
	where    string
	path     string
	optional bool // env_file with required: false
	set      func(p *types.Project, path string)
}

// refs lists, in a deterministic order, every file reference of p that
// Transform considers: services' env_file, then top-level secrets and
// configs declared with file:.
func refs(p *types.Project) []fileRef {
	var out []fileRef
	for _, name := range p.ServiceNames() {
		for i, ef := range p.Services[name].EnvFiles {
			if ef.Path == "" {
				continue
			}
			out = append(out, fileRef{
				where:    fmt.Sprintf("services.%s.env_file[%d]", name, i),
				path:     ef.Path,
				optional: !bool(ef.Required),
				set: func(p *types.Project, path string) {
					// p is a deep copy: its EnvFiles slice is its own.
					p.Services[name].EnvFiles[i].Path = path
				},
			})
		}
	}
	for _, name := range p.SecretNames() {
		s := p.Secrets[name]
		if s.File == "" || bool(s.External) {
			continue
		}
		out = append(out, fileRef{
			where: "secrets." + name,
			path:  s.File,
			set: func(p *types.Project, path string) {
				s := p.Secrets[name]
				s.File = path
				p.Secrets[name] = s
			},
		})
	}
	for _, name := range p.ConfigNames() {
		c := p.Configs[name]
		if c.File == "" || bool(c.External) {
			continue
		}
		out = append(out, fileRef{
			where: "configs." + name,
			path:  c.File,
			set: func(p *types.Project, path string) {
				c := p.Configs[name]
				c.File = path
				p.Configs[name] = c
			},
		})
	}
	return out
}

// exists reports whether path exists. Errors other than "does not exist"
// (e.g. permission denied on a parent directory) are returned.
func exists(path string) (bool, error) {
	_, err := os.Stat(path)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, fs.ErrNotExist):
		return false, nil
	default:
		return false, err
	}
}

// Transform returns a copy of p where every env_file, top-level secrets:
// file and configs: file P is replaced by P.example when P.example exists,
// unless opts.RealSecrets is set. The changes (Transform "example-secrets",
// Where e.g. "services.pad.env_file[0]", "secrets.db_password",
// "configs.app", Old P, New P.example) are sorted by Where.
//
// When neither P nor P.example exists (with RealSecrets: when P does not
// exist), env files with `required: false` excepted, Transform returns a
// *MissingError naming every such file.
// p is never modified.
func Transform(p *types.Project, opts Options) (*types.Project, []transforms.Change, error) {
	if p == nil {
		return nil, nil, errors.New("examplesecrets: nil project")
	}
	type swap struct {
		ref     fileRef
		example string
	}
	var (
		swaps   []swap
		missing = map[string]bool{}
	)
	for _, r := range refs(p) {
		example := r.path + ExampleSuffix
		hasExample, err := exists(example)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", r.where, err)
		}
		if hasExample && !opts.RealSecrets {
			swaps = append(swaps, swap{r, example})
			continue
		}
		hasFile, err := exists(r.path)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", r.where, err)
		}
		// Here P.example is absent or opts.RealSecrets: P itself is needed.
		if !hasFile && !r.optional {
			missing[r.path] = true
		}
	}
	if len(missing) > 0 {
		files := make([]string, 0, len(missing))
		for f := range missing {
			files = append(files, f)
		}
		sort.Strings(files)
		return nil, nil, &MissingError{Files: files, Dir: p.WorkingDir, RealSecrets: opts.RealSecrets}
	}

	out := p.WithServicesDisabled() // no argument: a deep copy
	changes := make([]transforms.Change, 0, len(swaps))
	for _, s := range swaps {
		s.ref.set(out, s.example)
		changes = append(changes, transforms.Change{
			Transform: Name,
			Where:     s.ref.where,
			Old:       s.ref.path,
			New:       s.example,
		})
	}
	sort.SliceStable(changes, func(i, j int) bool { return changes[i].Where < changes[j].Where })
	return out, changes, nil
}

// IsSecretsFile reports whether path is a secrets file in the sense of SPEC
// §3.3: it has a path.example sibling, or its name ends in ".secrets".
func IsSecretsFile(path string) bool {
	if strings.HasSuffix(filepath.Base(path), SecretsSuffix) {
		return true
	}
	ok, _ := exists(path + ExampleSuffix)
	return ok
}

// RealSecretsFiles lists the secrets files (see IsSecretsFile) that the
// project, once transformed with opts, reads directly: the files whose
// values must be masked in every output. It works on p before or after
// Transform: with RealSecrets=false it is the existing ".secrets" files that
// have no example; with RealSecrets=true, every existing secrets file.
// The list is sorted, with absolute paths as in the model.
func RealSecretsFiles(p *types.Project, opts Options) []string {
	if p == nil {
		return nil
	}
	seen := map[string]bool{}
	var out []string
	for _, r := range refs(p) {
		if seen[r.path] {
			continue
		}
		seen[r.path] = true
		hasExample, _ := exists(r.path + ExampleSuffix)
		if hasExample && !opts.RealSecrets {
			continue // Transform reads the example instead
		}
		if !hasExample && !strings.HasSuffix(filepath.Base(r.path), SecretsSuffix) {
			continue // not a secrets file
		}
		if ok, _ := exists(r.path); !ok {
			continue // nothing read, nothing to mask
		}
		out = append(out, r.path)
	}
	sort.Strings(out)
	return out
}
