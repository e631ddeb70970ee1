package transforms

import (
	"path/filepath"
	"strings"
)

// DisplayPath is path as every command prints it, for a project in dir: a
// path inside dir relative to it ("secrets/pad.secrets"), any other path
// absolute ("/srv/docker/secrets/db.secrets", never "../../srv/..."),
// which a person can find from any folder. A relative path, or an empty
// dir, is returned as it is.
func DisplayPath(dir, path string) string {
	if dir == "" || !filepath.IsAbs(path) {
		return path
	}
	path = filepath.Clean(path)
	rel, err := filepath.Rel(dir, path)
	if err != nil || filepath.IsAbs(rel) || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return path
	}
	return rel
}
