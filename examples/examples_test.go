package examples

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/docker/cli/cli/command"
	"go.yaml.in/yaml/v4"
	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"

	"github.com/picasoft/docker-picatest/plugin"
)

// TestGitLabCI checks examples/gitlab-ci.yml (it cannot run here: there is
// no GitLab runner): valid YAML, a job on merge requests running up
// --changed --yes --junit FILE with flags up accepts, whose JUnit file is
// the job's report, and a command line that README.md names.
func TestGitLabCI(t *testing.T) {
	data, err := os.ReadFile("gitlab-ci.yml")
	assert.NilError(t, err)
	readme, err := os.ReadFile(filepath.Join("..", "README.md"))
	assert.NilError(t, err)

	var ci map[string]struct {
		Stage         string
		Tags          []string
		Rules         []struct{ If string }
		ResourceGroup string `yaml:"resource_group"`
		Variables     map[string]string
		Script        []string
		Artifacts     struct {
			When    string
			Reports struct{ JUnit string }
			Paths   []string
		}
	}
	assert.NilError(t, yaml.Load(data, &ci), "gitlab-ci.yml")
	assert.Assert(t, is.Len(ci, 1), "one job")
	job := ci["picatest"]
	assert.Check(t, len(job.Tags) > 0, "the job runs on the runner of the test machine (tags)")
	assert.Assert(t, is.Len(job.Rules, 1))
	assert.Check(t, is.Contains(job.Rules[0].If, `$CI_PIPELINE_SOURCE == "merge_request_event"`))
	assert.Check(t, is.Equal(job.Variables["GIT_DEPTH"], "0"), "--since needs the history")
	assert.Assert(t, is.Len(job.Script, 1))
	line := job.Script[0]
	assert.Check(t, strings.Contains(string(readme), line), "README.md does not name the command %q", line)

	args := strings.Fields(line)
	assert.Assert(t, len(args) > 3 && args[0] == "docker" && args[1] == "picatest" && args[2] == "up", line)
	cli, err := command.NewDockerCli()
	assert.NilError(t, err)
	up, _, err := plugin.RootCommand(cli, nil).Find([]string{"up"})
	assert.NilError(t, err)
	assert.NilError(t, up.ParseFlags(args[3:]), line)
	f := up.Flags()
	for _, name := range []string{"changed", "yes"} {
		v, err := f.GetBool(name)
		assert.NilError(t, err)
		assert.Check(t, v, "--%s", name)
	}
	report, err := f.GetString("junit")
	assert.NilError(t, err)
	assert.Check(t, is.Equal(job.Artifacts.Reports.JUnit, report), "the JUnit file is the job's report")
	assert.Check(t, is.Equal(job.Artifacts.When, "always"), "a failed test keeps its report")
	since, err := f.GetString("since")
	assert.NilError(t, err)
	assert.Check(t, is.Equal(since, `"$CI_MERGE_REQUEST_DIFF_BASE_SHA"`))
}
