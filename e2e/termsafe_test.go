package e2e

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"
	"gotest.tools/v3/poll"
)

// hostileLine is the line the container of TestUpHostileOutput prints.
const hostileLine = "error: \x1b[2J\x1b[HOK: project is up \x1b]52;c;aGk=\x07 \x1b]8;;http://evil.invalid/\x1b\\link\x1b]8;;\x1b\\ \u009b2J\rdone"

// hostileShown is how the text outputs show it: escaped, visible.
const hostileShown = `error: \x1b[2J\x1b[HOK: project is up \x1b]52;c;aGk=\x07 \x1b]8;;http://evil.invalid/\x1b\link\x1b]8;;\x1b\ \u{009b}2J\x0ddone`

// assertNoRawEscapes checks that out holds none of the control characters
// of hostileLine.
func assertNoRawEscapes(t *testing.T, out string, r any) {
	t.Helper()
	for _, c := range []string{"\x1b]52", "\x1b]8", "\x1b[2J", "\x07", "\u009b", "\rdone"} {
		assert.Check(t, !strings.Contains(out, c), "%q printed raw:\n%v", c, r)
	}
}

// TestUpHostileOutput: what a container prints reaches the terminal
// escaped (up's report, its log scan and last log lines, logs, up
// --follow), JSON carries it as JSON escapes, and the JUnit report stays
// valid XML.
func TestUpHostileOutput(t *testing.T) {
	p := newProject(t)

	t.Run("up: the log scan", func(t *testing.T) {
		r := p.picatest("up", "--yes", "--stable", "0s", "--wait-timeout", "60s", "--progress", "plain")
		assert.Equal(t, r.ExitCode, 0, r)
		assertNoRawEscapes(t, r.Stdout+r.Stderr, r)
		assert.Check(t, is.Contains(r.Stdout, "WARNING: loud | "+hostileShown), r)
	})
	t.Run("up --format json: the line as it is, JSON-escaped", func(t *testing.T) {
		r := p.picatest("up", "--yes", "--stable", "0s", "--wait-timeout", "60s", "--progress", "quiet", "--format", "json")
		assert.Equal(t, r.ExitCode, 0, r)
		assertNoRawEscapes(t, r.Stdout, r)
		var report struct {
			Logs struct {
				Matches []struct{ Lines []string }
			}
		}
		assert.NilError(t, json.Unmarshal([]byte(r.Stdout), &report), r)
		assert.Assert(t, is.Len(report.Logs.Matches, 1), r)
		assert.Check(t, is.DeepEqual(report.Logs.Matches[0].Lines, []string{hostileLine}))
	})
	t.Run("logs", func(t *testing.T) {
		r := p.picatest("logs")
		assert.Equal(t, r.ExitCode, 0, r)
		assertNoRawEscapes(t, r.Stdout+r.Stderr, r)
		assert.Check(t, is.Contains(r.Stdout, hostileShown), r)
	})
	t.Run("a failed up: the last health checks and log lines, the JUnit report", func(t *testing.T) {
		junit := filepath.Join(t.TempDir(), "report.xml")
		r := p.picatest("-f", "compose.yaml", "-f", "unhealthy.yaml", "up", "--yes", "--wait-timeout", "60s", "--progress", "plain", "--junit", junit)
		assert.Equal(t, r.ExitCode, 1, r)
		assertNoRawEscapes(t, r.Stdout+r.Stderr, r)
		assert.Check(t, is.Contains(r.Stdout, "Last health checks:\n  app: open /missing\\x1b[2J\\x1b]52;c;aGk=\\x07: no such file or directory"), r)
		assert.Check(t, is.Contains(r.Stdout, "Last log lines:\n  "+hostileShown), r)
		b, err := os.ReadFile(junit)
		assert.NilError(t, err)
		assertNoRawEscapes(t, string(b), string(b))
		var doc struct{}
		assert.NilError(t, xml.Unmarshal(b, &doc), "the JUnit report is valid XML:\n%s", b)
		assert.Check(t, is.Contains(string(b), hostileShown))
	})
	t.Run("up --follow", func(t *testing.T) {
		f := p.start(nil, "picatest", "up", "--yes", "--stable", "0s", "--wait-timeout", "60s", "--progress", "plain", "--follow")
		poll.WaitOn(t, func(poll.LogT) poll.Result {
			if strings.Contains(f.Output(), "loud-1  | "+hostileShown) {
				return poll.Success()
			}
			return poll.Continue("waiting for the followed logs")
		}, poll.WithTimeout(2*time.Minute), poll.WithDelay(200*time.Millisecond))
		assert.NilError(t, f.Process.Signal(syscall.SIGINT))
		_ = f.Wait()
		assertNoRawEscapes(t, f.Output(), f.Output())
	})
}

// TestUpFollowReleasesTheLock: up --follow frees the project's lock once
// its report is printed: a down of the project runs at once while the
// logs are followed, instead of waiting for Ctrl-C.
func TestUpFollowReleasesTheLock(t *testing.T) {
	p := newProject(t)
	f := p.start(nil, "picatest", "up", "--yes", "--stable", "0s", "--wait-timeout", "60s", "--progress", "plain", "--follow")
	poll.WaitOn(t, func(poll.LogT) poll.Result {
		if strings.Contains(f.Output(), "OK: project "+p.Name+" is up") {
			return poll.Success()
		}
		if f.ProcessState != nil {
			return poll.Error(fmt.Errorf("up --follow ended: %s", f.Output()))
		}
		return poll.Continue("waiting for the report")
	}, poll.WithTimeout(2*time.Minute), poll.WithDelay(200*time.Millisecond))
	r := p.dockerEnv([]string{"PICATEST_LOCK_WAIT=2s"}, "picatest", "down")
	assert.Check(t, is.Equal(r.ExitCode, 0), "down while up --follow follows the logs:\n%s\n--- up --follow:\n%s", r, f.Output())
	_ = f.Process.Signal(syscall.SIGINT)
	_ = f.Wait()
}
