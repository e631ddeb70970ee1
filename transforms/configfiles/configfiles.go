package configfiles

import (
	"sort"

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
	// Copy lists bind sources, as in the model, of regular files inside
	// the project that reach the container through the API even when they
	// hold no production hostname: the examples swapped in for
	// bind-mounted secrets files (examplesecrets.Mounted), which must
	// not be bind-mounted from the working tree.
	Copy map[string]bool
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
	pl, err := scanPlan(p, r, opts)
	if err != nil {
		return nil, nil, err
	}
	return pl.transform(p)
}

// TransformWithFiles is Transform that also returns the files it rewrites,
// as Rewritten lists them (sorted by path, each once however many times it
// is mounted, with the original and the rewritten text), for `config
// --diff`. It scans and reads each file once for both, and fails on the
// same inputs as Transform, a read_only service included. The texts stay in
// memory as long as the files are kept: a caller that does not show them
// calls Transform.
func TransformWithFiles(p *types.Project, r transforms.Rewriter, opts Options) (*types.Project, []transforms.Change, []File, error) {
	pl, err := scanPlan(p, r, opts)
	if err != nil {
		return nil, nil, nil, err
	}
	n, changes, err := pl.transform(p)
	if err != nil {
		return nil, nil, nil, err
	}
	return n, changes, pl.files(), nil
}

// Rewritten returns the files that Transform rewrites, sorted by path, each
// once however many times it is mounted. It reads the same files and fails
// on the same inputs as Transform, except that a read_only service is not
// an error here. A caller that transforms the project too calls
// TransformWithFiles instead: Rewritten then Transform read every file
// twice.
func Rewritten(p *types.Project, r transforms.Rewriter, opts Options) ([]File, error) {
	pl, err := scanPlan(p, r, opts)
	if err != nil {
		return nil, err
	}
	return pl.files(), nil
}

// scanPlan reads the files of p that reach a container and plans their
// replacement.
func scanPlan(p *types.Project, r transforms.Rewriter, opts Options) (*plan, error) {
	s, err := newScanner(p, r, opts)
	if err != nil {
		return nil, err
	}
	return s.plan(p)
}

// transform carries out pl on p, after refusing what Compose could not run.
func (pl *plan) transform(p *types.Project) (*types.Project, []transforms.Change, error) {
	if pl.empty() {
		return p.WithServicesDisabled(), nil, nil
	}
	if err := pl.checkReadOnly(p); err != nil {
		return nil, nil, err
	}
	return pl.apply(p)
}

// files lists the rewritten files of pl, sorted by path, each once.
func (pl *plan) files() []File {
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
	return files
}
