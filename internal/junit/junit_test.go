package junit

import (
	"bytes"
	"encoding/xml"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"
	"gotest.tools/v3/golden"

	"github.com/picasoft/docker-picatest/internal/junit/junittest"
)

// sample is a report of two folders: one healthy, one whose wait failed
// (with its last log lines), a smoke check and a log scan of each kind.
func sample() Report {
	ok := Case{Name: "wait pad", Classname: "pica-pad", Time: Seconds(1200 * time.Millisecond), SystemOut: "running, healthy, 0 restarts"}
	smokeOK := Case{Name: "smoke https://pad.test.picasoft.net/", Classname: "pica-pad", Time: Seconds(35 * time.Millisecond)}
	logs := Case{Name: "logs pad", Classname: "pica-pad", SystemOut: "WARNING: error: slow query\n"}
	failed := Failed("wait mail", "pica-mail", "unhealthy", "service mail: unhealthy (state running, health unhealthy)\nLast log lines:\n  starting <mail> & \"co\"\n  error: ]]> database unreachable\x1b[0m\n")
	failed.Time = Seconds(3 * time.Second)
	return Report{Name: "docker picatest up --changed", Suites: []Suite{
		{
			Name: "pica-mail", Time: Seconds(3 * time.Second), Timestamp: "2026-12-02T04:00:00Z",
			Properties: &Properties{List: []Property{{Name: "project", Value: "pica-mail"}, {Name: "folder", Value: "pica-mail"}}},
			Cases: []Case{
				failed,
				SkippedCase("smoke checks and log scan", "pica-mail", "not run: service mail failed the wait"),
			},
		},
		{
			Name: "pica-pad", Time: Seconds(1500 * time.Millisecond),
			Cases: []Case{ok, smokeOK, logs},
		},
		{
			Name:  "pica-wiki",
			Cases: []Case{Errored("up", "pica-wiki", "refused: owned by alice", "project pica-wiki is owned by alice: use --takeover")},
		},
	}}
}

func TestWriteGolden(t *testing.T) {
	var b bytes.Buffer
	assert.NilError(t, Write(&b, sample()))
	golden.Assert(t, b.String(), "report.golden.xml")
}

func TestWriteCounts(t *testing.T) {
	var b bytes.Buffer
	assert.NilError(t, Write(&b, sample()))
	out := b.String()
	assert.Check(t, is.Contains(out, `<testsuites name="docker picatest up --changed" tests="6" failures="1" errors="1" time="4.500">`))
	assert.Check(t, is.Contains(out, `<testsuite name="pica-mail" tests="2" failures="1" errors="0" skipped="1" time="3.000"`))
	assert.Check(t, !strings.Contains(out, "\x1b"), "control characters escaped")
	assert.Check(t, is.Contains(out, `database unreachable\x1b[0m`), "shown as a visible escape")
}

// TestWriteValidates checks the written report against the JUnit schema
// with xmllint (Debian's libxml2-utils), as GitLab and Jenkins read it.
func TestWriteValidates(t *testing.T) {
	path := filepath.Join(t.TempDir(), "report.xml")
	assert.NilError(t, WriteFile(path, sample()))
	junittest.AssertValid(t, path)
	// An empty report (nothing changed) is valid too.
	assert.NilError(t, WriteFile(path, Report{Name: "docker picatest up --changed"}))
	junittest.AssertValid(t, path)
}

// A written report reads back as it was (counts, times, texts).
func TestWriteReadBack(t *testing.T) {
	var b bytes.Buffer
	assert.NilError(t, Write(&b, sample()))
	var got Report
	assert.NilError(t, xml.Unmarshal(b.Bytes(), &got))
	assert.Equal(t, got.Tests, 6)
	assert.Equal(t, got.Time, Seconds(4500*time.Millisecond))
	assert.Equal(t, got.Suites[0].Cases[0].Failure.Message, "unhealthy")
	assert.Check(t, is.Contains(got.Suites[0].Cases[0].Failure.Text, "error: ]]> database unreachable\\x1b[0m\n"))
	assert.Equal(t, got.Suites[1].Cases[0].SystemOut, Output("running, healthy, 0 restarts"))
}

func TestWriteFileErrors(t *testing.T) {
	err := WriteFile(filepath.Join(t.TempDir(), "missing", "report.xml"), sample())
	assert.ErrorContains(t, err, "Check that the folder of --junit")
}

func TestMap(t *testing.T) {
	r := sample()
	masked := r.Map(func(s string) string { return strings.ReplaceAll(s, "database", "********") })
	var b bytes.Buffer
	assert.NilError(t, Write(&b, masked))
	assert.Check(t, !strings.Contains(b.String(), "database"))
	assert.Check(t, is.Contains(b.String(), "error: ]]> ******** unreachable"[len("error: ]]> "):]))
	// The original is untouched.
	assert.Check(t, is.Contains(r.Suites[0].Cases[0].Failure.Text, "database"))
}
