// Package inferbuild gives a build section to the home-made images that lack
// one, as Picasoft's manual procedure builds them by hand: "docker build
// [-f <Dockerfile>] -t <image> <context>", where <image> is exactly the
// Compose file's image and the context is the service folder.
//
// A service whose image is home-made (the caller says which images are:
// those under the home registry) and has no build section gets
// build: {context: <project directory>, dockerfile: Dockerfile} when the
// project directory holds a Dockerfile and no other candidate
// (Dockerfile.*). Without a Dockerfile, or with several candidates, the
// service cannot be built as the procedure would: Transform returns an
// *Error naming each such service and the build section to write. Several
// services sharing one home image get the build section on the first of
// them (by name) only, so that the image is built once; the others run the
// image it builds.
//
// Transform is pure and copy-on-write: it reads the project directory but
// never writes, and never modifies its input. Each inferred build is one
// transforms.Change whose New value is the build section to add to the
// Compose file.
package inferbuild

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"

	"github.com/picasoft/docker-picatest/transforms"
)

// Name is the Transform name used in the changes this package reports.
const Name = "infer-build"

// Dockerfile is the Dockerfile the procedure builds.
const Dockerfile = "Dockerfile"

// Problem is a home-made image without a build section that cannot be
// built as the procedure would.
type Problem struct {
	Service string
	Image   string
	// Candidates are the Dockerfiles found in the project directory (none,
	// or several).
	Candidates []string
	// Hint is the build section to write, or what to do.
	Hint string
}

// Error lists the services whose build cannot be inferred.
type Error struct {
	Problems []Problem
}

func (e *Error) Error() string {
	var b strings.Builder
	for i, p := range e.Problems {
		if i > 0 {
			b.WriteString("\n")
		}
		what := "no Dockerfile in the project directory"
		if len(p.Candidates) > 0 {
			what = "several Dockerfiles in the project directory (" + strings.Join(p.Candidates, ", ") + ")"
		}
		fmt.Fprintf(&b, "service %s: the home-made image %s has no build section and %s, so it cannot be built from this folder as the procedure does; %s", p.Service, p.Image, what, p.Hint)
	}
	return b.String()
}

// Transform returns a copy of p in which every service whose image is
// home-made (homeMade(image)) and that has no build section builds from the
// project directory's Dockerfile, with one Change per inferred build. The
// input is not modified.
func Transform(p *types.Project, homeMade func(image string) bool) (*types.Project, []transforms.Change, error) {
	targets := servicesToInfer(p, homeMade)
	if len(targets) == 0 {
		return p, nil, nil
	}
	candidates, err := Candidates(p.WorkingDir)
	if err != nil {
		return nil, nil, err
	}
	if len(candidates) != 1 || candidates[0] != Dockerfile {
		e := &Error{}
		for _, name := range targets {
			e.Problems = append(e.Problems, Problem{
				Service: name, Image: p.Services[name].Image, Candidates: candidates,
				Hint: hint(name, candidates),
			})
		}
		return nil, nil, e
	}
	out := *p
	out.Services = make(types.Services, len(p.Services))
	for name, s := range p.Services {
		out.Services[name] = s
	}
	var changes []transforms.Change
	for _, name := range targets {
		s := out.Services[name]
		s.Build = &types.BuildConfig{Context: p.WorkingDir, Dockerfile: Dockerfile}
		out.Services[name] = s
		changes = append(changes, transforms.Change{
			Transform: Name,
			Where:     "services." + name + ".build",
			Old:       "",
			New:       BuildSection(),
		})
	}
	return &out, changes, nil
}

// BuildSection is the build section the procedure's build stands for, as
// it is written in a service of the Compose file.
func BuildSection() string {
	return "build: ."
}

// hint is the build section to write for a service, given the candidates
// found.
func hint(service string, candidates []string) string {
	if len(candidates) == 0 {
		return fmt.Sprintf("add a Dockerfile to the folder, or write the build section of service %s in the Compose file, e.g. 'build: {context: ./path/to/context, dockerfile: Dockerfile}'", service)
	}
	return fmt.Sprintf("write the build section of service %s in the Compose file with the Dockerfile to use, e.g. 'build: {context: ., dockerfile: %s}'", service, candidates[len(candidates)-1])
}

// Candidates returns, sorted, the Dockerfiles of dir: Dockerfile and
// Dockerfile.* (regular files).
func Candidates(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("cannot read the project directory %s to find a Dockerfile: %w", dir, err)
	}
	var out []string
	for _, e := range entries {
		name := e.Name()
		if name != Dockerfile && !strings.HasPrefix(name, Dockerfile+".") {
			continue
		}
		if info, err := os.Stat(filepath.Join(dir, name)); err == nil && info.Mode().IsRegular() && !strings.HasSuffix(name, ".dockerignore") {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out, nil
}

// servicesToInfer returns, sorted, the services whose build is inferred:
// a home-made image, no build section, and no other service that builds
// the same image (or comes first by name with it).
func servicesToInfer(p *types.Project, homeMade func(string) bool) []string {
	built := map[string]bool{}
	for _, s := range p.Services {
		if s.Build != nil && s.Image != "" {
			built[s.Image] = true
		}
	}
	var out []string
	for _, name := range p.ServiceNames() {
		s := p.Services[name]
		if s.Build != nil || s.Image == "" || built[s.Image] || !homeMade(s.Image) {
			continue
		}
		built[s.Image] = true
		out = append(out, name)
	}
	return out
}

// Services are the services whose build the changes (of Transform, among
// others) inferred.
func Services(changes []transforms.Change) []string {
	var out []string
	for _, c := range changes {
		if c.Transform == Name {
			out = append(out, strings.TrimSuffix(strings.TrimPrefix(c.Where, "services."), ".build"))
		}
	}
	return out
}
