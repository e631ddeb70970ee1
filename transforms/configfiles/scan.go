package configfiles

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"unicode/utf8"
	"unsafe"

	"github.com/compose-spec/compose-go/v2/types"

	"github.com/picasoft/docker-picatest/internal/exitcode"
	"github.com/picasoft/docker-picatest/internal/treefile"
	"github.com/picasoft/docker-picatest/transforms"
)

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
	// Bounded: the file may have changed since it was looked at.
	b, err := treefile.ReadFile(f.abs, treefile.TextFile)
	if exitcode.Of(err) == exitcode.Invalid {
		return err // not a regular file, or too big: named
	}
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
