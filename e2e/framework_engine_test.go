package e2e

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"go.yaml.in/yaml/v4"
	"gotest.tools/v3/assert"
	"gotest.tools/v3/poll"
)

// cleanupProject removes what a run of p may have left on the engine: the
// containers (with their anonymous volumes), networks and volumes labelled
// with its Compose project name, the external volumes its testdata
// declares, then the images given to cleanupImages. newProject runs it
// before the test and after.
func (p *project) cleanupProject() {
	p.t.Helper()
	run := p.outside()
	remove := func(kind string, rm ...string) {
		ids, r := run.listObjects(kind, "")
		if r.ExitCode != 0 {
			p.t.Logf("cleanup of project %s: %s", p.Name, r)
			return
		}
		if len(ids) == 0 {
			return
		}
		if r := run.docker(append(rm, ids...)...); r.ExitCode != 0 {
			p.t.Logf("cleanup of project %s: %s", p.Name, r)
		}
	}
	remove("container", "rm", "--force", "--volumes")
	// The project's lock (a created container, no Compose label): left
	// only by a run that was killed.
	if r := run.docker("container", "rm", "--force", p.lockName()); r.ExitCode != 0 && !strings.Contains(r.Stderr, "No such container") {
		p.t.Logf("cleanup of project %s: %s", p.Name, r)
	}
	remove("network", "network", "rm")
	remove("volume", "volume", "rm", "--force")
	for _, v := range p.externalVolumes {
		run.docker("volume", "rm", "--force", v)
	}
	for _, img := range p.images {
		run.docker("image", "rm", "--force", img)
	}
	// The test records of the project (internal/record), which every up
	// leaves on the daemon.
	if r := run.docker("image", "ls", "--quiet", "--no-trunc", "picatest-record/"+p.Name); r.ExitCode == 0 {
		if ids := strings.Fields(r.Stdout); len(ids) > 0 {
			run.docker(append([]string{"image", "rm", "--force"}, ids...)...)
		}
	}
}

// cleanupImages removes images (built or tagged by the test) now and after
// the test, once the project's containers are gone.
func (p *project) cleanupImages(images ...string) {
	p.t.Helper()
	run := p.outside()
	for _, img := range images {
		run.docker("image", "rm", "--force", img)
	}
	p.images = append(p.images, images...)
}

// outside is p's Compose project without p's folder and environment: its
// docker commands run with the Docker config of the run, as the cleanup
// needs after the test, when a Docker config of the project's own
// (withDockerConfig) is gone.
func (p *project) outside() *project {
	return &project{t: p.t, Name: p.Name}
}

// composeExternalVolumes returns the names of the external volumes that the
// YAML files under dir declare (top-level volumes with external: true),
// with $COMPOSE_PROJECT_NAME replaced by project. A name holding any other
// variable is left out, never guessed; a file that does not parse as a
// Compose file is passed over.
func composeExternalVolumes(dir, project string) []string {
	var names []string
	_ = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		switch {
		case err != nil:
			return nil
		case d.IsDir() && d.Name() == ".git":
			return filepath.SkipDir
		case !d.Type().IsRegular() || (filepath.Ext(path) != ".yaml" && filepath.Ext(path) != ".yml"):
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return nil
		}
		var compose struct {
			Volumes map[string]*struct {
				Name     string `yaml:"name"`
				External bool   `yaml:"external"`
			} `yaml:"volumes"`
		}
		if yaml.Unmarshal(b, &compose) != nil {
			return nil
		}
		for key, v := range compose.Volumes {
			if v == nil || !v.External {
				continue
			}
			name, known := v.Name, true
			if name == "" {
				name = key
			}
			name = os.Expand(name, func(k string) string {
				if k == "COMPOSE_PROJECT_NAME" {
					return project
				}
				known = false
				return ""
			})
			if known && name != "" && !slices.Contains(names, name) {
				names = append(names, name)
			}
		}
		return nil
	})
	sort.Strings(names)
	return names
}

// listObjects runs `docker <kind> ls` (kind: container, network, volume or
// image) for the objects labelled with p's Compose project that match
// filters, printing format (the IDs when format is ""); it returns the
// output's lines and the command's result.
func (p *project) listObjects(kind, format string, filters ...string) ([]string, result) {
	p.t.Helper()
	args := []string{kind, "ls", "--filter", "label=com.docker.compose.project=" + p.Name}
	if kind == "container" {
		args = append(args, "--all")
	}
	for _, f := range filters {
		args = append(args, "--filter", f)
	}
	if format == "" {
		args = append(args, "--quiet")
	} else {
		args = append(args, "--format", format)
	}
	r := p.docker(args...)
	var lines []string
	for _, line := range strings.Split(r.Stdout, "\n") {
		if strings.TrimSpace(line) != "" {
			lines = append(lines, line)
		}
	}
	return lines, r
}

// objects is listObjects, failing the test when docker fails.
func (p *project) objects(kind, format string, filters ...string) []string {
	p.t.Helper()
	lines, r := p.listObjects(kind, format, filters...)
	assert.Equal(p.t, r.ExitCode, 0, r)
	return lines
}

// containerOf returns the ID of the container of a service.
func (p *project) containerOf(service string) string {
	p.t.Helper()
	ids := p.objects("container", "", "label=com.docker.compose.service="+service)
	assert.Assert(p.t, len(ids) == 1, "one container expected for %s, got %q", service, strings.Join(ids, "\n"))
	return ids[0]
}

// inspect returns a Go template applied to docker inspect of a container.
func (p *project) inspect(id, format string) string {
	p.t.Helper()
	r := p.docker("inspect", "-f", format, id)
	assert.Equal(p.t, r.ExitCode, 0, r)
	return strings.TrimSpace(r.Stdout)
}

// imagesOf returns "ID repository:tag" of every image, intermediate ones
// included, of the repository given or labelled with p's Compose project,
// sorted.
func (p *project) imagesOf(repository string) []string {
	p.t.Helper()
	list := func(filters ...string) []string {
		r := p.docker(append([]string{"image", "ls", "--all", "--no-trunc", "--format", "{{.ID}} {{.Repository}}:{{.Tag}}"}, filters...)...)
		assert.Equal(p.t, r.ExitCode, 0, r)
		return strings.Split(strings.TrimSpace(r.Stdout), "\n")
	}
	var images []string
	for _, line := range list() {
		if _, ref, _ := strings.Cut(line, " "); strings.HasPrefix(ref, repository+":") {
			images = append(images, line)
		}
	}
	for _, line := range list("--filter", "label=com.docker.compose.project="+p.Name) {
		if line != "" && !slices.Contains(images, line) {
			images = append(images, line)
		}
	}
	sort.Strings(images)
	return images
}

// engineState lists every container (ID, name, state), volume, network
// and image (ID and reference, intermediate ones included) of the engine,
// for a command that must change none of them.
func (p *project) engineState() map[string][]string {
	p.t.Helper()
	state := map[string][]string{}
	for kind, args := range map[string][]string{
		"containers": {"container", "ls", "--all", "--no-trunc", "--format", "{{.ID}} {{.Names}} {{.State}}"},
		"volumes":    {"volume", "ls", "--format", "{{.Name}}"},
		"networks":   {"network", "ls", "--no-trunc", "--format", "{{.ID}} {{.Name}}"},
		"images":     {"image", "ls", "--all", "--no-trunc", "--format", "{{.ID}} {{.Repository}}:{{.Tag}}"},
	} {
		r := p.docker(args...)
		assert.Equal(p.t, r.ExitCode, 0, r)
		lines := strings.Split(strings.TrimSpace(r.Stdout), "\n")
		sort.Strings(lines)
		state[kind] = lines
	}
	return state
}

// countContainers returns the number of containers of the project.
func (p *project) countContainers() int {
	p.t.Helper()
	return len(p.objects("container", ""))
}

// prepareEngine checks the engine, builds the test images (FROM scratch,
// nothing can be pulled) and creates the external network "proxy".
func prepareEngine() error {
	if out, err := exec.Command("docker", "info").CombinedOutput(); err != nil {
		return fmt.Errorf("the Docker engine is unreachable (run ./test.sh, which starts it): %v\n%s", err, out)
	}
	if out, err := exec.Command("../testdata/images/build.sh").CombinedOutput(); err != nil {
		return fmt.Errorf("building the test images: %v\n%s", err, out)
	}
	if exec.Command("docker", "network", "inspect", "proxy").Run() != nil {
		if out, err := exec.Command("docker", "network", "create", "proxy").CombinedOutput(); err != nil {
			return fmt.Errorf("creating the network proxy: %v\n%s", err, out)
		}
	}
	return nil
}

// lockName is the name of the container that is the lock of p's up/down
// on the engine (internal/safety: created, never started).
func (p *project) lockName() string {
	return "picatest-lock-" + p.Name
}

// lockLabels returns the labels of p's lock container (who holds it); ok is
// false when the lock is free.
func (p *project) lockLabels() (labels map[string]string, ok bool) {
	p.t.Helper()
	r := p.outside().docker("container", "inspect", "--format", "{{json .Config.Labels}}", p.lockName())
	if r.ExitCode != 0 {
		assert.Assert(p.t, strings.Contains(r.Stderr, "No such"), r)
		return nil, false
	}
	assert.NilError(p.t, json.Unmarshal([]byte(r.Stdout), &labels), r)
	return labels, true
}

// lockHeld is a poll check that succeeds once an up/down holds p's lock.
func (p *project) lockHeld(poll.LogT) poll.Result {
	if _, ok := p.lockLabels(); ok {
		return poll.Success()
	}
	return poll.Continue("waiting for an up/down of %s to hold its lock", p.Name)
}
