// Package buildcontext applies the test-URL rule to the build context of
// the test build: a configuration file that the Dockerfile copies into the
// image reaches the test image with test URLs, as the manual procedure
// does when it edits the service's configuration files before building.
//
// Scan is pure: it reads the build context of every service with a local
// build (the files the build sends: .dockerignore, or
// <Dockerfile>.dockerignore, honoured), finds the text files that hold a
// production host, and returns a Plan with one transforms.Change per file
// to rewrite. It never writes and never modifies the project. Binary
// files, files over the size limit and excluded files pass unchanged.
//
// Materialize carries the plan out for one build: it makes a temporary
// copy of each context that has a file to rewrite (outside the working
// tree; unchanged files hard-linked where the file system allows it, else
// streamed, holes of sparse files kept), writes the rewritten files there,
// and returns a copy of the project whose build contexts point at the
// copies, with a function that removes them. The working tree is never
// written. The copy is sent by the client to the builder, as any build
// context is, so this works with a remote daemon and with both builders.
//
// The copy reads what the original build reads: a symbolic link keeps its
// target in the original tree (one into the context points at the same
// file of the copy, one elsewhere in the project at the original file, by
// its absolute path), and a link out of the project is refused (exit 2):
// copied as it is, a relative link would point into the temporary
// directory's parent, where anyone can create files.
//
// The x-picatest extension of a service tunes the rewrite of its context:
//
//	x-picatest:
//	  build-rewrite: false                  # never rewrite this context
//	  build-rewrite: ["conf/**", "*.ini"]   # only these paths (patterns as in .dockerignore)
package buildcontext

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"unicode/utf8"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/moby/patternmatcher"
	"github.com/moby/patternmatcher/ignorefile"

	"github.com/picasoft/docker-picatest/internal/exitcode"
	"github.com/picasoft/docker-picatest/internal/treefile"
	"github.com/picasoft/docker-picatest/transforms"
)

// Name is the Transform name used in the changes this package reports.
const Name = "build-context"

// ExtensionKey is the service extension holding the build-rewrite setting.
const ExtensionKey = "x-picatest"

// DefaultMaxFileSize is the size above which a file is not rewritten.
const DefaultMaxFileSize = 1 << 20

// Options tune Scan.
type Options struct {
	// MaxFileSize: larger files are never rewritten (0:
	// DefaultMaxFileSize).
	MaxFileSize int64
}

// File is one file of a build context rewritten for the test build.
type File struct {
	// Context is the build context directory; Path is the file's path in
	// it, with slashes.
	Context, Path string
	// Services are the services built from this context.
	Services []string
	// Old and New are the original and the rewritten text.
	Old, New string
}

// Plan is what Materialize writes: the rewritten files of each context.
type Plan struct {
	contexts []*contextPlan
}

type contextPlan struct {
	dir string
	// project is the project directory: a symbolic link of the context may
	// point into it, not out of it.
	project  string
	services []string
	ignore   *patternmatcher.PatternMatcher
	files    []File
}

// Files returns the files the plan rewrites, by context and path.
func (pl *Plan) Files() []File {
	if pl == nil {
		return nil
	}
	var out []File
	for _, c := range pl.contexts {
		out = append(out, c.files...)
	}
	return out
}

// Empty reports whether the plan (nil included) rewrites nothing.
func (pl *Plan) Empty() bool { return pl == nil || len(pl.contexts) == 0 }

// Scan returns the plan of the rewrites of the build contexts of p, with
// one Change per rewritten file.
func Scan(p *types.Project, r transforms.Rewriter, opts Options) (*Plan, []transforms.Change, error) {
	if opts.MaxFileSize == 0 {
		opts.MaxFileSize = DefaultMaxFileSize
	}
	byDir := map[string]*contextPlan{}
	only := map[string]*patternmatcher.PatternMatcher{}
	for _, name := range p.ServiceNames() {
		s := p.Services[name]
		dir, ok := localContext(s.Build)
		if !ok {
			continue
		}
		enabled, paths, err := setting(name, s)
		if err != nil {
			return nil, nil, err
		}
		if !enabled {
			continue
		}
		c := byDir[dir]
		if c == nil {
			ignore, err := readIgnore(dir, s.Build.Dockerfile)
			if err != nil {
				return nil, nil, err
			}
			c = &contextPlan{dir: dir, project: p.WorkingDir, ignore: ignore}
			byDir[dir] = c
			only[dir] = paths
		}
		c.services = append(c.services, name)
	}
	pl := &Plan{}
	var changes []transforms.Change
	for _, dir := range slices.Sorted(maps.Keys(byDir)) {
		c := byDir[dir]
		if err := c.scan(r, only[dir], opts.MaxFileSize); err != nil {
			return nil, nil, err
		}
		if len(c.files) == 0 {
			continue
		}
		pl.contexts = append(pl.contexts, c)
		for _, f := range c.files {
			changes = append(changes, transforms.Change{
				Transform: Name,
				Where:     fmt.Sprintf("services.%s.build: %s", strings.Join(c.services, ","), filepath.ToSlash(transforms.DisplayPath(p.WorkingDir, filepath.Join(dir, filepath.FromSlash(f.Path))))),
				Old:       f.Path,
				New:       f.Path + " (test URLs, in a temporary copy of the context)",
			})
		}
	}
	return pl, changes, nil
}

// localContext returns the build context directory of b when it is a
// local directory (not a Git URL, not an inline Dockerfile only).
func localContext(b *types.BuildConfig) (string, bool) {
	if b == nil || b.Context == "" || strings.Contains(b.Context, "://") || strings.HasPrefix(b.Context, "git@") {
		return "", false
	}
	info, err := os.Stat(b.Context)
	if err != nil || !info.IsDir() {
		return "", false
	}
	return b.Context, true
}

// setting reads x-picatest build-rewrite of a service: false turns the
// rewrite off; a list of patterns limits it to those paths.
func setting(name string, s types.ServiceConfig) (enabled bool, only *patternmatcher.PatternMatcher, err error) {
	var raw map[string]any
	if _, err := s.Extensions.Get(ExtensionKey, &raw); err != nil || raw == nil {
		return true, nil, nil
	}
	v, ok := raw["build-rewrite"]
	if !ok {
		return true, nil, nil
	}
	bad := fmt.Errorf("service %s: %s.build-rewrite must be true, false or a list of paths (patterns as in .dockerignore, e.g. [\"conf/**\"]), got %v", name, ExtensionKey, v)
	switch v := v.(type) {
	case bool:
		return v, nil, nil
	case []any:
		var patterns []string
		for _, p := range v {
			ps, ok := p.(string)
			if !ok {
				return false, nil, bad
			}
			patterns = append(patterns, ps)
		}
		pm, err := patternmatcher.New(patterns)
		if err != nil {
			return false, nil, fmt.Errorf("service %s: %s.build-rewrite: %v", name, ExtensionKey, err)
		}
		return true, pm, nil
	default:
		return false, nil, bad
	}
}

// readIgnore reads the ignore file of a build: <Dockerfile>.dockerignore
// next to the Dockerfile when it exists, else <context>/.dockerignore;
// nil when there is none.
func readIgnore(dir, dockerfile string) (*patternmatcher.PatternMatcher, error) {
	if dockerfile == "" {
		dockerfile = "Dockerfile"
	}
	if !filepath.IsAbs(dockerfile) {
		dockerfile = filepath.Join(dir, dockerfile)
	}
	for _, f := range []string{dockerfile + ".dockerignore", filepath.Join(dir, ".dockerignore")} {
		b, err := treefile.ReadFile(f, treefile.SmallFile)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			continue
		case exitcode.Of(err) == exitcode.Invalid:
			return nil, err // not a regular file, too large: it says so
		case err != nil:
			return nil, fmt.Errorf("cannot read %s: %w\nFix its permissions: the build reads it too", f, err)
		}
		patterns, err := ignorefile.ReadAll(bytes.NewReader(b))
		if err != nil {
			return nil, fmt.Errorf("invalid %s: %w", f, err)
		}
		return patternmatcher.New(patterns)
	}
	return nil, nil
}

// sent reports whether the build sends rel (slash path in the context).
func sent(ignore *patternmatcher.PatternMatcher, rel string) bool {
	if ignore == nil {
		return true
	}
	excluded, err := ignore.MatchesOrParentMatches(rel)
	return err != nil || !excluded
}

// scan finds the text files of the context, sent by the build and
// selected by only (nil: all), that hold a production host.
func (c *contextPlan) scan(r transforms.Rewriter, only *patternmatcher.PatternMatcher, maxSize int64) error {
	return filepath.WalkDir(c.dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("cannot read the build context %s: %w\nFix its permissions: the build reads it too", c.dir, err)
		}
		rel, _ := filepath.Rel(c.dir, path)
		rel = filepath.ToSlash(rel)
		if rel == "." {
			return nil
		}
		if d.IsDir() && d.Name() == ".git" {
			return filepath.SkipDir
		}
		if !d.Type().IsRegular() || !sent(c.ignore, rel) {
			return nil
		}
		if only != nil {
			if ok, err := only.MatchesOrParentMatches(rel); err != nil || !ok {
				return nil
			}
		}
		info, err := d.Info()
		if err != nil || info.Size() > maxSize {
			return nil
		}
		b, err := treefile.ReadFile(path, min(maxSize, treefile.TextFile))
		if err != nil {
			if exitcode.Of(err) == exitcode.Invalid {
				return err // replaced meanwhile by a special or larger file
			}
			return fmt.Errorf("cannot read %s of the build context: %w", path, err)
		}
		if bytes.IndexByte(b, 0) >= 0 || !utf8.Valid(b) {
			return nil
		}
		if out, changed := r.Rewrite(string(b)); changed && out != string(b) {
			c.files = append(c.files, File{Context: c.dir, Path: rel, Services: c.services, Old: string(b), New: out})
		}
		return nil
	})
}

// Materialize writes a temporary copy, under tmp (os.TempDir() when ""),
// of every context of the plan with its files rewritten, and returns a
// copy of p building from them, and remove, which deletes the copies
// (call it whatever happens; it may be called more than once). p is not
// modified.
func (pl *Plan) Materialize(p *types.Project, tmp string) (built *types.Project, remove func(), err error) {
	if pl.Empty() {
		return p, func() {}, nil
	}
	var dirs []string
	remove = func() {
		for _, d := range dirs {
			_ = os.RemoveAll(d)
		}
		dirs = nil
	}
	copies := map[string]string{}
	for _, c := range pl.contexts {
		dst, err := os.MkdirTemp(tmp, "picatest-build-")
		if err != nil {
			remove()
			return nil, func() {}, fmt.Errorf("cannot create a temporary build context: %w", err)
		}
		dirs = append(dirs, dst)
		if err := c.copyTo(dst); err != nil {
			remove()
			return nil, func() {}, err
		}
		copies[c.dir] = dst
	}
	out := *p
	out.Services = make(types.Services, len(p.Services))
	for name, s := range p.Services {
		if s.Build != nil {
			if dst, ok := copies[s.Build.Context]; ok {
				b := *s.Build
				b.Context = dst
				if filepath.IsAbs(b.Dockerfile) || strings.HasPrefix(filepath.Clean(b.Dockerfile), "..") {
					// A Dockerfile outside the context stays where it is.
					b.Dockerfile = absDockerfile(s.Build)
				}
				s.Build = &b
			}
		}
		out.Services[name] = s
	}
	return &out, remove, nil
}

func absDockerfile(b *types.BuildConfig) string {
	if filepath.IsAbs(b.Dockerfile) {
		return b.Dockerfile
	}
	return filepath.Join(b.Context, b.Dockerfile)
}

// copyTo copies the context to dst: the files the build sends (and the
// ignore files, which the builder reads), rewritten ones with their new
// text, the others hard-linked or copied, symbolic links as they are.
func (c *contextPlan) copyTo(dst string) error {
	rewritten := map[string]string{}
	for _, f := range c.files {
		rewritten[f.Path] = f.New
	}
	return filepath.WalkDir(c.dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(c.dir, path)
		relSlash := filepath.ToSlash(rel)
		target := filepath.Join(dst, rel)
		if rel == "." {
			return nil
		}
		isIgnoreFile := strings.HasSuffix(d.Name(), ".dockerignore")
		if !isIgnoreFile && !sent(c.ignore, relSlash) {
			if d.IsDir() && !c.hasSentChild(relSlash) {
				return filepath.SkipDir
			}
			if !d.IsDir() && !isDockerfileName(d.Name()) {
				return nil
			}
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		switch {
		case d.IsDir():
			return os.MkdirAll(target, info.Mode().Perm()|0o700)
		case d.Type()&fs.ModeSymlink != 0:
			link, err := c.linkTarget(path, dst, target)
			if err != nil {
				return err
			}
			return os.Symlink(link, target)
		case !d.Type().IsRegular():
			return nil
		}
		if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
			return err
		}
		if text, ok := rewritten[relSlash]; ok {
			return os.WriteFile(target, []byte(text), info.Mode().Perm())
		}
		if os.Link(path, target) == nil {
			return nil
		}
		return copyFile(path, target, info.Mode().Perm())
	})
}

// linkTarget is the target of the copy, at target under dst, of the
// symbolic link path of the context, so that it leads where the original
// leads: the original is resolved in the original tree; a target in the
// context is the same file of the copy (a relative link), one elsewhere in
// the project the original file (an absolute link). A target out of the
// project and of the context is refused (exit 2), as is a dangling link
// that would lead out of the copy. A dangling relative link inside the
// context is copied as it is: dangling in the copy too.
func (c *contextPlan) linkTarget(path, dst, target string) (string, error) {
	link, err := os.Readlink(path)
	if err != nil {
		return "", err
	}
	ctxDir, err := filepath.EvalSymlinks(c.dir)
	if err != nil {
		return "", err
	}
	resolved, err := filepath.EvalSymlinks(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) && !filepath.IsAbs(link) && within(c.dir, filepath.Join(filepath.Dir(path), link)) {
			return link, nil
		}
		return "", exitcode.Invalidf("the symbolic link %s of the build context of service %s points at %s, which cannot be resolved (%v): picatest does not copy it into the test build's context, where it could lead out of the copy. Make it point at a file of the project, or remove it",
			path, strings.Join(c.services, ","), link, err)
	}
	if within(ctxDir, resolved) {
		rel, _ := filepath.Rel(ctxDir, resolved)
		text, err := filepath.Rel(filepath.Dir(target), filepath.Join(dst, rel))
		if err != nil {
			return "", err
		}
		return text, nil
	}
	project := c.project
	if p, err := filepath.EvalSymlinks(project); err == nil {
		project = p
	}
	if project != "" && within(project, resolved) {
		return resolved, nil
	}
	return "", exitcode.Invalidf("the symbolic link %s of the build context of service %s points out of the project (%s, resolved to %s): picatest reads nothing out of the project for the test build. Make it point at a file of the project, or replace it with the file",
		path, strings.Join(c.services, ","), link, resolved)
}

// within reports whether path is dir or under it (both clean, absolute).
func within(dir, path string) bool {
	rel, err := filepath.Rel(dir, path)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) && !filepath.IsAbs(rel)
}

// hasSentChild reports whether an excluded directory may hold files the
// build still sends (an exception pattern such as !dir/keep).
func (c *contextPlan) hasSentChild(dir string) bool {
	for _, p := range c.ignore.Patterns() {
		if p.Exclusion() && strings.HasPrefix(p.String(), dir+"/") {
			return true
		}
	}
	return false
}

// isDockerfileName reports whether name is a Dockerfile, which the build
// reads even when .dockerignore excludes it.
func isDockerfileName(name string) bool {
	return name == "Dockerfile" || strings.HasPrefix(name, "Dockerfile.") || strings.HasSuffix(name, ".Dockerfile")
}

// copyFile streams src to dst (memory bounded whatever the size), the
// runs of zeros of a sparse file left as holes. src is opened without
// following a symbolic link nor blocking on a fifo (it was a regular file
// when listed, and may have been replaced since), and must still be a
// regular file.
func copyFile(src, dst string, perm fs.FileMode) error {
	in, err := os.OpenFile(src, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
	if err != nil {
		return err
	}
	defer in.Close()
	st, err := in.Stat()
	if err != nil {
		return err
	}
	if !st.Mode().IsRegular() {
		return exitcode.Invalidf("%s of the build context changed while picatest copied it (it is no longer a regular file): run the command again", src)
	}
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return err
	}
	size, err := copySparse(out, in)
	if err == nil {
		// A file ending with a hole: the size sets its end.
		err = out.Truncate(size)
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	return err
}

// sparseBlock is the unit of copySparse: a block of zeros is a hole.
const sparseBlock = 64 << 10

// copySparse copies r to w block by block, seeking over the blocks of
// zeros instead of writing them, and returns the size copied.
func copySparse(w *os.File, r io.Reader) (int64, error) {
	buf := make([]byte, sparseBlock)
	var size int64
	for {
		n, err := io.ReadFull(r, buf)
		if n > 0 {
			block := buf[:n]
			if isZero(block) {
				if _, err := w.Seek(int64(n), io.SeekCurrent); err != nil {
					return size, err
				}
			} else if _, err := w.Write(block); err != nil {
				return size, err
			}
			size += int64(n)
		}
		switch {
		case err == io.EOF || err == io.ErrUnexpectedEOF:
			return size, nil
		case err != nil:
			return size, err
		}
	}
}

func isZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}
