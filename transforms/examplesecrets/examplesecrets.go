// Package examplesecrets swaps the secrets files of a Compose project for
// their ".example" siblings (SPEC §3.3), so that a test never runs on
// production secrets.
//
// For every service env_file, every top-level secrets: or configs: entry
// declared with file:, and every service bind mount of a secrets file, a
// file P is replaced in the model by P.example when P.example exists. A
// bind-mounted example then reaches the container through the API, as a
// rewritten config file does (see Mounted and configfiles.Options.Copy).
// EnvFiles does the same for Compose's project-level --env-file.
//
// An example that is the real file itself (a symbolic or hard link to it)
// or that resolves outside the project is refused (*ExampleError): a test
// would run on the real values. The files are only looked at, never read
// or written; the env files that the loader will read are checked to be
// regular files of bounded size (treefile).
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

	"github.com/picasoft/docker-picatest/internal/exitcode"
	"github.com/picasoft/docker-picatest/internal/treefile"
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
	optional bool // env_file with required: false, bind mount
	envFile  bool // read by the loader (environment resolution)
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
				envFile:  true,
				set: func(p *types.Project, path string) {
					// p is a deep copy: its EnvFiles slice is its own.
					p.Services[name].EnvFiles[i].Path = path
				},
			})
		}
	}
	for _, name := range p.ServiceNames() {
		for i, v := range p.Services[name].Volumes {
			if v.Type != types.VolumeTypeBind || !isMountedSecretsFile(v.Source) {
				continue
			}
			out = append(out, fileRef{
				where: fmt.Sprintf("services.%s.volumes[%d]", name, i),
				path:  v.Source,
				// Compose creates a missing bind source: not reported.
				optional: true,
				set: func(p *types.Project, path string) {
					// p is a deep copy: its Volumes slice is its own.
					p.Services[name].Volumes[i].Source = path
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

// isMountedSecretsFile reports whether the bind source src is a secrets
// file: a file (not a directory) named *.secrets or with an example.
func isMountedSecretsFile(src string) bool {
	if src == "" || !filepath.IsAbs(src) {
		return false
	}
	if st, err := os.Stat(src); err == nil && st.IsDir() {
		return false
	}
	return IsSecretsFile(src)
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
// file and configs: file P, and every bind-mounted secrets file P (see
// IsSecretsFile; directories excepted), is replaced by P.example when
// P.example exists, unless opts.RealSecrets is set. The changes (Transform
// "example-secrets", Where e.g. "services.pad.env_file[0]",
// "services.pad.volumes[1]", "secrets.db_password", "configs.app", Old P,
// New P.example) are sorted by Where.
//
// When neither P nor P.example exists (with RealSecrets: when P does not
// exist), env files with `required: false` and bind mounts excepted,
// Transform returns a *MissingError naming every such file. An example
// that is P itself (a link to it) or resolves outside the project is an
// *ExampleError; an env file that the environment resolution would read
// and that is not a regular file of at most treefile.SmallFile bytes is an
// exit-2 error naming it.
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
		bad     = &ExampleError{Dir: p.WorkingDir}
		checked = map[string]bool{}
	)
	for _, r := range refs(p) {
		example := r.path + ExampleSuffix
		hasExample, err := exists(example)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", r.where, err)
		}
		if hasExample && !opts.RealSecrets {
			if !checked[example] {
				checked[example] = true
				if err := bad.check(example, r.path); err != nil {
					return nil, nil, fmt.Errorf("%s: %w", r.where, err)
				}
				if r.envFile {
					if err := checkReadable(example); err != nil {
						return nil, nil, err
					}
				}
			}
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
		if hasFile && r.envFile && !checked[r.path] {
			checked[r.path] = true
			if err := checkReadable(r.path); err != nil {
				return nil, nil, err
			}
		}
	}
	if len(bad.Problems) > 0 {
		return nil, nil, bad
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
		if readsReal(r.path, opts) {
			out = append(out, r.path)
		}
	}
	sort.Strings(out)
	return out
}

// Mounted returns the examples that Transform bind-mounted instead of a
// secrets file, as in the model, from its changes: configfiles delivers
// them through the API (configfiles.Options.Copy) rather than as a bind
// mount of the working tree.
func Mounted(changes []transforms.Change) map[string]bool {
	out := map[string]bool{}
	for _, c := range changes {
		if c.Transform == Name && strings.Contains(c.Where, ".volumes[") {
			out[c.New] = true
		}
	}
	return out
}

// ExampleError reports the examples that cannot stand in for their real
// file: the real file itself under another name (a symbolic or hard link
// to it), or a file outside the project.
type ExampleError struct {
	// Problems are "EXAMPLE: what is wrong and what to do", one per
	// example, in the order found.
	Problems []string
	// Dir is the project directory, for the names of the files.
	Dir string
}

// Error names every example refused and what to do.
func (e *ExampleError) Error() string {
	if len(e.Problems) == 1 {
		return "example secrets file refused: " + e.Problems[0]
	}
	return fmt.Sprintf("%d example secrets files refused:\n  %s", len(e.Problems), strings.Join(e.Problems, "\n  "))
}

// check records in e a problem with example, which stands in for real;
// the error returned is one of the file system (permission...).
func (e *ExampleError) check(example, real string) error {
	if msg, err := ExampleProblem(example, real, e.Dir); err != nil {
		return err
	} else if msg != "" {
		e.Problems = append(e.Problems, msg)
	}
	return nil
}

// ExampleProblem returns, when example cannot stand in for the real file
// real, why and what to do (naming the files as seen from the project
// directory dir): example is real itself (a symbolic or hard link to it,
// os.SameFile), or example is inside dir but resolves outside it. It
// returns "" when example can be used. dir "" skips the second check.
func ExampleProblem(example, real, dir string) (string, error) {
	show := func(p string) string { return transforms.DisplayPath(dir, p) }
	est, err := os.Stat(example)
	if err != nil {
		return "", err
	}
	if rst, err := os.Stat(real); err == nil && os.SameFile(est, rst) {
		return fmt.Sprintf("%s is the real file %s itself (a symbolic or hard link to it): a test would run on its values. Replace %s by a regular file holding test values, or run with --real-secrets to use the real file on purpose",
			show(example), show(real), show(example)), nil
	} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return "", err
	}
	if dir == "" || !inside(dir, example) {
		return "", nil
	}
	root, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return "", err
	}
	resolved, err := filepath.EvalSymlinks(example)
	if err != nil {
		return "", err
	}
	if !inside(root, resolved) {
		return fmt.Sprintf("%s resolves to %s, outside the project: picatest uses only test values kept in the project. Replace %s by a regular file holding test values",
			show(example), resolved, show(example)), nil
	}
	return "", nil
}

// inside reports whether path is dir or under it, lexically.
func inside(dir, path string) bool {
	rel, err := filepath.Rel(dir, path)
	return err == nil && !filepath.IsAbs(rel) && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

// checkReadable refuses an env file that the loader would read unbounded:
// anything but a regular file of at most treefile.SmallFile bytes.
func checkReadable(path string) error {
	f, _, err := treefile.Open(path, treefile.SmallFile)
	if exitcode.Of(err) == exitcode.Invalid {
		return err
	}
	if err != nil {
		return nil // missing or unreadable: reported by the resolution
	}
	return f.Close()
}

// EnvFiles applies the rule of Transform to Compose's project-level env
// files (--env-file, COMPOSE_ENV_FILES, read for the interpolation of the
// Compose file before there is a project): a file P becomes P.example when
// P.example exists, unless opts.RealSecrets. files are as given, relative
// to the current directory; the returned list keeps their form. The
// changes have Where "--env-file[i]", and Old and New absolute.
//
// It runs before the load, so it refuses (*ExampleError) an example that
// is P itself (a link to it), whose values the load would read; that the
// example is inside the project is checked once the project directory is
// known (CheckEnvFiles). Every env file the load will read must be a
// regular file of at most treefile.SmallFile bytes (exit 2 naming it).
// A missing file is left to the loader, which names it.
func EnvFiles(files []string, opts Options) ([]string, []transforms.Change, error) {
	if len(files) == 0 {
		return files, nil, nil
	}
	out := make([]string, len(files))
	var changes []transforms.Change
	bad := &ExampleError{}
	for i, f := range files {
		out[i] = f
		abs, err := filepath.Abs(f)
		if err != nil {
			return nil, nil, err
		}
		read := abs
		if ok, _ := exists(abs + ExampleSuffix); ok && !opts.RealSecrets {
			if err := bad.check(abs+ExampleSuffix, abs); err != nil {
				return nil, nil, fmt.Errorf("--env-file %s: %w", f, err)
			}
			out[i] = f + ExampleSuffix
			read = abs + ExampleSuffix
			changes = append(changes, transforms.Change{
				Transform: Name, Where: fmt.Sprintf("--env-file[%d]", i), Old: abs, New: read,
			})
		}
		if err := checkReadable(read); err != nil {
			return nil, nil, err
		}
	}
	if len(bad.Problems) > 0 {
		return nil, nil, bad
	}
	return out, changes, nil
}

// CheckEnvFiles refuses (*ExampleError) the examples that EnvFiles swapped
// in (its changes) that resolve outside the project directory dir, once
// the load knows it.
func CheckEnvFiles(changes []transforms.Change, dir string) error {
	bad := &ExampleError{Dir: dir}
	for _, c := range changes {
		if c.Transform != Name || !strings.HasPrefix(c.Where, "--env-file[") {
			continue
		}
		if err := bad.check(c.New, c.Old); err != nil {
			return fmt.Errorf("--env-file %s: %w", c.Old, err)
		}
	}
	if len(bad.Problems) > 0 {
		return bad
	}
	return nil
}

// RealEnvFiles lists the project-level env files (as given to EnvFiles)
// that are secrets files read directly once EnvFiles ran with opts: the
// files whose values must be masked. With RealSecrets=false it is the
// existing ".secrets" files without an example; with RealSecrets=true,
// every existing secrets file. Paths are absolute, in the order given.
func RealEnvFiles(files []string, opts Options) []string {
	var out []string
	seen := map[string]bool{}
	for _, f := range files {
		abs, err := filepath.Abs(f)
		if err != nil || seen[abs] {
			continue
		}
		seen[abs] = true
		if readsReal(abs, opts) {
			out = append(out, abs)
		}
	}
	return out
}

// readsReal reports whether the secrets file path is read as it is (not
// replaced by its example) under opts, and exists.
func readsReal(path string, opts Options) bool {
	hasExample, _ := exists(path + ExampleSuffix)
	if hasExample && !opts.RealSecrets {
		return false // its example is read instead
	}
	if !hasExample && !strings.HasSuffix(filepath.Base(path), SecretsSuffix) {
		return false // not a secrets file
	}
	ok, _ := exists(path)
	return ok
}
