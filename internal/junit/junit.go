// Package junit is the JUnit XML report of docker picatest (up --junit,
// smoke --junit): the format GitLab shows in merge requests
// (artifacts:reports:junit) and Jenkins reads, in the shape of the widely
// used Jenkins/Ant JUnit schema (junittest/testdata/junit.xsd).
//
// One test suite per service folder; one test case per container wait,
// smoke URL and log scan. A failed case carries its failure text and the
// last log lines of its service. The caller masks secrets (Report.Map)
// before writing.
package junit

import (
	"encoding/xml"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/picasoft/docker-picatest/internal/termsafe"
)

// Report is a JUnit document: <testsuites>.
type Report struct {
	XMLName  xml.Name `xml:"testsuites"`
	Name     string   `xml:"name,attr,omitempty"`
	Tests    int      `xml:"tests,attr"`
	Failures int      `xml:"failures,attr"`
	Errors   int      `xml:"errors,attr"`
	Time     Seconds  `xml:"time,attr"`
	Suites   []Suite  `xml:"testsuite"`
}

// Suite is one service folder: <testsuite>.
type Suite struct {
	Name       string      `xml:"name,attr"`
	Tests      int         `xml:"tests,attr"`
	Failures   int         `xml:"failures,attr"`
	Errors     int         `xml:"errors,attr"`
	Skipped    int         `xml:"skipped,attr"`
	Time       Seconds     `xml:"time,attr"`
	Timestamp  string      `xml:"timestamp,attr,omitempty"`
	Hostname   string      `xml:"hostname,attr,omitempty"`
	Properties *Properties `xml:"properties"`
	Cases      []Case      `xml:"testcase"`
	SystemOut  Output      `xml:"system-out,omitempty"`
}

// Properties are the <properties> of a suite.
type Properties struct {
	List []Property `xml:"property"`
}

// Property is a name and value of a suite (the project, the folder...).
type Property struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

// Case is one check: <testcase>. At most one of Failure, Error and
// Skipped is set.
type Case struct {
	Name      string   `xml:"name,attr"`
	Classname string   `xml:"classname,attr"`
	Time      Seconds  `xml:"time,attr"`
	Skipped   *Message `xml:"skipped,omitempty"`
	Error     *Message `xml:"error,omitempty"`
	Failure   *Message `xml:"failure,omitempty"`
	SystemOut Output   `xml:"system-out,omitempty"`
}

// Message is a failure, an error or a skip: a one-line message, a type and
// the full text (what failed, the last log lines).
type Message struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr,omitempty"`
	Text    string `xml:",cdata"`
}

// Output is the text of a <system-out>, written as CDATA so that log
// lines stay readable in the file.
type Output string

// MarshalXML writes o as CDATA.
func (o Output) MarshalXML(e *xml.Encoder, start xml.StartElement) error {
	return e.EncodeElement(struct {
		Text string `xml:",cdata"`
	}{string(o)}, start)
}

// Seconds is a duration written as seconds with milliseconds ("1.250").
type Seconds time.Duration

// MarshalXMLAttr writes the duration in seconds.
func (s Seconds) MarshalXMLAttr(name xml.Name) (xml.Attr, error) {
	return xml.Attr{Name: name, Value: fmt.Sprintf("%.3f", time.Duration(s).Seconds())}, nil
}

// UnmarshalXMLAttr reads seconds ("1.250"), for a reader of reports.
func (s *Seconds) UnmarshalXMLAttr(attr xml.Attr) error {
	f, err := strconv.ParseFloat(attr.Value, 64)
	if err != nil {
		return fmt.Errorf("time=%q: %w", attr.Value, err)
	}
	*s = Seconds(time.Duration(f * float64(time.Second)))
	return nil
}

// Failed is a failed case.
func Failed(name, class, message, text string) Case {
	return Case{Name: name, Classname: class, Failure: &Message{Message: message, Type: "failure", Text: text}}
}

// Errored is a case that could not run to a verdict (the test stopped
// before it: invalid input, a refusal, a failed build).
func Errored(name, class, message, text string) Case {
	return Case{Name: name, Classname: class, Error: &Message{Message: message, Type: "error", Text: text}}
}

// SkippedCase is a case that was not run, and why.
func SkippedCase(name, class, why string) Case {
	return Case{Name: name, Classname: class, Skipped: &Message{Message: why}}
}

// Map returns a copy of r with f applied to every text it holds (names,
// messages, outputs, properties): the masking of secrets.
func (r Report) Map(f func(string) string) Report {
	out := r
	out.Name = f(r.Name)
	out.Suites = make([]Suite, len(r.Suites))
	for i, s := range r.Suites {
		out.Suites[i] = s.Map(f)
	}
	return out
}

// Map returns a copy of s with f applied to every text it holds.
func (s Suite) Map(f func(string) string) Suite {
	out := s
	out.Name, out.SystemOut, out.Hostname = f(s.Name), Output(f(string(s.SystemOut))), f(s.Hostname)
	if s.Properties != nil {
		out.Properties = &Properties{}
		for _, p := range s.Properties.List {
			out.Properties.List = append(out.Properties.List, Property{Name: f(p.Name), Value: f(p.Value)})
		}
	}
	out.Cases = make([]Case, len(s.Cases))
	for i, c := range s.Cases {
		c.Name, c.Classname, c.SystemOut = f(c.Name), f(c.Classname), Output(f(string(c.SystemOut)))
		c.Skipped, c.Error, c.Failure = c.Skipped.mapped(f), c.Error.mapped(f), c.Failure.mapped(f)
		out.Cases[i] = c
	}
	return out
}

func (m *Message) mapped(f func(string) string) *Message {
	if m == nil {
		return nil
	}
	return &Message{Message: f(m.Message), Type: m.Type, Text: f(m.Text)}
}

// count fills the counts of the suites and of the report from their cases.
func (r *Report) count() {
	r.Tests, r.Failures, r.Errors, r.Time = 0, 0, 0, 0
	for i := range r.Suites {
		s := &r.Suites[i]
		s.Tests, s.Failures, s.Errors, s.Skipped = len(s.Cases), 0, 0, 0
		for _, c := range s.Cases {
			switch {
			case c.Failure != nil:
				s.Failures++
			case c.Error != nil:
				s.Errors++
			case c.Skipped != nil:
				s.Skipped++
			}
		}
		r.Tests += s.Tests
		r.Failures += s.Failures
		r.Errors += s.Errors
		r.Time += s.Time
	}
}

// Write writes r as an indented XML document, with the counts computed
// from the cases.
func Write(w io.Writer, r Report) error {
	r.count()
	r.Suites = append([]Suite(nil), r.Suites...)
	for i := range r.Suites {
		r.Suites[i].Cases = cleanCases(r.Suites[i].Cases)
		r.Suites[i].SystemOut = Output(clean(string(r.Suites[i].SystemOut)))
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(r); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

// WriteFile writes r to path (Write), through a temporary file renamed
// into place: a reader never sees half a report.
func WriteFile(path string, r Report) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("writing the JUnit report: %w\nCheck that the folder of --junit %s exists and is writable", err, path)
	}
	defer os.Remove(tmp.Name())
	if err := Write(tmp, r); err != nil {
		tmp.Close()
		return fmt.Errorf("writing the JUnit report %s: %w", path, err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("writing the JUnit report %s: %w", path, err)
	}
	return os.Rename(tmp.Name(), path)
}

func cleanCases(cases []Case) []Case {
	out := make([]Case, len(cases))
	for i, c := range cases {
		c.Name, c.Classname, c.SystemOut = clean(c.Name), clean(c.Classname), Output(clean(string(c.SystemOut)))
		for _, m := range []**Message{&c.Skipped, &c.Error, &c.Failure} {
			if *m != nil {
				*m = &Message{Message: clean((*m).Message), Type: (*m).Type, Text: clean((*m).Text)}
			}
		}
		out[i] = c
	}
	return out
}

// clean escapes the characters XML 1.0 cannot hold (control characters of
// container logs, ANSI escapes' ESC, U+FFFE, U+FFFF), which encoding/xml
// would write in CDATA as they are (an invalid document) or as U+FFFD
// elsewhere, and those a terminal would interpret when the file is shown:
// they read as visible escapes (termsafe.Text, \x1b), the tabs and lines
// kept. A carriage return ending a line of a CRLF text is dropped.
func clean(s string) string {
	return termsafe.Text(strings.ReplaceAll(s, "\r\n", "\n"))
}
