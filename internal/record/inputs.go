package record

import (
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"
)

// Inputs returns the files and folders that the builds of p read and that
// a test or a push depends on, as absolute paths, sorted, each once: the
// project folder, the Compose files, and for every service with a build
// its local build context, its Dockerfile and its local additional
// contexts, inside or outside the project folder. Remote contexts (Git
// URLs), image and service contexts name no local file.
func Inputs(p *types.Project) []string {
	set := map[string]bool{}
	add := func(path string) {
		if path == "" {
			return
		}
		if !filepath.IsAbs(path) {
			path = filepath.Join(p.WorkingDir, path)
		}
		set[filepath.Clean(path)] = true
	}
	add(p.WorkingDir)
	for _, f := range p.ComposeFiles {
		add(f)
	}
	for _, name := range p.ServiceNames() {
		b := p.Services[name].Build
		if b == nil || !localPath(b.Context) {
			continue
		}
		ctx := b.Context
		if !filepath.IsAbs(ctx) {
			ctx = filepath.Join(p.WorkingDir, ctx)
		}
		add(ctx)
		add(Dockerfile(p, name))
		for _, c := range b.AdditionalContexts {
			if localPath(c) {
				if !filepath.IsAbs(c) {
					c = filepath.Join(ctx, c)
				}
				if info, err := os.Stat(c); err == nil && info.IsDir() {
					add(c)
				}
			}
		}
	}
	var out []string
	for path := range set {
		out = append(out, path)
	}
	slices.Sort(out)
	return out
}

// Dockerfile is the path of the Dockerfile of service, "" when it has
// no local build context or an inline Dockerfile.
func Dockerfile(p *types.Project, service string) string {
	b := p.Services[service].Build
	if b == nil || !localPath(b.Context) || b.DockerfileInline != "" {
		return ""
	}
	ctx := b.Context
	if !filepath.IsAbs(ctx) {
		ctx = filepath.Join(p.WorkingDir, ctx)
	}
	df := b.Dockerfile
	if df == "" {
		df = "Dockerfile"
	}
	if !filepath.IsAbs(df) {
		df = filepath.Join(ctx, df)
	}
	return df
}

// localPath reports whether a build context names a local path (not a
// Git or HTTP URL, an image or another service).
func localPath(c string) bool {
	return c != "" && !strings.Contains(c, "://") && !strings.HasPrefix(c, "git@") &&
		!strings.HasPrefix(c, "docker-image:") && !strings.HasPrefix(c, "service:") && !strings.HasPrefix(c, "oci-layout:")
}
