package testproject

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/distribution/reference"
	"go.yaml.in/yaml/v4"

	"github.com/picasoft/docker-picatest/internal/exitcode"
	"github.com/picasoft/docker-picatest/internal/treefile"
)

// LoadError explains a Compose load error and says what to do next.
func LoadError(err error, files []string) error {
	msg := err.Error()
	if strings.Contains(msg, "yaml") {
		if located := locateYAMLError(files); located != "" {
			msg = located
		}
	}
	switch {
	case strings.Contains(msg, "no configuration file provided"):
		return exitcode.Invalidf("%s\nRun the command from the service folder, or name the Compose file with -f.", msg)
	case strings.Contains(msg, "couldn't find env file"):
		return exitcode.Invalidf("%s\nCheck the paths given with --env-file (or COMPOSE_ENV_FILES): each must exist.", msg)
	case strings.Contains(msg, "compose file") && errors.Is(err, fs.ErrNotExist):
		return exitcode.Invalidf("%s\nCheck the paths given with -f (or COMPOSE_FILE), relative to the current directory, or run the command from the service folder.", msg)
	case strings.Contains(msg, "no such service"):
		return exitcode.Invalidf("%s\nRun 'docker picatest config --services' to list the services.", msg)
	default:
		return exitcode.Invalidf("invalid Compose project: %s\nFix the Compose file, then check it with 'docker picatest config'.", msg)
	}
}

// checkImageReferences refuses (exit 2) an image name that the engine
// would reject, before anything is pulled, built or started: Compose
// itself only finds out when the engine answers the pull or the create.
// An image ID is accepted, as the engine accepts it.
func checkImageReferences(p *types.Project) error {
	var bad []string
	for _, name := range p.ServiceNames() {
		image := p.Services[name].Image
		if image == "" {
			continue
		}
		if _, err := reference.ParseAnyReference(image); err != nil {
			bad = append(bad, fmt.Sprintf("service %s: invalid image reference %q: %v", name, image, err))
		}
	}
	if len(bad) == 0 {
		return nil
	}
	return exitcode.Invalidf("%s\nWrite each image as [registry/]name:tag, in lowercase (e.g. postgres:12), then check the project with 'docker picatest check'.", strings.Join(bad, "\n"))
}

// ComposeFiles returns the Compose files the loader reads, for error
// messages: -f, else COMPOSE_FILE, else the default names in the project
// directory.
func (o Options) ComposeFiles() []string {
	if len(o.ConfigPaths) > 0 {
		return o.ConfigPaths
	}
	if v := os.Getenv("COMPOSE_FILE"); v != "" {
		sep := os.Getenv("COMPOSE_PATH_SEPARATOR")
		if sep == "" {
			sep = string(os.PathListSeparator)
		}
		return strings.Split(v, sep)
	}
	dir := o.ProjectDir
	if dir == "" {
		dir = "."
	}
	var files []string
	for _, name := range []string{"compose.yaml", "compose.yml", "docker-compose.yml", "docker-compose.yaml"} {
		files = append(files, filepath.Join(dir, name))
	}
	return files
}

// locateYAMLError parses each file and returns "file: error" for the first
// one that is not valid YAML, so that the message names file and line.
func locateYAMLError(files []string) string {
	for _, f := range files {
		b, err := treefile.ReadFile(f, treefile.TextFile)
		if err != nil {
			continue
		}
		var v any
		if err := yaml.Unmarshal(b, &v); err != nil {
			return fmt.Sprintf("%s: %v", f, err)
		}
	}
	return ""
}

// checkLoaded refuses (exit 2) a project the engine would refuse once
// half of it is created: two services with one container_name, an invalid
// image reference.
func checkLoaded(p *types.Project) error {
	if err := p.CheckContainerNameUnicity(); err != nil {
		return exitcode.Invalidf("%v\nGive each service its own container_name.", err)
	}
	return checkImageReferences(p)
}

// checkTreeFiles refuses (exit 2, naming it) a Compose file or a
// project-level env file that Compose's loader would read whole and that
// is not a regular file of bounded size: the loader reads them with
// os.ReadFile, so a committed symlink to /dev/zero or a fifo would exhaust
// the memory or block. Files that do not exist are left to the loader.
// The Compose files are those of ComposeFiles; the env files --env-file,
// else the default .env of the project directory and of the directory of
// the first Compose file. Files included by a Compose file (include:,
// extends:) are not checked here.
func (o Options) checkTreeFiles() error {
	for _, f := range o.ComposeFiles() {
		if f == "-" {
			continue
		}
		if err := checkBounded(f, treefile.TextFile); err != nil {
			return err
		}
	}
	env := o.EnvFiles
	if len(env) == 0 {
		dir := o.ProjectDir
		if dir == "" {
			dir = "."
		}
		env = []string{filepath.Join(dir, ".env")}
		if files := o.ComposeFiles(); len(files) > 0 && len(o.ConfigPaths) > 0 {
			env = append(env, filepath.Join(filepath.Dir(files[0]), ".env"))
		}
	}
	for _, f := range env {
		if len(o.EnvFiles) == 0 {
			if st, err := os.Stat(f); err == nil && st.IsDir() {
				continue // Compose ignores a .env directory
			}
		}
		if err := checkBounded(f, treefile.SmallFile); err != nil {
			return err
		}
	}
	return nil
}

// checkBounded returns the treefile error of path when it is not a regular
// file of at most max bytes; any other error (missing, unreadable) is left
// to the reader.
func checkBounded(path string, max int64) error {
	f, _, err := treefile.Open(path, max)
	if err != nil {
		if exitcode.Of(err) == exitcode.Invalid {
			return err
		}
		return nil
	}
	return f.Close()
}
