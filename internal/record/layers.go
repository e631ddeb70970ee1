package record

import (
	"context"
	"fmt"
	"strings"

	"github.com/moby/moby/client"

	"github.com/picasoft/docker-picatest/internal/treefile"
)

// LayerVerdict compares the image about to be pushed with the image a
// test built.
type LayerVerdict struct {
	// Same: the same filesystem layers.
	Same bool
	// TestOnly are the steps of the layers that differ, each one copying
	// files of the build context into the image, when the test rewrote
	// files of that context: they differ only by the test URLs.
	TestOnly []string
	// Other are the layers that differ for another reason ("layer 3:
	// RUN make"); not empty means refused.
	Other []string
}

// OK reports whether the image may be pushed as the tested one.
func (v LayerVerdict) OK() bool { return len(v.Other) == 0 }

// CompareLayers compares the layers of built (the image to push) with
// those of tested (the image the test built), rewritten being the files
// the test rewrote in the service's build context. Layers compare by
// position: the same count, and at each position the same diff ID, or a
// different one made by a COPY or ADD step (history created_by) while the
// test rewrote files of the context (the step cannot tell which files it
// copied: a COPY of other files that differ is let through as well, but
// then the content differs and push refuses before this comparison). A
// layer after such a COPY was built on the rewritten files (a RUN that
// follows it runs again, its cache missed, and its layer differs by its
// timestamps at least): it may differ too, and is named. Any other
// difference, the base image's layers included, is named by its step.
func CompareLayers(tested, built Image, rewritten []string) LayerVerdict {
	var v LayerVerdict
	if len(tested.Layers) != len(built.Layers) {
		v.Other = append(v.Other, fmt.Sprintf("%d layers tested, %d to push: the Dockerfile steps differ (tested: %s; to push: %s)",
			len(tested.Layers), len(built.Layers), strings.Join(nonEmpty(tested.Steps), " | "), strings.Join(nonEmpty(built.Steps), " | ")))
		return v
	}
	for i := range built.Layers {
		if built.Layers[i] == tested.Layers[i] {
			continue
		}
		step := stepOf(built, i)
		switch {
		case i < max(tested.Base, built.Base):
			v.Other = append(v.Other, fmt.Sprintf("layer %d: %s (a layer of the base image: the base image changed since the test)", i+1, step))
		case len(rewritten) > 0 && copies(step):
			v.TestOnly = append(v.TestOnly, fmt.Sprintf("layer %d: %s", i+1, step))
		case len(v.TestOnly) > 0:
			v.TestOnly = append(v.TestOnly, fmt.Sprintf("layer %d: %s (built on the rewritten files)", i+1, step))
		default:
			v.Other = append(v.Other, fmt.Sprintf("layer %d: %s", i+1, step))
		}
	}
	v.Same = len(v.TestOnly) == 0 && len(v.Other) == 0
	return v
}

// stepOf is the history step of layer i of img, or "step unknown".
func stepOf(img Image, i int) string {
	if i < len(img.Steps) && img.Steps[i] != "" {
		return img.Steps[i]
	}
	return "step unknown (no image history)"
}

// copies reports whether a history step copies files of the build
// context (COPY or ADD, as BuildKit and the classic builder write them),
// not from another stage or image.
func copies(step string) bool {
	s := strings.TrimSpace(step)
	s = strings.TrimPrefix(s, "/bin/sh -c #(nop) ")
	s = strings.TrimSpace(s)
	if !(strings.HasPrefix(s, "COPY ") || strings.HasPrefix(s, "ADD ")) {
		return false
	}
	return !strings.Contains(s, "--from=")
}

func nonEmpty(l []string) []string {
	var out []string
	for _, s := range l {
		if s != "" {
			out = append(out, s)
		}
	}
	if len(out) == 0 {
		return []string{"history unknown"}
	}
	return out
}

// Step is one entry of an image's history.
type Step struct {
	CreatedBy string
	// Size is the size of its layer: more than 0 means it made one; 0
	// may be an empty layer or none.
	Size int64
}

// LayerSteps matches the history of an image (oldest first: the engine
// lists it newest first) to its n layers: the steps that make no layer
// (ENV, LABEL, CMD... and the classic builder's "#(nop)" steps other than
// COPY and ADD) are left out; when that leaves more than n, the steps of
// size 0 are left out too (the classic builder makes no layer for a RUN
// that changes nothing). It returns nil when the count still does not
// match: the history cannot tell.
func LayerSteps(history []Step, n int) []string {
	var candidates []Step
	for _, h := range history {
		if !emptyStep(h.CreatedBy) {
			candidates = append(candidates, h)
		}
	}
	if len(candidates) != n {
		var sized []Step
		for _, h := range candidates {
			if h.Size > 0 {
				sized = append(sized, h)
			}
		}
		candidates = sized
	}
	if len(candidates) != n {
		return nil
	}
	steps := make([]string, n)
	for i, h := range candidates {
		steps[i] = truncate(strings.TrimSpace(strings.TrimPrefix(h.CreatedBy, "/bin/sh -c #(nop) ")), 200)
	}
	return steps
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// emptyStep reports whether a history step makes no filesystem layer.
func emptyStep(createdBy string) bool {
	s := strings.TrimSpace(createdBy)
	if rest, ok := strings.CutPrefix(s, "/bin/sh -c #(nop) "); ok {
		rest = strings.TrimSpace(rest)
		return !(strings.HasPrefix(rest, "COPY ") || strings.HasPrefix(rest, "ADD "))
	}
	word, _, _ := strings.Cut(s, " ")
	switch word {
	case "ENV", "LABEL", "ARG", "CMD", "ENTRYPOINT", "EXPOSE", "USER", "HEALTHCHECK", "VOLUME", "STOPSIGNAL", "SHELL", "ONBUILD", "MAINTAINER":
		return true
	}
	return false
}

// BaseImage returns the image the last stage of the Dockerfile at path
// starts FROM, "" when it cannot tell (no such file, a variable, a
// previous stage) and "scratch" for none.
func BaseImage(path string) string {
	data, err := treefile.ReadFile(path, treefile.TextFile)
	if err != nil {
		return ""
	}
	stages := map[string]bool{}
	base := ""
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 || !strings.EqualFold(f[0], "FROM") {
			continue
		}
		args := f[1:]
		for len(args) > 0 && strings.HasPrefix(args[0], "--") {
			args = args[1:]
		}
		if len(args) == 0 {
			return ""
		}
		base = args[0]
		if stages[strings.ToLower(base)] || strings.Contains(base, "$") {
			base = ""
		}
		if len(args) >= 3 && strings.EqualFold(args[1], "AS") {
			stages[strings.ToLower(args[2])] = true
		}
	}
	return base
}

// BaseLayers is the number of layers of the base image of the Dockerfile
// at path on the daemon, 0 when unknown.
func BaseLayers(ctx context.Context, c ImageReader, path string) int {
	base := BaseImage(path)
	if base == "" || base == "scratch" {
		return 0
	}
	img, err := c.ImageInspect(ctx, base)
	if err != nil {
		return 0
	}
	return len(img.RootFS.Layers)
}

// ImageReader is the part of the moby client that reads an image.
type ImageReader interface {
	ImageInspect(ctx context.Context, image string, opts ...client.ImageInspectOption) (client.ImageInspectResult, error)
	ImageHistory(ctx context.Context, image string, opts ...client.ImageHistoryOption) (client.ImageHistoryResult, error)
}

// ReadImage reads the ID, layers and layer steps of the local image ref,
// built for service.
func ReadImage(ctx context.Context, c ImageReader, service, ref string) (Image, error) {
	img, err := c.ImageInspect(ctx, ref)
	if err != nil {
		return Image{}, err
	}
	out := Image{Service: service, Image: ref, ID: img.ID, Layers: img.RootFS.Layers}
	if h, err := c.ImageHistory(ctx, img.ID); err == nil {
		var steps []Step
		for i := len(h.Items) - 1; i >= 0; i-- {
			steps = append(steps, Step{CreatedBy: h.Items[i].CreatedBy, Size: h.Items[i].Size})
		}
		out.Steps = LayerSteps(steps, len(out.Layers))
	}
	return out, nil
}
