package plugin

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/docker/cli/cli/command"
	"github.com/docker/compose/v5/pkg/api"
	"github.com/spf13/cobra"
	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"

	"github.com/picasoft/docker-picatest/internal/composetest"
	"github.com/picasoft/docker-picatest/internal/exitcode"
	"github.com/picasoft/docker-picatest/internal/safety"
	"github.com/picasoft/docker-picatest/smoke"
	"github.com/picasoft/docker-picatest/testrun"
)

// hostile is what a container can print to take over a terminal: clear
// the screen and print a fake verdict, set the clipboard (OSC 52), hide a
// link (OSC 8), a one-byte CSI (U+009B), a carriage return over the line.
const hostile = "error \x1b[2J\x1b[HOK: project pad is up\x1b]52;c;cm0gLXJmIH4=\x07\x1b]8;;http://evil\x1b\\link\x1b]8;;\x1b\\\u009b2J\rOK"

// assertInert checks that out holds none of the escapes of hostile, and
// shows them as visible text.
func assertInert(t *testing.T, out string) {
	t.Helper()
	for _, c := range []string{"\x1b", "\x07", "\u009b", "\r"} {
		assert.Check(t, !strings.Contains(out, c), "%q printed raw in:\n%s", c, out)
	}
	assert.Check(t, is.Contains(out, `\x1b[2J\x1b[HOK: project pad is up\x1b]52;c;`), out)
}

func TestUpReportEscapesWhatContainersPrint(t *testing.T) {
	r := &testrun.Report{Project: "pad", Result: "failed", Services: []testrun.ServiceReport{{Service: "pad", Image: "pad:1\x1b[2J", State: "running"}},
		Failure: &testrun.FailureReport{Service: "pad", Reason: "unhealthy", State: "running", Health: "unhealthy",
			HealthLog: []string{hostile, "two\nlines"}, LogTail: []string{hostile}},
		CheckResult: testrun.CheckResult{
			Smoke: &testrun.SmokeSection{Proxy: "127.0.0.1:80", Checks: []testrun.SmokeCheck{{Result: "FAIL", Line: "FAIL  https://pad.test.picasoft.net/  " + hostile}}},
			Logs:  &testrun.LogSection{Matches: []smoke.LogMatch{{Service: "pad", Container: "pad-1", Lines: []string{hostile, "tab\tkept"}, Total: 2}}},
		}}
	out, err := renderReport(r, "text")
	assert.NilError(t, err)
	assertInert(t, out)
	assert.Check(t, is.Contains(out, "  two\\x0alines\n"), "a health check's output stays on its line")
	assert.Check(t, is.Contains(out, "WARNING: pad | tab\tkept\n"), "tabs of log lines are kept")
	assert.Check(t, is.Contains(out, "pad:1\\x1b[2J"))

	js, err := renderReport(r, "json")
	assert.NilError(t, err)
	for _, c := range []string{"\x1b", "\x07", "\u009b", "\r"} {
		assert.Check(t, !strings.Contains(js, c), "%q raw in the JSON", c)
	}
	assert.Check(t, is.Contains(js, `error \u001b[2J\u001b[HOK`))
	assert.Check(t, is.Contains(js, `\u009b2J\rOK`))
}

func TestStatusEscapesLabels(t *testing.T) {
	var b bytes.Buffer
	assert.NilError(t, printStatusTable(&b, []containerStatus{{Project: "pad", Service: "pad", State: "running",
		Owner: "alice\x1b]52;c;eA==\x07", Branch: "main\nOK: fake line", Commit: "abc\x1b[2J"}}, true))
	out := b.String()
	assert.Check(t, !strings.Contains(out, "\x1b"), out)
	assert.Check(t, is.Contains(out, `alice\x1b]52;c;eA==\x07`))
	assert.Check(t, is.Contains(out, `main\x0aOK: fake line`), "a label stays on its line")

	b.Reset()
	assert.NilError(t, printLocks(&b, []safety.Holder{{Project: "pad", User: "bob\x1b[2J", Host: "h\tx", PID: 1, Command: "docker picatest up\x1b]8;;x\x07", Since: time.Now()}}))
	out = b.String()
	assert.Check(t, !strings.Contains(out, "\x1b"), out)
	assert.Check(t, is.Contains(out, `bob\x1b[2J`))
	assert.Check(t, is.Contains(out, `h\x09x`))
}

func TestEscapeErrors(t *testing.T) {
	run := escapeErrors(func(*cobra.Command, []string) error {
		return exitcode.With(exitcode.Refused, errors.New("project pad is locked by \x1b[2Jmallory\nwait for it"))
	})
	err := run(nil, nil)
	assert.Check(t, is.Error(err, "project pad is locked by \\x1b[2Jmallory\nwait for it"), "lines kept, escapes shown")
	assert.Check(t, is.Equal(exitcode.Of(err), exitcode.Refused))
	plain := errors.New("plain\tmessage\nsecond line")
	assert.Check(t, escapeErrors(func(*cobra.Command, []string) error { return plain })(nil, nil) == plain, "a plain error is kept as it is")
	assert.Check(t, escapeErrors(nil) == nil)
}

func TestLogsEscapesWhatContainersPrint(t *testing.T) {
	b := &logsBackend{fakeBackend: fakeBackend{project: composetest.Load(t, "services:\n  web:\n    image: nginx:1.25\n", nil)},
		lines: []string{hostile + "\nsecond\tline", hostile, "exited with code 0"}}
	stdout, stderr, code := runWith(t, func(command.Cli, string) (Backend, error) { return b, nil }, "logs")
	assert.Equal(t, code, 0, stderr)
	// Compose clears the line before a status of its own.
	assertInert(t, strings.ReplaceAll(stdout, "\r\x1b[K", ""))
	assertInert(t, stderr)
	assert.Check(t, is.Contains(stdout, "second\tline\n"))
}

var _ api.LogConsumer = (*recordedLogs)(nil)
