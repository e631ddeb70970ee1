package e2e

import (
	"fmt"
	"os/exec"
	"strings"

	"gotest.tools/v3/assert"
)

// cleanupEngine removes what a scenario may have left on the engine, before
// and after the test: the Compose project, its external volumes, the
// images it built.
func (p *project) cleanupEngine(volumes []string, images ...string) {
	p.t.Helper()
	clean := func() {
		p.docker("compose", "-p", p.Name, "down", "-v", "--remove-orphans", "-t", "1")
		for _, v := range volumes {
			p.docker("volume", "rm", "-f", v)
		}
		for _, img := range images {
			p.docker("image", "rm", "-f", img)
		}
	}
	clean()
	p.t.Cleanup(clean)
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
