package plugin

import (
	"fmt"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/picasoft/docker-picatest/internal/junit"
	"github.com/picasoft/docker-picatest/internal/mask"
	"github.com/picasoft/docker-picatest/smoke"
	"github.com/picasoft/docker-picatest/testrun"
)

// This file builds the JUnit report (--junit FILE of up and smoke) from
// the same results as the text and JSON reports: one suite per service
// folder, one case per container wait, smoke URL and log scan.

// upSuite is the suite of one run of up named name: the cases of its
// report, or, when the run stopped before a report, one errored case
// saying why (err). m masks the secrets of the run.
func upSuite(name string, rep *testrun.Report, err error, noSmoke bool, m *mask.Masker) junit.Suite {
	s := junit.Suite{Name: name, Timestamp: time.Now().UTC().Format(time.RFC3339)}
	if host, herr := os.Hostname(); herr == nil {
		s.Hostname = host
	}
	if rep == nil {
		msg := "not run"
		if err != nil {
			msg = err.Error()
		}
		s.Cases = []junit.Case{junit.Errored("up", name, firstLine(msg), msg)}
		return s.Map(m.String)
	}
	s.Time = junit.Seconds(rep.Elapsed)
	s.Properties = &junit.Properties{List: []junit.Property{{Name: "project", Value: rep.Project}, {Name: "result", Value: rep.Result}}}
	f := rep.Failure
	seen := false
	for _, svc := range rep.Services {
		c := junit.Case{Name: "wait " + svc.Service, Classname: name, Time: junit.Seconds(svc.Ready), SystemOut: junit.Output(stateLine(svc))}
		switch {
		case rep.WaitFailed && f.Service == svc.Service:
			c, seen = waitFailure(name, f), true
			c.Time = junit.Seconds(rep.Elapsed)
		case rep.WaitFailed && !svc.Done:
			c.Skipped = &junit.Message{Message: "not ready when the wait stopped on service " + f.Service + ": " + stateLine(svc)}
		}
		s.Cases = append(s.Cases, c)
	}
	if rep.WaitFailed && !seen {
		s.Cases = append(s.Cases, waitFailure(name, f))
	}
	switch {
	case rep.Smoke != nil || rep.Logs != nil:
		s.Cases = append(s.Cases, checkCases(name, rep.CheckResult, reportServices(rep))...)
	case rep.WaitFailed:
		s.Cases = append(s.Cases, junit.SkippedCase("smoke checks and log scan", name, "not run: service "+f.Service+" failed the wait"))
	case noSmoke:
		s.Cases = append(s.Cases, junit.SkippedCase("smoke checks and log scan", name, "skipped (--no-smoke)"))
	}
	return s.Map(m.String)
}

// waitFailure is the failed case of the service whose wait failed, with
// its last health checks and log lines.
func waitFailure(class string, f *testrun.FailureReport) junit.Case {
	var b strings.Builder
	fmt.Fprintf(&b, "service %s: %s (state %s, health %s)\n", f.Service, f.Reason, f.State, orDash(f.Health))
	writeLines(&b, "Last health checks:", f.HealthLog)
	writeLines(&b, "Last log lines:", f.LogTail)
	return junit.Failed("wait "+f.Service, class, f.Reason, b.String())
}

// checkCases are the cases of the smoke checks (one per URL) and of the
// log scan (one per service).
func checkCases(class string, res testrun.CheckResult, services []string) []junit.Case {
	var out []junit.Case
	logLines, logTotal := map[string][]string{}, map[string]int{}
	if res.Logs != nil {
		for _, m := range res.Logs.Matches {
			logTotal[m.Service] += m.Total
			for _, l := range m.Lines {
				logLines[m.Service] = append(logLines[m.Service], m.Container+" | "+l)
			}
			if m.Total > len(m.Lines) {
				logLines[m.Service] = append(logLines[m.Service], fmt.Sprintf("%s | ... %d more (docker picatest logs %s)", m.Container, m.Total-len(m.Lines), m.Service))
			}
		}
	}
	if sm := res.Smoke; sm != nil {
		if len(sm.Checks) == 0 {
			out = append(out, junit.SkippedCase("smoke", class, "no Traefik router with a host under the test domain"))
		}
		for _, c := range sm.Checks {
			name := "smoke " + c.URL
			if c.URL == "" {
				name = "smoke " + c.Service + " router " + c.Router
			}
			jc := junit.Case{Name: name, Classname: class, Time: junit.Seconds(time.Duration(c.LatencyMS * float64(time.Millisecond)))}
			switch c.Result {
			case string(smoke.OK):
				jc.SystemOut = junit.Output(c.Line)
			case string(smoke.Skipped):
				jc.Skipped = &junit.Message{Message: c.Line}
			default:
				var b strings.Builder
				b.WriteString(c.Line + "\n")
				if c.Detail != "" {
					b.WriteString(c.Detail + "\n")
				}
				writeLines(&b, "Error lines in the logs of service "+c.Service+":", logLines[c.Service])
				jc.Failure = &junit.Message{Message: fmt.Sprintf("%s: %s", c.URL, c.Result), Type: "failure", Text: b.String()}
			}
			out = append(out, jc)
		}
	}
	if l := res.Logs; l != nil {
		for _, svc := range services {
			jc := junit.Case{Name: "logs " + svc, Classname: class}
			lines := logLines[svc]
			switch {
			case len(lines) > 0 && l.Strict:
				var b strings.Builder
				writeLines(&b, "Error lines (--strict; ignore patterns: x-picatest log-ignore):", lines)
				jc.Failure = &junit.Message{Message: plural(logTotal[svc], "error line") + " in the logs (--strict)", Type: "failure", Text: b.String()}
			case len(lines) > 0:
				var b strings.Builder
				writeLines(&b, "WARNING: error lines (--strict makes them fail):", lines)
				jc.SystemOut = junit.Output(b.String())
			}
			out = append(out, jc)
		}
	}
	return out
}

// smokeSuite is the suite of a run of smoke.
func smokeSuite(name string, res testrun.CheckResult, health map[string]string, m *mask.Masker) junit.Suite {
	services := make([]string, 0, len(health))
	for svc := range health {
		services = append(services, svc)
	}
	sort.Strings(services)
	s := junit.Suite{Name: name, Timestamp: time.Now().UTC().Format(time.RFC3339), Cases: checkCases(name, res, services)}
	return s.Map(m.String)
}

// writeJUnit writes the report of suites to path (--junit).
func writeJUnit(path, name string, suites ...junit.Suite) error {
	return junit.WriteFile(path, junit.Report{Name: name, Suites: suites})
}

func writeLines(b *strings.Builder, title string, lines []string) {
	if len(lines) == 0 {
		return
	}
	b.WriteString(title + "\n")
	for _, l := range lines {
		b.WriteString("  " + l + "\n")
	}
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// stateLine is the state of a service as the report says it.
func stateLine(s testrun.ServiceReport) string {
	return fmt.Sprintf("state %s, health %s, %s", s.State, orDash(s.Health), plural(s.Restarts, "restart"))
}

// reportServices are the services of the report, sorted.
func reportServices(r *testrun.Report) []string {
	var out []string
	for _, s := range r.Services {
		out = append(out, s.Service)
	}
	return out
}
