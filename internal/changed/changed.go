// Package changed finds the service folders of a git repository that hold
// a file changed since a reference (up --changed, SPEC §9).
//
// A service folder is a folder holding a Compose file under one of
// Compose's own names (compose.yaml, compose.yml, docker-compose.yml,
// docker-compose.yaml). A changed file belongs to the closest service
// folder above it; a file outside every service folder (a .picatest.yml or
// a script shared by several folders, say) is reported as shared, never
// guessed to belong to a folder. The changes are those between the
// reference and the work tree: committed since the reference, staged,
// unstaged and untracked (files ignored by git excluded).
//
// The default reference is the merge base of HEAD with the default branch
// of the remote (refs/remotes/<remote>/HEAD, origin first), else the
// previous commit (HEAD~1).
package changed

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/compose-spec/compose-go/v2/cli"
)

// Folder is a service folder with changed files.
type Folder struct {
	// Dir is the folder, relative to the repository root (slash
	// separated, "." for the root itself).
	Dir string `json:"dir"`
	// Files are its changed files, relative to the repository root.
	Files []string `json:"files"`
}

// Changes are the service folders with changed files since a reference.
type Changes struct {
	// Root is the repository root (absolute).
	Root string `json:"root"`
	// Since is the reference, as given or the default.
	Since string `json:"since"`
	// Why says how the default reference was chosen ("" when given).
	Why string `json:"why,omitempty"`
	// Base is the commit the work tree is compared with.
	Base string `json:"base"`
	// Folders are the service folders holding a changed file, sorted.
	Folders []Folder `json:"folders"`
	// Shared are the changed files outside every service folder, sorted.
	Shared []string `json:"shared,omitempty"`
}

// Find lists the service folders of the repository holding dir that have
// a file changed since the reference since ("" for the default: see the
// package documentation).
func Find(dir, since string) (Changes, error) {
	root, err := git(dir, "rev-parse", "--show-toplevel")
	if err != nil {
		return Changes{}, fmt.Errorf("--changed needs a git work tree: %s is not in one (%v)", dir, err)
	}
	c := Changes{Root: root, Since: since}
	if since == "" {
		c.Since, c.Why, err = DefaultSince(root)
		if err != nil {
			return Changes{}, err
		}
	}
	c.Base, err = git(root, "rev-parse", "--verify", "--quiet", c.Since+"^{commit}")
	if err != nil || c.Base == "" {
		return Changes{}, fmt.Errorf("--since %s: no such commit in %s: give a branch, tag or commit that exists (in a shallow clone, fetch it first)", c.Since, root)
	}
	files, err := changedFiles(root, c.Base)
	if err != nil {
		return Changes{}, err
	}
	c.Folders, c.Shared = Group(root, files)
	return c, nil
}

// DefaultSince is the default reference and how it was chosen: the merge
// base of HEAD with the remote's default branch, else HEAD~1.
func DefaultSince(root string) (ref, why string, err error) {
	remotes, _ := git(root, "remote")
	names := strings.Fields(remotes)
	sort.SliceStable(names, func(i, j int) bool { return names[i] == "origin" && names[j] != "origin" })
	for _, remote := range names {
		def, err := git(root, "symbolic-ref", "--quiet", "--short", "refs/remotes/"+remote+"/HEAD")
		if err != nil || def == "" {
			continue
		}
		base, err := git(root, "merge-base", "HEAD", def)
		if err == nil && base != "" {
			return base, "the merge base with " + def, nil
		}
	}
	if _, err := git(root, "rev-parse", "--verify", "--quiet", "HEAD~1^{commit}"); err != nil {
		return "", "", errors.New("--changed: no remote default branch (refs/remotes/origin/HEAD) and no previous commit to compare with: give the reference, e.g. --since main")
	}
	return "HEAD~1", "the previous commit: no remote default branch", nil
}

// changedFiles are the files that differ between base and the work tree,
// and the untracked ones, relative to root.
func changedFiles(root, base string) ([]string, error) {
	diff, err := git(root, "diff", "--name-only", "--no-renames", "-z", base, "--")
	if err != nil {
		return nil, fmt.Errorf("git diff %s failed: %v", base, err)
	}
	untracked, err := git(root, "ls-files", "--others", "--exclude-standard", "-z")
	if err != nil {
		return nil, fmt.Errorf("git ls-files failed: %v", err)
	}
	var files []string
	for _, f := range strings.Split(diff+"\x00"+untracked, "\x00") {
		if f != "" && !slices.Contains(files, f) {
			files = append(files, f)
		}
	}
	sort.Strings(files)
	return files, nil
}

// Group gives each file (relative to root, slash separated) to the closest
// service folder above it; files outside every service folder are shared.
func Group(root string, files []string) (folders []Folder, shared []string) {
	byDir := map[string][]string{}
	for _, f := range files {
		dir, ok := serviceFolder(root, path.Dir(f))
		if !ok {
			shared = append(shared, f)
			continue
		}
		byDir[dir] = append(byDir[dir], f)
	}
	for dir, fs := range byDir {
		folders = append(folders, Folder{Dir: dir, Files: fs})
	}
	sort.Slice(folders, func(i, j int) bool { return folders[i].Dir < folders[j].Dir })
	return folders, shared
}

// serviceFolder is the closest folder at or above dir (relative to root)
// that is a service folder.
func serviceFolder(root, dir string) (string, bool) {
	for {
		if IsServiceFolder(filepath.Join(root, filepath.FromSlash(dir))) {
			return dir, true
		}
		if dir == "." || dir == "/" || dir == "" {
			return "", false
		}
		dir = path.Dir(dir)
	}
}

// IsServiceFolder tells whether dir holds a Compose file under one of
// Compose's own names.
func IsServiceFolder(dir string) bool {
	for _, name := range cli.DefaultFileNames {
		if st, err := os.Stat(filepath.Join(dir, name)); err == nil && st.Mode().IsRegular() {
			return true
		}
	}
	return false
}

// git runs a read-only git command in dir and returns its output, trimmed
// of the final newline.
func git(dir string, args ...string) (string, error) {
	var stderr bytes.Buffer
	cmd := exec.Command("git", append([]string{"-C", dir}, args...)...)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		if msg := strings.TrimSpace(stderr.String()); msg != "" {
			return "", fmt.Errorf("%v: %s", err, msg)
		}
		return "", err
	}
	return strings.TrimRight(string(out), "\n"), nil
}
