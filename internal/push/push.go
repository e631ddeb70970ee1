// Package push owns what `docker picatest push` decides: which services
// are published (a build section and an image under the home registry),
// the preflight that runs before anything is built or uploaded
// (credentials accepted by the registry, a clean git tree, no test build),
// the project that is pushed, and the digest reported for each image.
package push

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"
	cerrdefs "github.com/containerd/errdefs"
	"github.com/distribution/reference"
	"github.com/docker/cli/cli/config/configfile"
	"github.com/moby/moby/client"

	"github.com/picasoft/docker-picatest/internal/exitcode"
	"github.com/picasoft/docker-picatest/internal/gitrepo"
	"github.com/picasoft/docker-picatest/internal/registry"
	"github.com/picasoft/docker-picatest/transforms/testlabels"
)

// Target is a service whose image is pushed.
type Target struct {
	Service string
	Image   string
	named   reference.Named
}

// Skip is a service that is not pushed, and why.
type Skip struct {
	Service string `json:"service"`
	Image   string `json:"image,omitempty"`
	Reason  string `json:"reason"`
}

// SelectTargets splits the services of p (only those named, when names
// is not empty) into the targets, with build and an image under registry,
// and the skipped ones with their reason. Both are sorted by service name.
func SelectTargets(p *types.Project, home string, names []string) ([]Target, []Skip) {
	selected := map[string]bool{}
	for _, n := range names {
		selected[n] = true
	}
	var targets []Target
	var skipped []Skip
	for _, name := range p.ServiceNames() {
		if len(names) > 0 && !selected[name] {
			continue
		}
		s := p.Services[name]
		if s.Image == "" {
			reason := "no image: nothing to push"
			if s.Build != nil {
				reason = fmt.Sprintf("built, but has no image name: add 'image: %s/<name>:<tag>' to push it", home)
			}
			skipped = append(skipped, Skip{Service: name, Reason: reason})
			continue
		}
		named, err := reference.ParseNormalizedNamed(s.Image)
		if err != nil {
			skipped = append(skipped, Skip{Service: name, Image: s.Image, Reason: fmt.Sprintf("invalid image reference: %v", err)})
			continue
		}
		domain, path := reference.Domain(named), reference.Path(named)
		switch {
		case s.Build == nil && domain == "docker.io" && strings.HasPrefix(path, "library/"):
			skipped = append(skipped, Skip{Service: name, Image: s.Image, Reason: "official image"})
		case s.Build == nil:
			skipped = append(skipped, Skip{Service: name, Image: s.Image, Reason: "not built (no build section)"})
		case !registry.UnderRegistry(named, home):
			skipped = append(skipped, Skip{Service: name, Image: s.Image, Reason: fmt.Sprintf("other registry (%s, not under %s)", domain+"/"+path, home)})
		default:
			targets = append(targets, Target{Service: name, Image: s.Image, named: named})
		}
	}
	return targets, skipped
}

// Project restricts p to the targets. Only each service's image is
// pushed: extra build tags, which may name other registries, are dropped.
func Project(p *types.Project, targets []Target) *types.Project {
	pp := *p
	pp.Services = types.Services{}
	for _, t := range targets {
		s := p.Services[t.Service]
		b := *s.Build
		b.Tags = nil
		s.Build = &b
		pp.Services[t.Service] = s
	}
	pp.DisabledServices = nil
	return &pp
}

// CheckLocalImages refuses a target image built by a test (exit 3) and,
// unless built reports that --build just built them, a missing one (exit 1).
func CheckLocalImages(ctx context.Context, c ImageInspector, targets []Target, built bool) error {
	for _, t := range targets {
		img, err := c.ImageInspect(ctx, t.Image)
		if err != nil {
			if cerrdefs.IsNotFound(err) {
				if built {
					return exitcode.With(exitcode.Failed, fmt.Errorf("image %s (service %s) is missing after the build", t.Image, t.Service))
				}
				return exitcode.With(exitcode.Failed, fmt.Errorf("image %s (service %s) does not exist locally: run 'docker picatest push --build' to build it from the committed project", t.Image, t.Service))
			}
			return err
		}
		if img.Config != nil && img.Config.Labels[testlabels.TestBuild] == "true" {
			if built {
				return exitcode.With(exitcode.Refused, fmt.Errorf("image %s (service %s) was rebuilt but still carries the label %s=true, inherited from its base image: rebuild the base image without 'docker picatest up' first", t.Image, t.Service, testlabels.TestBuild))
			}
			return exitcode.With(exitcode.Refused, fmt.Errorf("image %s (service %s) was built by a test (label %s=true) and is never pushed: run 'docker picatest push --build' to rebuild it from the untransformed project", t.Image, t.Service, testlabels.TestBuild))
		}
	}
	return nil
}

// Digest returns the digest of a pushed image: the registry's own
// (Docker-Content-Digest of its manifest), else the engine's RepoDigests.
func Digest(ctx context.Context, c ImageInspector, reg *registry.Client, t Target) (string, error) {
	tagged := reference.TagNameOnly(t.named)
	tag := "latest"
	if tg, ok := tagged.(reference.Tagged); ok {
		tag = tg.Tag()
	}
	digest, regErr := reg.ManifestDigest(ctx, reference.Path(t.named), tag)
	if regErr == nil {
		return digest, nil
	}
	img, err := c.ImageInspect(ctx, t.Image)
	if err != nil {
		return "", errors.Join(regErr, err)
	}
	for _, rd := range img.RepoDigests {
		if name, d, ok := strings.Cut(rd, "@"); ok && name == t.named.Name() {
			return d, nil
		}
	}
	return "", regErr
}

// cleanTree returns the commit checked out in dir and the files among
// inputs (and dir itself) with uncommitted or untracked changes, as paths
// relative to dir. An input outside dir's work tree is an error: the
// commit would not hold it.
func cleanTree(dir string, inputs []string) (string, []string, error) {
	out, err := exec.Command("git", "-C", dir, "rev-parse", "HEAD").Output()
	if err != nil {
		return "", nil, fmt.Errorf("%s is not in a git work tree with a commit (git rev-parse HEAD failed)", dir)
	}
	commit := strings.TrimSpace(string(out))
	root := gitrepo.Root(dir)
	for _, in := range inputs {
		if gitrepo.Root(in) != root {
			return commit, nil, fmt.Errorf("%s is read by the build but is outside the git work tree of the project (%s): commit %s does not hold it", in, root, short(commit))
		}
	}
	abs, err := gitrepo.Dirty(append([]string{dir}, inputs...))
	if err != nil {
		return commit, nil, err
	}
	var dirty []string
	for _, f := range abs {
		if rel, err := filepath.Rel(dir, f); err == nil {
			f = rel
		}
		dirty = append(dirty, filepath.ToSlash(f))
	}
	return commit, dirty, nil
}

func short(commit string) string {
	if len(commit) > 12 {
		return commit[:12]
	}
	return commit
}

// ImageInspector is the part of the moby client that push needs.
type ImageInspector interface {
	ImageInspect(ctx context.Context, image string, opts ...client.ImageInspectOption) (client.ImageInspectResult, error)
}

// Options tune the preflight.
type Options struct {
	// Registry is the home registry, host[/path].
	Registry string
	// Dir is the project directory: the commit pushed is the one checked
	// out there.
	Dir string
	// Inputs are the files and folders the pushed builds read
	// (record.Inputs: the project folder, the Compose files, each build
	// context and Dockerfile, inside or outside Dir): none may have
	// uncommitted or untracked files, and all must be in Dir's work tree.
	Inputs []string
	// AllowDirty pushes from a tree with uncommitted or untracked files.
	AllowDirty bool
	// Build: the images are rebuilt from the untransformed project, so
	// they need not exist locally yet.
	Build bool
}

// Preflight is the outcome of the checks that run before anything is
// built or uploaded.
type Preflight struct {
	// Registry is the client of the home registry, credentials checked.
	Registry *registry.Client
	// Commit is the commit pushed; Dirty, whether the tree had changes
	// (AllowDirty).
	Commit string
	Dirty  bool
}

// Check runs the push guard, in this order: (a) credentials for the
// registry exist in the Docker config cfg and the registry accepts them
// (exit 1 naming docker login); (b) the git tree under o.Dir is clean
// (exit 3, unless o.AllowDirty); (c) without o.Build, every target image
// exists locally (exit 1) and none is a test build (exit 3).
func Check(ctx context.Context, cfg *configfile.ConfigFile, images ImageInspector, targets []Target, o Options) (*Preflight, error) {
	regHost, _, _ := strings.Cut(o.Registry, "/")
	reg, err := registry.New(cfg, regHost)
	if err != nil {
		return nil, err
	}
	if err := reg.Ping(ctx); err != nil {
		return nil, err
	}
	commit, dirty, err := cleanTree(o.Dir, o.Inputs)
	switch {
	case err != nil && !o.AllowDirty:
		return nil, exitcode.With(exitcode.Refused, fmt.Errorf("%v\nPush from a git work tree, so that the image matches a commit, or use --allow-dirty", err))
	case len(dirty) > 0 && !o.AllowDirty:
		return nil, exitcode.With(exitcode.Refused, fmt.Errorf("files read by the push (the Compose files, the build contexts and Dockerfiles) have uncommitted or untracked changes:\n  %s\nCommit (or remove) them first, so that the image matches a commit, or use --allow-dirty", strings.Join(dirty, "\n  ")))
	}
	if !o.Build {
		if err := CheckLocalImages(ctx, images, targets, false); err != nil {
			return nil, err
		}
	}
	return &Preflight{Registry: reg, Commit: commit, Dirty: len(dirty) > 0}, nil
}
