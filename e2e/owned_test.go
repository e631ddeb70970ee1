package e2e

import (
	"strings"
	"testing"

	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"
)

// TestInstanceCollisions checks SPEC §5 and §9 end to end: an instance
// whose names collide, with the project's own names or with what exists
// on the engine, is refused (exit 2) by up, up --dry-run and down, and
// what it would have taken (the shared volume and its data, another
// folder's deployment) is left as it was. An instance that collides with
// nothing deploys, twice, and down removes what it created, all labelled
// with the instance.
func TestInstanceCollisions(t *testing.T) {
	p := newProject(t)
	data, shared := p.Name, p.Name+"-db"
	for _, v := range []string{data, shared} {
		assert.Equal(t, p.docker("volume", "create", v).ExitCode, 0)
	}
	p.putInVolume(shared, "mark.txt", "the default deployment's data")
	before := p.snapshot()

	t.Run("the project's own names", func(t *testing.T) {
		db := p.instance("db")
		for _, args := range [][]string{
			{"up", "--instance", "db", "--yes", "--stable", "0s", "--no-smoke"},
			{"up", "--instance", "db", "--dry-run"},
			{"down", "--instance", "db"},
		} {
			r := p.picatest(args...)
			assert.Equal(t, r.ExitCode, 2, r)
			assert.Check(t, is.Contains(r.Stderr, "volume "+shared+" (the instance's name for volume "+data+") is the name of the project's own external volume "+shared), r)
			assert.Check(t, is.Contains(r.Stderr, "Traefik http router e2e-collisions-db (the instance's name for router e2e-collisions) is the name of the project's own router e2e-collisions-db"), r)
			assert.Check(t, is.Contains(r.Stderr, "choose another --instance name"), r)
		}
		assert.Equal(t, db.countContainers(), 0)
		assert.Check(t, is.Equal(p.catInVolume(shared, "mark.txt"), "the default deployment's data"))
	})

	t.Run("what exists on the engine", func(t *testing.T) {
		// Another folder whose project is named as instance x of this one
		// would be, with a volume of that name.
		other := newProjectAs(t, p.Name+"-x", "TestInstanceCollisions/other")
		r := other.picatest("up", "--yes", "--stable", "0s", "--no-smoke")
		assert.Equal(t, r.ExitCode, 0, r)
		web := other.containerOf("web")
		other.putInVolume(other.Name, "mark.txt", "the other folder's data")
		for _, args := range [][]string{
			{"up", "--instance", "x", "--yes", "--stable", "0s", "--no-smoke"},
			{"up", "--instance", "x", "--dry-run"},
			{"down", "--instance", "x"},
		} {
			r := p.picatest(args...)
			assert.Equal(t, r.ExitCode, 2, r)
			assert.Check(t, is.Contains(r.Stderr, "instance x: its names are taken on the engine by what is not this instance's:"), r)
			assert.Check(t, is.Contains(r.Stderr, "project "+other.Name+": container "), r)
			assert.Check(t, is.Contains(r.Stderr, "working dir "+other.Dir), r)
			assert.Check(t, is.Contains(r.Stderr, "volume "+other.Name+" exists, created by Compose for project "+other.Name), r)
			assert.Check(t, is.Contains(r.Stderr, "choose another --instance name"), r)
		}
		assert.Equal(t, other.containerOf("web"), web, "the other folder's deployment is untouched")
		assert.Equal(t, other.inspect(web, "{{.State.Status}}"), "running")
		assert.Check(t, is.Equal(other.catInVolume(other.Name, "mark.txt"), "the other folder's data"))
	})

	t.Run("no collision", func(t *testing.T) {
		ok := p.instance("ok")
		for range 2 { // the second up finds what the first created: the instance's own
			r := p.picatest("up", "--instance", "ok", "--yes", "--stable", "0s", "--no-smoke", "--progress", "plain")
			assert.Equal(t, r.ExitCode, 0, r)
		}
		label := `{{index .Labels "net.picasoft.picatest.instance"}}`
		for _, v := range []string{data + "-ok", shared + "-ok"} {
			r := p.docker("volume", "inspect", "-f", label, v)
			assert.Equal(t, r.ExitCode, 0, r)
			assert.Check(t, is.Equal(strings.TrimSpace(r.Stdout), "ok"), v)
		}
		r := p.docker("network", "inspect", "-f", label, ok.Name+"_default")
		assert.Equal(t, r.ExitCode, 0, r)
		assert.Check(t, is.Equal(strings.TrimSpace(r.Stdout), "ok"))
		r = p.picatest("down", "--instance", "ok", "--progress", "plain")
		assert.Equal(t, r.ExitCode, 0, r)
		assert.Equal(t, ok.countContainers(), 0)
		assert.Check(t, p.docker("volume", "inspect", data+"-ok").ExitCode != 0, "the instance's volume is removed")
		assert.Check(t, p.docker("network", "inspect", ok.Name+"_default").ExitCode != 0, "the instance's network is removed")
		assert.Check(t, is.Equal(p.catInVolume(shared, "mark.txt"), "the default deployment's data"))
	})

	p.assertTreeUnchanged(before)
}

// TestUpOwnership checks SPEC §5 end to end: the reset and down remove
// only what the test deployment owns. The project names a volume that
// another Compose project created and a network created by 'docker
// network create': the reset asks first (refused without a terminal and
// without --yes, exit 3), --yes re-creates the volume empty as an
// external one and keeps the network; down keeps both.
func TestUpOwnership(t *testing.T) {
	// The network has no Compose label: removed after the test, once the
	// project's containers are gone (cleanups run last registered first).
	var p *project
	network := projectName(t) + "-net"
	removeNetwork := func() { p.outside().docker("network", "rm", network) }
	t.Cleanup(func() {
		if p != nil {
			removeNetwork()
		}
	})
	p = newProject(t)
	volume := p.Name + "-shared"
	// The other project creates the volume and leaves it (down without -v).
	other := newProjectAs(t, p.Name+"-other", "TestUpOwnership/other")
	for _, args := range [][]string{{"compose", "up", "--no-start"}, {"compose", "down"}} {
		r := other.docker(args...)
		assert.Equal(t, r.ExitCode, 0, r)
	}
	assert.Equal(t, p.docker("volume", "inspect", "-f", `{{index .Labels "com.docker.compose.project"}}`, volume).Stdout, other.Name+"\n")
	removeNetwork()
	assert.Equal(t, p.docker("network", "create", network).ExitCode, 0)
	p.putInVolume(volume, "mark.txt", "the other project's data")
	before := p.snapshot()
	whose := "volume " + volume + " (created by Compose for project " + other.Name + "), network " + network + " (not created by Docker Compose)"

	r := p.picatest("up", "--dry-run")
	assert.Equal(t, r.ExitCode, 0, r)
	assert.Check(t, is.Contains(r.Stdout, "not created by this deployment, treated as external (volumes re-created empty, networks kept): "+whose), r)
	assert.Check(t, is.Contains(r.Stdout, "asks first (-y/--yes answers; refused without a terminal)"), r)

	r = p.picatest("up", "--stable", "0s", "--no-smoke")
	assert.Equal(t, r.ExitCode, 3, r)
	assert.Check(t, is.Contains(r.Stderr, "Project "+p.Name+" names "+whose+", which it did not create"), r)
	assert.Check(t, is.Contains(r.Stderr, "pass -y/--yes"), r)
	assert.Equal(t, p.countContainers(), 0)
	assert.Check(t, is.Equal(p.catInVolume(volume, "mark.txt"), "the other project's data"), "refused: the volume and its data remain")

	r = p.picatest("up", "--yes", "--stable", "0s", "--no-smoke", "--progress", "plain")
	assert.Equal(t, r.ExitCode, 0, r)
	assert.Check(t, is.Contains(r.Stderr, "treated as external (volumes re-created empty, networks kept): "+whose), r)
	assert.Check(t, is.Equal(p.catInVolume(volume, "mark.txt"), ""), "with --yes the reset re-creates the volume empty")
	assert.Equal(t, p.docker("volume", "inspect", "-f", `{{index .Labels "com.docker.compose.project"}}`, volume).Stdout, other.Name+"\n", "re-created as it was: still the other project's")

	// down keeps what the deployment did not create, with its data.
	p.putInVolume(volume, "mark.txt", "written during the test")
	r = p.picatest("down", "--progress", "plain")
	assert.Equal(t, r.ExitCode, 0, r)
	assert.Check(t, is.Contains(r.Stderr, "down keeps "+whose), r)
	assert.Equal(t, p.countContainers(), 0)
	assert.Check(t, is.Equal(p.catInVolume(volume, "mark.txt"), "written during the test"))
	assert.Equal(t, p.docker("network", "inspect", network).ExitCode, 0, "the network is kept")

	p.assertTreeUnchanged(before)
}

// catInVolume returns the content of the file name in volume, "" when the
// file does not exist; the volume must exist.
func (p *project) catInVolume(volume, name string) string {
	p.t.Helper()
	assert.Equal(p.t, p.docker("volume", "inspect", volume).ExitCode, 0, "volume %s exists", volume)
	r := p.docker("run", "--rm", "-v", volume+":/data", "picatest-test/app:1", "cat", "/data/"+name)
	if r.ExitCode != 0 {
		return ""
	}
	return r.Stdout
}
