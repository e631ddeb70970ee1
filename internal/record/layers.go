package record

import (
	"context"
	"fmt"
	"strings"

	"github.com/moby/moby/client"
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
// then the content differs and push refuses before this comparison). Any
// other difference is named by its step.
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
		if len(rewritten) > 0 && copies(step) {
			v.TestOnly = append(v.TestOnly, fmt.Sprintf("layer %d: %s", i+1, step))
			continue
		}
		v.Other = append(v.Other, fmt.Sprintf("layer %d: %s", i+1, step))
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

// LayerSteps matches the history of an image (created_by, oldest first,
// as the engine's image history lists them newest first: reverse them) to
// its n layers: the steps that make no layer (ENV, LABEL, CMD... and the
// classic builder's "#(nop)" steps other than COPY and ADD) are left out.
// It returns nil when the count does not match: the history cannot tell.
func LayerSteps(history []string, n int) []string {
	var steps []string
	for _, h := range history {
		if emptyStep(h) {
			continue
		}
		steps = append(steps, strings.TrimSpace(strings.TrimPrefix(h, "/bin/sh -c #(nop) ")))
	}
	if len(steps) != n {
		return nil
	}
	return steps
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
		var steps []string
		for i := len(h.Items) - 1; i >= 0; i-- {
			steps = append(steps, h.Items[i].CreatedBy)
		}
		out.Steps = LayerSteps(steps, len(out.Layers))
	}
	return out, nil
}
