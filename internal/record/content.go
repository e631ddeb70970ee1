package record

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"

	"github.com/picasoft/docker-picatest/internal/gitrepo"
)

// Content is what a test or a push built from: the files git sees under
// the inputs (Inputs), by path relative to the root of the project's git
// work tree, with their blob IDs, and a hash of them all. Two contents
// are the same when their hashes are equal, whether read from a commit
// or from the working files.
type Content struct {
	// Hash is the hex SHA-256 of the sorted "path blob" lines; "" when
	// the content is unknown (not in a git work tree).
	Hash string
	// Files are the blob IDs by path.
	Files map[string]string
}

// WorkingContent reads the content of the working files under inputs
// (tracked and untracked ones, ignored ones excluded), as git would
// commit them: the blob IDs of `git hash-object`. root is the git work
// tree's root (gitrepo.Root); inputs outside it are an error.
func WorkingContent(root string, inputs []string) (Content, error) {
	specs, err := pathspecs(root, inputs)
	if err != nil {
		return Content{}, err
	}
	out, err := git(root, append([]string{"ls-files", "-z", "--cached", "--others", "--exclude-standard", "--"}, specs...)...)
	if err != nil {
		return Content{}, err
	}
	var paths []string
	seen := map[string]bool{}
	for _, p := range strings.Split(string(out), "\x00") {
		if p == "" || seen[p] {
			continue
		}
		seen[p] = true
		// A tracked file deleted from the work tree is not in the content;
		// a submodule (a directory) has no blob.
		if info, err := os.Lstat(filepath.Join(root, filepath.FromSlash(p))); err != nil || info.IsDir() {
			continue
		}
		paths = append(paths, p)
	}
	slices.Sort(paths)
	files := map[string]string{}
	if len(paths) > 0 {
		cmd := exec.Command("git", "-C", root, "hash-object", "--stdin-paths")
		cmd.Stdin = strings.NewReader(strings.Join(paths, "\n") + "\n")
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			return Content{}, fmt.Errorf("git hash-object failed in %s: %v %s", root, err, strings.TrimSpace(stderr.String()))
		}
		blobs := strings.Fields(string(out))
		if len(blobs) != len(paths) {
			return Content{}, fmt.Errorf("git hash-object in %s: %d blob IDs for %d files", root, len(blobs), len(paths))
		}
		for i, p := range paths {
			files[p] = blobs[i]
		}
	}
	return newContent(files), nil
}

// CommitContent reads the content of the files under inputs in commit
// (git ls-tree), root being the git work tree's root.
func CommitContent(root, commit string, inputs []string) (Content, error) {
	specs, err := pathspecs(root, inputs)
	if err != nil {
		return Content{}, err
	}
	// ls-tree takes plain paths (no pathspec magic), relative to root.
	for i, s := range specs {
		specs[i] = strings.TrimPrefix(s, ":(literal)")
	}
	out, err := git(root, append([]string{"ls-tree", "-r", "-z", "--full-tree", commit, "--"}, specs...)...)
	if err != nil {
		return Content{}, err
	}
	files := map[string]string{}
	for _, e := range strings.Split(string(out), "\x00") {
		meta, path, ok := strings.Cut(e, "\t")
		if !ok {
			continue
		}
		f := strings.Fields(meta)
		if len(f) == 3 && f[1] == "blob" {
			files[path] = f[2]
		}
	}
	return newContent(files), nil
}

func newContent(files map[string]string) Content {
	paths := make([]string, 0, len(files))
	for p := range files {
		paths = append(paths, p)
	}
	slices.Sort(paths)
	h := sha256.New()
	for _, p := range paths {
		fmt.Fprintf(h, "%s\x00%s\n", p, files[p])
	}
	return Content{Hash: hex.EncodeToString(h.Sum(nil)), Files: files}
}

// Diff names the files that differ between a and b (added, removed or
// changed), sorted.
func Diff(a, b map[string]string) []string {
	var out []string
	for p, blob := range a {
		if b[p] != blob {
			out = append(out, p)
		}
	}
	for p := range b {
		if _, ok := a[p]; !ok {
			out = append(out, p)
		}
	}
	slices.Sort(out)
	return out
}

// pathspecs are the inputs as literal git pathspecs relative to root.
func pathspecs(root string, inputs []string) ([]string, error) {
	var specs []string
	for _, in := range inputs {
		if r := gitrepo.Root(existing(in)); r != root {
			return nil, fmt.Errorf("%s is outside the git work tree %s", in, root)
		}
		rel, err := filepath.Rel(root, in)
		if err != nil {
			return nil, err
		}
		if rel == "." {
			specs = append(specs, ".")
			continue
		}
		specs = append(specs, ":(literal)"+filepath.ToSlash(rel))
	}
	return specs, nil
}

func existing(path string) string {
	if info, err := os.Stat(path); err == nil && info.IsDir() {
		return path
	}
	return filepath.Dir(path)
}

func git(root string, args ...string) ([]byte, error) {
	cmd := exec.Command("git", append([]string{"-C", root}, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("git %s failed in %s: %v %s", args[0], root, err, strings.TrimSpace(stderr.String()))
	}
	return out, nil
}
