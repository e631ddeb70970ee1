// Package configfiles implements SPEC §3.2: every file from inside the
// project that reaches a container and contains a production hostname
// reaches it rewritten (by a transforms.Rewriter, i.e. the test-URLs rule),
// while the original file is only read, never written.
//
// The rewritten text travels inside the Compose model, as a top-level config
// with inline `content:`. Compose copies such a config into the container
// through the Engine API when the container is created (CopyToContainer, see
// docker/compose pkg/compose/secrets.go), so no temporary file is written on
// the host and it works with a remote daemon too.
//
// What is rewritten:
//
//   - A bind mount (service volume of type "bind") of a regular text file
//     inside the project whose text contains a production hostname: the
//     volume is removed and replaced by a service config reference
//     {source: <key>, target: <volume target>, mode: <file permission bits>}
//     to a top-level config <key> with name <project>_picatest_<hash> and the
//     rewritten text as content. The key is
//     picatest_<relative path, sanitized>_<first 8 hex digits of sha256(relative path)>,
//     so a file mounted by many services becomes a single config.
//   - A bind mount of a directory inside the project that holds at least one
//     such text file: the whole volume is replaced by one config per file
//     under it (recursively, relative paths and permission bits preserved),
//     rewritten or not, so that the container sees the same tree. Binary
//     files (a NUL byte, or not valid UTF-8) and files bigger than
//     Options.MaxFileSize pass byte for byte. A symbolic link under the
//     directory that resolves to a regular file inside the project is
//     delivered as a copy of that file. Limits: empty directories are lost;
//     an empty file cannot travel as inline content (Compose skips empty
//     content), so it becomes a `file:` config, which Compose bind-mounts
//     read-only from the original path (a local daemon is then needed for
//     that file); any other entry (a symlink leaving the project or to a
//     directory, a socket...) cannot be reproduced and is an error naming
//     it, as is a directory with more than Options.MaxDirFiles files.
//   - Top-level `configs:` with `file:` inside the project: file is cleared
//     and content set to the rewritten text (name, labels kept).
//   - Top-level `secrets:` with `file:` inside the project: Compose v5 does
//     not support inline `content:` for secrets (it would still bind-mount
//     the empty `file:`, i.e. the current directory), so the rewritten text
//     is put in the project environment (Project.Environment, never printed
//     by `config`) under PICATEST_SECRET_<hash> and the secret is switched
//     to `environment: PICATEST_SECRET_<hash>`, which Compose copies into
//     the container like inline content. The secret stays a secret: its text
//     does not appear in the YAML or JSON model.
//   - For configs and secrets, a service reference without `mode:` gets the
//     permission bits of the original file (as the bind mount Compose used
//     showed them), instead of Compose's 0444 default for copied content.
//
// What is left as is: files and directories without a production hostname,
// anything outside the project directory (after resolving symbolic links: a
// link inside the project that points outside it is not followed and is
// left untouched), named volumes, tmpfs, sources that do not exist, single
// files bigger than Options.MaxFileSize or binary, external configs and
// secrets, `file:` configs or secrets that are directories.
//
// Semantics that change, and are accepted for a test: the container gets a
// copy, so writes to a replaced mount (even a writable one, directories
// included) no longer reach the working tree, which is what SPEC §5 wants
// anyway; a change is reported for it as for any other. Copied files belong
// to root in the container (Compose's default; the bind mount showed the
// host owner's uid). Copying into the container fails for a `read_only:
// true` service, so Transform returns an error naming the service and the
// file in that case.
//
// Reporting: Transform returns one transforms.Change per rewritten file and
// per place it reaches: Transform "config-files", Where "conf/app.ini ->
// services.pad:/etc/app.ini" (or "conf/x.yml -> configs.x", "conf/db.secrets ->
// secrets.db"), Old the file path relative to the project directory, New the
// model entry that now carries the rewritten text ("configs.<key>" or
// "secrets.db"). Changes are sorted. For `config --diff`, Rewritten returns
// the rewritten files themselves (path, original text, rewritten text); it
// runs the same scanner as Transform, so both agree by construction. The
// original files are read once per call, whatever the number of services
// mounting them.
package configfiles

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"unicode/utf8"
	"unsafe"

	"github.com/compose-spec/compose-go/v2/types"

	"github.com/picasoft/docker-picatest/transforms"
)

// Name is the Transform field of the changes this package reports.
const Name = "config-files"

// Default limits, used when the matching Options field is 0.
const (
	DefaultMaxFileSize = 1 << 20
	DefaultMaxDirFiles = 1000
)

// Options tunes the scanner.
type Options struct {
	// MaxFileSize: files bigger than this pass unchanged (not scanned).
	// Default DefaultMaxFileSize (1 MiB) when 0.
	MaxFileSize int64
	// MaxDirFiles: a bind-mounted directory to rewrite that holds more
	// files than this is an error naming it. Default DefaultMaxDirFiles
	// (1000) when 0.
	MaxDirFiles int
}

// File is one rewritten file, for `config --diff`.
type File struct {
	// Path is relative to the project directory, with slashes.
	Path string
	// Old and New are the original and the rewritten text.
	Old, New string
}

// Transform returns a copy of p in which every file from inside the project
// that reaches a container and contains a production hostname reaches it
// rewritten by r, through Compose configs with inline content (see the
// package documentation). p is not modified; the files are only read.
// r is called concurrently (on distinct files) and must be safe for
// concurrent use, as testurls.Rewriter is.
func Transform(p *types.Project, r transforms.Rewriter, opts Options) (*types.Project, []transforms.Change, error) {
	s, err := newScanner(p, r, opts)
	if err != nil {
		return nil, nil, err
	}
	pl, err := s.plan(p)
	if err != nil {
		return nil, nil, err
	}
	if pl.empty() {
		return p.WithServicesDisabled(), nil, nil
	}
	if err := pl.checkReadOnly(p); err != nil {
		return nil, nil, err
	}
	return pl.apply(p)
}

// Rewritten returns the files that Transform rewrites, sorted by path, each
// once however many times it is mounted. It reads the same files and fails
// on the same inputs as Transform, except that a read_only service is not
// an error here (so `config --diff` can still show what would change).
func Rewritten(p *types.Project, r transforms.Rewriter, opts Options) ([]File, error) {
	s, err := newScanner(p, r, opts)
	if err != nil {
		return nil, err
	}
	pl, err := s.plan(p)
	if err != nil {
		return nil, err
	}
	seen := map[*file]bool{}
	var files []File
	add := func(f *file) {
		if f.changed && !seen[f] {
			seen[f] = true
			files = append(files, File{Path: f.rel, Old: f.data, New: f.rewritten})
		}
	}
	for _, m := range pl.mounts {
		for _, df := range m.files {
			add(df.f)
		}
	}
	for _, o := range pl.objects {
		add(o.f)
	}
	sort.Slice(files, func(i, j int) bool { return files[i].Path < files[j].Path })
	return files, nil
}

// file is one regular file of the project, read at most once.
type file struct {
	abs  string // resolved absolute path
	rel  string // relative to the (resolved) project directory, slashes
	mode fs.FileMode
	size int64

	loaded    bool
	data      string // content, when loaded
	skipped   bool   // binary or too big: passes unchanged
	changed   bool
	rewritten string
}

// dir is a bind-mounted directory of the project.
type dir struct {
	rel     string
	entries []dirEntry // regular files (or links to them), walk order
	bad     []string   // entries that cannot be reproduced
	// replace: at least one file under it contains a production host.
	replace bool
}

type dirEntry struct {
	sub string // path under the directory, slashes
	f   *file
}

type scanner struct {
	r       transforms.Rewriter
	opts    Options
	root    string // resolved project directory
	workDir string
	files   map[string]*file
	dirs    map[string]*dir
	dirErr  map[string]error
	// resolved caches resolve results computed by prefetch.
	resolved map[string]resolved
}

type resolved struct {
	abs, rel string
	info     fs.FileInfo
	ok       bool
}

func newScanner(p *types.Project, r transforms.Rewriter, opts Options) (*scanner, error) {
	if opts.MaxFileSize <= 0 {
		opts.MaxFileSize = DefaultMaxFileSize
	}
	if opts.MaxDirFiles <= 0 {
		opts.MaxDirFiles = DefaultMaxDirFiles
	}
	root, err := filepath.EvalSymlinks(p.WorkingDir)
	if err != nil {
		return nil, fmt.Errorf("config files: project directory: %w", err)
	}
	return &scanner{
		r: r, opts: opts, root: root, workDir: p.WorkingDir,
		files: map[string]*file{}, dirs: map[string]*dir{}, dirErr: map[string]error{},
		resolved: map[string]resolved{},
	}, nil
}

// resolve returns the resolved absolute path of src and its path relative
// to the project, or ok=false when src does not exist or is outside the
// project (symbolic links are resolved: a link leaving the project is not
// followed).
func (s *scanner) resolve(src string) (abs, rel string, info fs.FileInfo, ok bool) {
	if r, done := s.resolved[src]; done {
		return r.abs, r.rel, r.info, r.ok
	}
	if src == "" {
		return "", "", nil, false
	}
	if !filepath.IsAbs(src) {
		src = filepath.Join(s.workDir, src)
	}
	abs, err := filepath.EvalSymlinks(src)
	if err != nil {
		return "", "", nil, false
	}
	rel, err = filepath.Rel(s.root, abs)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) || filepath.IsAbs(rel) {
		return "", "", nil, false
	}
	info, err = os.Stat(abs)
	if err != nil {
		return "", "", nil, false
	}
	return abs, filepath.ToSlash(rel), info, true
}

// fileFor returns the cached entry of a resolved regular file.
func (s *scanner) fileFor(abs, rel string, info fs.FileInfo) *file {
	if f, ok := s.files[abs]; ok {
		return f
	}
	f := &file{abs: abs, rel: rel, mode: info.Mode().Perm(), size: info.Size()}
	s.files[abs] = f
	return f
}

// scan reads f (unless too big) and rewrites it when it is text.
func (s *scanner) scan(f *file) error {
	if f.loaded || f.skipped {
		return nil
	}
	if f.size > s.opts.MaxFileSize {
		f.skipped = true
		return nil
	}
	return s.read(f)
}

// read loads f's content (whatever its size) and rewrites it when it is
// text no bigger than MaxFileSize.
func (s *scanner) read(f *file) error {
	if f.loaded {
		return nil
	}
	b, err := os.ReadFile(f.abs)
	if err != nil {
		return readError(f.rel, err)
	}
	f.loaded = true
	f.size = int64(len(b))
	// b is never written again: share its memory instead of copying it.
	f.data = unsafe.String(unsafe.SliceData(b), len(b))
	if f.size > s.opts.MaxFileSize || bytes.IndexByte(b, 0) >= 0 || !utf8.Valid(b) {
		f.skipped = true
		return nil
	}
	f.skipped = false
	f.rewritten, f.changed = s.r.Rewrite(f.data)
	if f.changed && f.rewritten == f.data {
		f.changed = false
	}
	return nil
}

// readError explains that rel, a file or directory of the project that
// reaches a container, cannot be read, and what to do.
func readError(rel string, err error) error {
	return fmt.Errorf("config files: cannot read %s, which reaches a container: %w\n"+
		"Make it readable by the user running docker picatest (e.g. chmod -R a+rX %s), or remove it from the Compose file", rel, err, rel)
}

// dirFor walks a resolved directory once and decides whether it must be
// replaced.
func (s *scanner) dirFor(abs, rel string) (*dir, error) {
	if d, ok := s.dirs[abs]; ok {
		return d, s.dirErr[abs]
	}
	d, err := s.walk(abs, rel)
	s.dirs[abs], s.dirErr[abs] = d, err
	return d, err
}

func (s *scanner) walk(abs, rel string) (*dir, error) {
	d := &dir{rel: rel}
	err := filepath.WalkDir(abs, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			sub, _ := filepath.Rel(abs, p)
			return readError(path.Join(rel, filepath.ToSlash(sub)), err)
		}
		if p == abs {
			return nil
		}
		sub, _ := filepath.Rel(abs, p)
		sub = filepath.ToSlash(sub)
		switch {
		case e.IsDir():
			return nil
		case e.Type().IsRegular():
			info, err := e.Info()
			if err != nil {
				return fmt.Errorf("config files: %w", err)
			}
			d.entries = append(d.entries, dirEntry{sub: sub, f: s.fileFor(p, path.Join(rel, sub), info)})
		case e.Type()&fs.ModeSymlink != 0:
			if tabs, trel, info, ok := s.resolve(p); ok && info.Mode().IsRegular() {
				d.entries = append(d.entries, dirEntry{sub: sub, f: s.fileFor(tabs, trel, info)})
			} else {
				d.bad = append(d.bad, path.Join(rel, sub)+" (symbolic link to a directory or outside the project)")
			}
		default:
			d.bad = append(d.bad, path.Join(rel, sub)+" ("+e.Type().String()+")")
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	var hit *file
	for _, de := range d.entries {
		if err := s.scan(de.f); err != nil {
			return nil, err
		}
		if de.f.changed {
			hit = de.f
			break // enough to decide; the rest is read only if needed
		}
	}
	if hit == nil {
		return d, nil
	}
	d.replace = true
	if len(d.entries) > s.opts.MaxDirFiles {
		return nil, fmt.Errorf("directory %s holds %d files (limit %d) and %s contains a production hostname: picatest cannot deliver it rewritten; bind-mount only the files that need rewriting, or move the hostname into an environment variable",
			rel+"/", len(d.entries), s.opts.MaxDirFiles, hit.rel)
	}
	if len(d.bad) > 0 {
		return nil, fmt.Errorf("directory %s contains a production hostname (in %s) and must be delivered as a copy, but picatest cannot reproduce %s; replace these entries by regular files, or bind-mount only the files that need rewriting",
			rel+"/", hit.rel, strings.Join(d.bad, ", "))
	}
	for _, de := range d.entries {
		if err := s.read(de.f); err != nil {
			return nil, err
		}
	}
	return d, nil
}

// mount is a service bind volume to replace.
type mount struct {
	service string
	index   int    // in service.Volumes
	target  string // container path of the volume
	files   []dirEntry
	isDir   bool
}

// object is a top-level config or secret whose file is rewritten.
type object struct {
	secret bool
	key    string
	f      *file
}

type plan struct {
	mounts  []mount
	objects []object
}

func (pl *plan) empty() bool { return len(pl.mounts) == 0 && len(pl.objects) == 0 }

// prefetch resolves the sources (bind sources, configs and secrets files)
// and reads the regular files among them concurrently: on a project with
// many mounted files the time goes into system calls, not into rewriting.
// The rewriter is called concurrently, on distinct files.
func (s *scanner) prefetch(srcs []string) error {
	seen := make(map[string]bool, len(srcs))
	uniq := srcs[:0:0]
	for _, src := range srcs {
		if !seen[src] {
			seen[src] = true
			uniq = append(uniq, src)
		}
	}
	res := make([]resolved, len(uniq))
	parallel(len(uniq), func(i int) {
		r := &res[i]
		r.abs, r.rel, r.info, r.ok = s.resolve(uniq[i])
	})
	var todo []*file
	for i, r := range res {
		s.resolved[uniq[i]] = r
		if r.ok && r.info.Mode().IsRegular() {
			if _, known := s.files[r.abs]; !known {
				todo = append(todo, s.fileFor(r.abs, r.rel, r.info))
			}
		}
	}
	errs := make([]error, len(todo))
	parallel(len(todo), func(i int) { errs[i] = s.scan(todo[i]) })
	return errors.Join(errs...)
}

// parallel runs fn(0..n-1) on a bounded number of goroutines.
func parallel(n int, fn func(i int)) {
	workers := min(n, 4*runtime.GOMAXPROCS(0))
	if workers <= 1 {
		for i := range n {
			fn(i)
		}
		return
	}
	var wg sync.WaitGroup
	next := make(chan int)
	for range workers {
		wg.Go(func() {
			for i := range next {
				fn(i)
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
}

func (s *scanner) plan(p *types.Project) (*plan, error) {
	pl := &plan{}
	var srcs []string
	for _, svc := range p.Services {
		for _, v := range svc.Volumes {
			if v.Type == types.VolumeTypeBind {
				srcs = append(srcs, v.Source)
			}
		}
	}
	for _, c := range p.Configs {
		srcs = append(srcs, c.File)
	}
	for _, c := range p.Secrets {
		srcs = append(srcs, c.File)
	}
	if err := s.prefetch(srcs); err != nil {
		return nil, err
	}
	for _, name := range p.ServiceNames() {
		svc := p.Services[name]
		for i, v := range svc.Volumes {
			if v.Type != types.VolumeTypeBind {
				continue
			}
			abs, rel, info, ok := s.resolve(v.Source)
			if !ok {
				continue
			}
			switch {
			case info.Mode().IsRegular():
				f := s.fileFor(abs, rel, info)
				if err := s.scan(f); err != nil {
					return nil, err
				}
				if f.changed {
					pl.mounts = append(pl.mounts, mount{service: name, index: i, target: v.Target, files: []dirEntry{{f: f}}})
				}
			case info.IsDir():
				d, err := s.dirFor(abs, rel)
				if err != nil {
					return nil, fmt.Errorf("service %s, volume %s: %w", name, v.Target, err)
				}
				if d.replace {
					pl.mounts = append(pl.mounts, mount{service: name, index: i, target: v.Target, files: d.entries, isDir: true})
				}
			}
		}
	}
	add := func(secret bool, key string, o types.FileObjectConfig) error {
		if o.File == "" || bool(o.External) {
			return nil
		}
		abs, rel, info, ok := s.resolve(o.File)
		if !ok || !info.Mode().IsRegular() {
			return nil
		}
		f := s.fileFor(abs, rel, info)
		if err := s.scan(f); err != nil {
			return err
		}
		if f.changed {
			pl.objects = append(pl.objects, object{secret: secret, key: key, f: f})
		}
		return nil
	}
	for _, k := range sortedKeys(p.Configs) {
		if err := add(false, k, types.FileObjectConfig(p.Configs[k])); err != nil {
			return nil, err
		}
	}
	for _, k := range sortedKeys(p.Secrets) {
		if err := add(true, k, types.FileObjectConfig(p.Secrets[k])); err != nil {
			return nil, err
		}
	}
	return pl, nil
}

// checkReadOnly refuses plans that Compose could not run: copying a config
// into a read_only container fails.
func (pl *plan) checkReadOnly(p *types.Project) error {
	var errs []error
	refuse := func(service, what string) {
		errs = append(errs, fmt.Errorf("service %s is read_only: picatest cannot inject the rewritten file %s; Compose copies it into the container, which a read-only root filesystem refuses. Remove read_only: true for the test (e.g. in a compose override), or keep production hostnames out of %s",
			service, what, what))
	}
	for _, m := range pl.mounts {
		if !p.Services[m.service].ReadOnly {
			continue
		}
		for _, df := range m.files {
			if df.f.changed {
				refuse(m.service, df.f.rel)
				break
			}
		}
	}
	for _, o := range pl.objects {
		for _, name := range p.ServiceNames() {
			svc := p.Services[name]
			if svc.ReadOnly && o.usedBy(svc) {
				refuse(name, o.f.rel)
			}
		}
	}
	return errors.Join(errs...)
}

func (o object) usedBy(svc types.ServiceConfig) bool {
	if o.secret {
		for _, r := range svc.Secrets {
			if r.Source == o.key {
				return true
			}
		}
		return false
	}
	for _, r := range svc.Configs {
		if r.Source == o.key {
			return true
		}
	}
	return false
}

func (pl *plan) apply(p *types.Project) (*types.Project, []transforms.Change, error) {
	n := p.WithServicesDisabled() // deep copy
	var changes []transforms.Change

	// Bind mounts, grouped by service; volumes removed from the end so that
	// indexes stay valid.
	drop := map[string][]int{}
	for _, m := range pl.mounts {
		svc := n.Services[m.service]
		for _, df := range m.files {
			f := df.f
			target := m.target
			if m.isDir {
				target = path.Join(m.target, df.sub)
			}
			key := configKey(f.rel)
			if _, ok := n.Configs[key]; !ok {
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
			}
			mode := types.FileMode(f.mode)
			svc.Configs = append(svc.Configs, types.ServiceConfigObjConfig{Source: key, Target: target, Mode: &mode})
			if f.changed {
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

	// Top-level configs and secrets.
	for _, o := range pl.objects {
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
		changes = append(changes, transforms.Change{
			Transform: Name,
			Where:     o.f.rel + " -> " + where,
			Old:       o.f.rel,
			New:       where,
		})
	}

	sort.Slice(changes, func(i, j int) bool {
		if changes[i].Where != changes[j].Where {
			return changes[i].Where < changes[j].Where
		}
		return changes[i].New < changes[j].New
	})
	return n, changes, nil
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

func sortedKeys[M ~map[string]V, V any](m M) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
