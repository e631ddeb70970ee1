package e2e

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"
	"gotest.tools/v3/poll"
)

// TestInstances deploys one project three times on one engine, behind the
// real Traefik: the default deployment and one instance per branch
// (--instance branch), from two branches whose names hold a slash,
// accents, capitals, and 80 characters. Each answers at its own host with
// its own config file and its own data; down of one leaves the others.
func TestInstances(t *testing.T) {
	p := newProject(t)
	requireTraefik(t)
	p.Env = append(p.Env, "PICATEST_PROXY="+traefikHTTP)
	const (
		branch1 = "feature/Été_2026!!"
		inst1   = "feature-ete-2026"
		// 80 characters: the instance is cut to 30 with a stable hash.
		branch2 = "Feature/Refonte-complète_de-la-page-d-accueil/et-du-formulaire-de-contact-2026-b"
		inst2   = "feature-refonte-compl-dfaef698"
	)
	assert.Equal(t, len([]rune(branch2)), 80)
	one, two := p.instance(inst1), p.instance(inst2)
	shared := p.Name + "_data"
	host := "e2e-instances.test.picasoft.net"
	host1, host2 := "e2e-instances-"+inst1+".test.picasoft.net", "e2e-instances-"+inst2+".test.picasoft.net"

	// The default deployment, with data in the shared external volume.
	assert.Equal(t, p.docker("volume", "create", shared).ExitCode, 0)
	r := p.picatest("up", "--yes", "--stable", "1s", "--progress", "plain")
	assert.Equal(t, r.ExitCode, 0, r)
	p.putInVolume(shared, "mark.txt", "default data")
	defaultID := p.containerOf("web")
	defaultStarted := p.inspect(defaultID, "{{.State.StartedAt}}")

	// Instance 1, from branch 1.
	p.git("checkout", "-q", "-b", branch1)
	r = p.picatest("config", "--instance", "branch", "--format", "json")
	assert.Equal(t, r.ExitCode, 0, r)
	assert.Check(t, is.Contains(r.Stdout, `"name": "`+p.Name+"-"+inst1+`"`))
	// No external volume to reset: no confirmation needed, no terminal.
	r = p.picatest("up", "--instance", "branch", "--stable", "1s", "--progress", "plain")
	assert.Equal(t, r.ExitCode, 0, r)
	assert.Check(t, is.Contains(r.Stdout, "OK    http://"+host1+"/  200 OK"), r)
	assert.Check(t, is.Contains(r.Stdout, "OK: project "+one.Name), r)

	// Instance 2, from branch 2, whose config file differs.
	p.git("checkout", "-q", "-b", branch2)
	settings := filepath.Join(p.Dir, "conf", "settings.json")
	b, err := os.ReadFile(settings)
	assert.NilError(t, err)
	assert.NilError(t, os.WriteFile(settings, []byte(strings.Replace(string(b), `"default"`, `"branch two"`, 1)), 0o644))
	p.commit("-am", "branch two")
	r = p.picatest("up", "--instance", "branch", "--stable", "1s", "--progress", "plain")
	assert.Equal(t, r.ExitCode, 0, r)
	assert.Check(t, is.Contains(r.Stdout, "OK    http://"+host2+"/  200 OK"), r)

	// All three answer through Traefik at their own host, through their own
	// router and middleware (the same names in the Compose file), with
	// their own base URL, config file and data.
	def, got1, got2 := instanceGet(t, host), instanceGet(t, host1), instanceGet(t, host2)
	for _, c := range []struct {
		got         instanceAnswer
		host, color string
		mark        *string
	}{
		{def, host, "default", ptr("default data")},
		{got1, host1, "default", nil},
		{got2, host2, "branch two", nil},
	} {
		assert.Check(t, is.Equal(c.got.Header.Get("X-Picatest-Middleware"), "on"), c.host)
		assert.Check(t, is.Equal(c.got.Env["BASE_URL"], "https://"+c.host+"/"))
		assert.Check(t, is.Contains(deref(c.got.Files["/etc/web/settings.json"]), `"url": "https://`+c.host+`/"`))
		assert.Check(t, is.Contains(deref(c.got.Files["/etc/web/settings.json"]), `"color": "`+c.color+`"`))
		assert.Check(t, is.DeepEqual(c.got.Files["/data/mark.txt"], c.mark), c.host)
	}
	// A file written into one instance's volume is absent from the other's.
	vol1 := shared + "-" + inst1
	p.putInVolume(vol1, "mark.txt", "instance one data")
	assert.Check(t, is.DeepEqual(instanceGet(t, host1).Files["/data/mark.txt"], ptr("instance one data")))
	assert.Check(t, is.DeepEqual(instanceGet(t, host2).Files["/data/mark.txt"], (*string)(nil)))
	assert.Check(t, is.DeepEqual(instanceGet(t, host).Files["/data/mark.txt"], ptr("default data")))
	assert.Check(t, is.Equal(one.inspect(one.containerOf("web"), "{{.Name}}"), "/"+p.Name+"-web-"+inst1), "container_name suffixed")
	assert.Check(t, is.Equal(one.inspect(one.containerOf("web"), `{{index .Config.Labels "net.picasoft.picatest.instance"}}`), inst1))
	assert.Check(t, is.Equal(one.inspect(one.containerOf("web"), `{{index .Config.Labels "net.picasoft.picatest.branch"}}`), branch1))

	// smoke and logs of an instance.
	r = p.picatest("smoke", "--instance", "branch")
	assert.Equal(t, r.ExitCode, 0, r)
	assert.Check(t, is.Contains(r.Stdout, "OK    http://"+host2+"/  200 OK"), r)
	assert.Check(t, is.Contains(r.Stdout, "OK: project "+two.Name), r)
	r = p.picatest("logs", "--instance", inst1, "--tail", "5")
	assert.Equal(t, r.ExitCode, 0, r)
	assert.Check(t, is.Contains(r.Stdout, "app: listening on :8080"), r)

	// status of an instance, and --all: every deployment with its instance.
	r = p.picatest("status", "--instance", inst1)
	assert.Equal(t, r.ExitCode, 0, r)
	assert.Check(t, is.Contains(r.Stdout, "http://"+host1+"/"), r)
	r = p.picatest("status", "--all", "--format", "json")
	assert.Equal(t, r.ExitCode, 0, r)
	var all struct {
		Projects []struct {
			Project    string
			Containers []struct{ Instance, Branch, Owner, Age string }
		}
	}
	assert.NilError(t, json.Unmarshal([]byte(r.Stdout), &all), r.Stdout)
	seen := map[string]string{}
	for _, pr := range all.Projects {
		for _, c := range pr.Containers {
			seen[pr.Project] = c.Instance + " " + c.Branch + " " + c.Owner
			assert.Check(t, c.Age != "", pr.Project)
		}
	}
	assert.Check(t, is.Equal(seen[p.Name], " main e2e-user"))
	assert.Check(t, is.Equal(seen[one.Name], inst1+" "+branch1+" e2e-user"))
	assert.Check(t, is.Equal(seen[two.Name], inst2+" "+branch2+" e2e-user"))
	r = p.picatest("status", "--all")
	assert.Check(t, sharedLineWith(r.Stdout, one.Name, inst1, "web", "running"), r)

	// The reset re-creates the instance's volume empty; the shared one is
	// never touched.
	p.git("checkout", "-q", branch1)
	r = p.picatest("up", "--instance", "branch", "--stable", "0s", "--no-smoke", "--progress", "quiet")
	assert.Equal(t, r.ExitCode, 0, r)
	assert.Check(t, is.DeepEqual(instanceGet(t, host1).Files["/data/mark.txt"], (*string)(nil)))

	// down of instance 2 leaves instance 1 and the default deployment.
	p.git("checkout", "-q", branch2)
	r = p.picatest("down", "--instance", "branch", "--progress", "plain")
	assert.Equal(t, r.ExitCode, 0, r)
	assert.Equal(t, two.countContainers(), 0)
	assert.Check(t, p.docker("volume", "inspect", shared+"-"+inst2).ExitCode != 0, "the instance's volume is removed")
	assert.Equal(t, p.docker("volume", "inspect", vol1).ExitCode, 0)
	instanceGet(t, host1)
	assert.Check(t, is.DeepEqual(instanceGet(t, host).Files["/data/mark.txt"], ptr("default data")))
	assert.Equal(t, p.containerOf("web"), defaultID)
	assert.Equal(t, p.inspect(defaultID, "{{.State.StartedAt}}"), defaultStarted, "the default deployment is untouched")

	// down of instance 1 by name, from any branch.
	r = p.picatest("down", "--instance", inst1, "--progress", "plain")
	assert.Equal(t, r.ExitCode, 0, r)
	assert.Equal(t, one.countContainers(), 0)
	assert.Check(t, p.docker("volume", "inspect", vol1).ExitCode != 0)
	assert.Equal(t, p.countContainers(), 1)
	assert.Check(t, is.DeepEqual(instanceGet(t, host).Files["/data/mark.txt"], ptr("default data")))
}

// instance is the Compose project of p's instance inst, cleaned up before
// and after the test as p is.
func (p *project) instance(inst string) *project {
	p.t.Helper()
	i := &project{t: p.t, Dir: p.Dir, Name: p.Name + "-" + inst, Env: p.Env}
	i.cleanupProject()
	p.t.Cleanup(i.cleanupProject)
	return i
}

// instanceAnswer is what the test app answers on / through Traefik.
type instanceAnswer struct {
	Header http.Header
	Env    map[string]string
	Files  map[string]*string
}

// instanceGet requests / of host through Traefik's web entrypoint until it
// answers 200 (Traefik picks a change up a moment after the engine).
func instanceGet(t *testing.T, host string) instanceAnswer {
	t.Helper()
	var a instanceAnswer
	poll.WaitOn(t, func(poll.LogT) poll.Result {
		req, err := http.NewRequest(http.MethodGet, "http://"+traefikHTTP+"/", nil)
		if err != nil {
			return poll.Error(err)
		}
		req.Host = host
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return poll.Continue("GET %s through Traefik: %v", host, err)
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			return poll.Continue("GET %s through Traefik: %v", host, err)
		}
		if resp.StatusCode != http.StatusOK {
			return poll.Continue("GET %s through Traefik: %d %s", host, resp.StatusCode, body)
		}
		a = instanceAnswer{Header: resp.Header}
		if err := json.Unmarshal(body, &a); err != nil {
			return poll.Error(err)
		}
		return poll.Success()
	}, poll.WithTimeout(30*time.Second), poll.WithDelay(200*time.Millisecond))
	return a
}

func ptr(s string) *string { return &s }

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
