// Package gitrepo answers the few questions docker picatest asks about the
// git work tree of a project: where its root is, which branch and commit
// are checked out, whether it is clean, and whether a file is tracked or
// ignored. It only reads; it never changes the repository.
package gitrepo

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
)

// Head returns the branch and commit checked out in dir's work tree,
// reading .git directly in the common case (a plain repository, loose or
// packed refs) and asking git otherwise; "" when dir is not in a work tree.
func Head(dir string) (branch, commit string) {
	root := Root(dir)
	if root == "" {
		return "", ""
	}
	gitDir := filepath.Join(root, ".git")
	head, err := os.ReadFile(filepath.Join(gitDir, "HEAD"))
	if err != nil {
		return Run(dir, "rev-parse", "--abbrev-ref", "HEAD"), Run(dir, "rev-parse", "HEAD")
	}
	ref, symbolic := strings.CutPrefix(strings.TrimSpace(string(head)), "ref: ")
	if !symbolic {
		return "HEAD", ref
	}
	branch = strings.TrimPrefix(ref, "refs/heads/")
	if b, err := os.ReadFile(filepath.Join(gitDir, filepath.FromSlash(ref))); err == nil {
		return branch, strings.TrimSpace(string(b))
	}
	if packed, err := os.ReadFile(filepath.Join(gitDir, "packed-refs")); err == nil {
		for _, line := range strings.Split(string(packed), "\n") {
			if sha, name, ok := strings.Cut(strings.TrimSpace(line), " "); ok && name == ref {
				return branch, sha
			}
		}
	}
	// A branch without commits yet, or a layout we do not read: ask git.
	return branch, Run(dir, "rev-parse", "--verify", "--quiet", "HEAD")
}

// Run runs a read-only git command in dir and returns its trimmed output,
// or "" when dir is not in a git work tree or git is missing.
func Run(dir string, args ...string) string {
	out, err := exec.Command("git", append([]string{"-C", dir}, args...)...).Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}

// Root returns the closest directory at or above dir holding a .git
// entry, or "" if there is none.
func Root(dir string) string {
	for {
		if _, err := os.Lstat(filepath.Join(dir, ".git")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

// State returns the commit of dir's work tree and the files under dir
// that are modified, staged or untracked (ignored files excluded).
func State(dir string) (string, []string, error) {
	out, err := exec.Command("git", "-C", dir, "rev-parse", "HEAD").Output()
	if err != nil {
		return "", nil, fmt.Errorf("%s is not in a git work tree with a commit (git rev-parse HEAD failed)", dir)
	}
	commit := strings.TrimSpace(string(out))
	out, err = exec.Command("git", "-C", dir, "status", "--porcelain", "--untracked-files=all", "--", ".").Output()
	if err != nil {
		return commit, nil, fmt.Errorf("git status failed in %s: %v", dir, err)
	}
	var dirty []string
	for _, line := range strings.Split(string(out), "\n") {
		if strings.TrimSpace(line) != "" {
			dirty = append(dirty, line)
		}
	}
	return commit, dirty, nil
}

// FileStatus reports whether path is in a git work tree, tracked, and
// ignored.
func FileStatus(path string) (inRepo, tracked, ignored bool) {
	dir := filepath.Dir(path)
	if Run(dir, "rev-parse", "--is-inside-work-tree") != "true" {
		return false, false, false
	}
	tracked = exec.Command("git", "-C", dir, "ls-files", "--error-unmatch", "--", path).Run() == nil
	ignored = exec.Command("git", "-C", dir, "check-ignore", "-q", "--", path).Run() == nil
	return true, tracked, ignored
}

// Dirty returns the files under paths (files or directories, in one or
// more work trees) that are modified, staged, deleted or untracked
// (ignored files excluded), as absolute paths, sorted. A path that is not
// in a git work tree is an error naming it.
func Dirty(paths []string) ([]string, error) {
	byRoot := map[string][]string{}
	var roots []string
	for _, p := range paths {
		abs, err := filepath.Abs(p)
		if err != nil {
			return nil, err
		}
		root := Root(existingDir(abs))
		if root == "" {
			return nil, fmt.Errorf("%s is not in a git work tree", abs)
		}
		rel, err := filepath.Rel(root, abs)
		if err != nil {
			return nil, err
		}
		if _, ok := byRoot[root]; !ok {
			roots = append(roots, root)
		}
		byRoot[root] = append(byRoot[root], filepath.ToSlash(rel))
	}
	seen := map[string]bool{}
	var dirty []string
	for _, root := range roots {
		args := append([]string{"-C", root, "status", "--porcelain", "-z", "--untracked-files=all", "--"}, literal(byRoot[root])...)
		out, err := exec.Command("git", args...).Output()
		if err != nil {
			return nil, fmt.Errorf("git status failed in %s: %v", root, err)
		}
		entries := strings.Split(string(out), "\x00")
		for i := 0; i < len(entries); i++ {
			e := entries[i]
			if len(e) < 4 {
				continue
			}
			if e[0] == 'R' || e[0] == 'C' {
				i++ // the original path of a rename or copy follows
			}
			f := filepath.Join(root, filepath.FromSlash(e[3:]))
			if !seen[f] {
				seen[f] = true
				dirty = append(dirty, f)
			}
		}
	}
	slices.Sort(dirty)
	return dirty, nil
}

// literal makes paths git pathspecs matching exactly those paths (no glob).
func literal(paths []string) []string {
	out := make([]string, len(paths))
	for i, p := range paths {
		if p == "." {
			out[i] = p
			continue
		}
		out[i] = ":(literal)" + p
	}
	return out
}

// existingDir is path if it is a directory, else its parent.
func existingDir(path string) string {
	if info, err := os.Stat(path); err == nil && info.IsDir() {
		return path
	}
	return filepath.Dir(path)
}
