// Package mask hides the values read from real secrets files in every
// output of docker picatest (reports, models, errors, container logs): they
// print as ********.
//
// A command builds one Masker once it knows the project's secrets files,
// and installs it in its Slot; the report writer, the error of the command
// and the container log lines all read the Slot, so the masking is
// installed in one place and applied everywhere.
package mask

import (
	"encoding/json"
	"io"
	"sort"
	"strings"
	"sync/atomic"

	"github.com/compose-spec/compose-go/v2/dotenv"
	"github.com/compose-spec/compose-go/v2/types"
	dockercli "github.com/docker/cli/cli"
	"github.com/docker/compose/v5/pkg/api"

	"github.com/picasoft/docker-picatest/internal/exitcode"
	"github.com/picasoft/docker-picatest/internal/treefile"
)

// Masked replaces every value read from a real secrets file in outputs.
const Masked = "********"

// minSecretLen is the length under which a value is too common ("true",
// "80") to be masked everywhere it appears.
const minSecretLen = 4

// Masker hides the values read from real secrets files (SPEC §4: they
// print as ******** in every output of every command).
type Masker struct {
	files    []string
	replacer *strings.Replacer
}

// New reads the values of files: each KEY=value of a dotenv file,
// each line of a multi-line value, the raw text after '=' of every line
// (so that a file the dotenv parser rejects, whose error quotes the line,
// is masked too) and the whole content of any file. A file of files that
// cannot be read is an error (the command needs it anyway); bestEffort are
// read when possible: real secrets files the command does not use itself,
// but that a deployment started with --real-secrets may print.
func New(files []string, bestEffort ...string) (*Masker, error) {
	r := &Masker{files: files}
	seen := map[string]bool{}
	var values []string
	add := func(v string) {
		v = strings.TrimSpace(v)
		if len(v) < minSecretLen || seen[v] {
			return
		}
		seen[v] = true
		values = append(values, v)
		if b, err := json.Marshal(v); err == nil {
			if q := string(b[1 : len(b)-1]); q != v && !seen[q] {
				seen[q] = true
				values = append(values, q)
			}
		}
	}
	addFile := func(b []byte) {
		add(string(b))
		env, err := dotenv.UnmarshalBytesWithLookup(b, func(string) (string, bool) { return "", false })
		for _, v := range env {
			add(v)
			if strings.Contains(v, "\n") {
				for _, line := range strings.Split(v, "\n") {
					add(line)
				}
			}
		}
		for _, line := range strings.Split(string(b), "\n") {
			line = strings.TrimSpace(line)
			if line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			if _, v, ok := strings.Cut(line, "="); ok {
				add(v)
				add(strings.Trim(strings.TrimSpace(v), `"'`))
			} else if err != nil {
				add(line) // perhaps the rest of an unterminated value
			}
		}
	}
	for _, f := range files {
		b, err := treefile.ReadFile(f, treefile.SmallFile)
		if exitcode.Of(err) == exitcode.Invalid {
			return nil, err // not a regular file, or too big: named
		}
		if err != nil {
			return nil, exitcode.Invalidf("cannot read secrets file %s: %v\nFix its permissions, or provide %s.example with test values.", f, err, f)
		}
		addFile(b)
	}
	for _, f := range bestEffort {
		if b, err := treefile.ReadFile(f, treefile.SmallFile); err == nil {
			addFile(b)
		}
	}
	if len(values) == 0 {
		return r, nil
	}
	// Longest first, so that a secret containing another is masked whole.
	sort.Slice(values, func(i, j int) bool { return len(values[i]) > len(values[j]) })
	pairs := make([]string, 0, 2*len(values))
	for _, v := range values {
		pairs = append(pairs, v, Masked)
	}
	r.replacer = strings.NewReplacer(pairs...)
	return r, nil
}

// Masks reports whether m masks anything (nil masks nothing).
func (r *Masker) Masks() bool { return r != nil && r.replacer != nil }

// String returns s with every secret value masked.
func (r *Masker) String(s string) string {
	if r == nil || r.replacer == nil {
		return s
	}
	return r.replacer.Replace(s)
}

// IsSecretsFile reports whether path is a real secrets file in use.
func (r *Masker) IsSecretsFile(path string) bool {
	if r == nil {
		return false
	}
	for _, f := range r.files {
		if f == path {
			return true
		}
	}
	return false
}

// Project returns a copy of p for printing, where every environment value,
// label, build arg and command word holding a secret value is masked, so
// that the printed model stays valid YAML and JSON.
func (r *Masker) Project(p *types.Project) (*types.Project, error) {
	if r == nil || r.replacer == nil {
		return p, nil
	}
	mask := func(s string) string {
		if r.replacer.Replace(s) != s {
			return Masked
		}
		return s
	}
	return p.WithServicesTransform(func(_ string, s types.ServiceConfig) (types.ServiceConfig, error) {
		for k, v := range s.Environment {
			if v != nil {
				m := mask(*v)
				s.Environment[k] = &m
			}
		}
		for k, v := range s.Labels {
			s.Labels[k] = mask(v)
		}
		for i, v := range s.Command {
			s.Command[i] = mask(v)
		}
		for i, v := range s.Entrypoint {
			s.Entrypoint[i] = mask(v)
		}
		if s.Build != nil {
			for k, v := range s.Build.Args {
				if v != nil {
					m := mask(*v)
					s.Build.Args[k] = &m
				}
			}
		}
		return s, nil
	})
}

// redactedLogs is a LogConsumer that masks secret values in every line of
// container output before passing it on: containers started with real
// secrets may print them, and `logs` or `up --follow` would show them.
type redactedLogs struct {
	api.LogConsumer
	slot *Slot
}

func (l redactedLogs) Log(container, message string) {
	l.LogConsumer.Log(container, l.slot.Get().String(message))
}

func (l redactedLogs) Err(container, message string) {
	l.LogConsumer.Err(container, l.slot.Get().String(message))
}

func (l redactedLogs) Status(container, message string) {
	l.LogConsumer.Status(container, l.slot.Get().String(message))
}

// Slot holds the Masker of a command, installed once the command knows
// its project's secrets files. The zero Slot masks nothing; so does a Slot
// before Set.
type Slot struct {
	m atomic.Pointer[Masker]
}

// Set installs m.
func (s *Slot) Set(m *Masker) { s.m.Store(m) }

// Get returns the installed Masker, nil (which masks nothing) before Set.
func (s *Slot) Get() *Masker { return s.m.Load() }

// String returns v masked with the installed Masker.
func (s *Slot) String(v string) string { return s.Get().String(v) }

// Write writes v to w, masked with the installed Masker.
func (s *Slot) Write(w io.Writer, v string) error {
	_, err := io.WriteString(w, s.String(v))
	return err
}

// Logs returns consumer whose lines are masked with the Masker installed
// when each line arrives: containers started with real secrets may print
// them.
func (s *Slot) Logs(consumer api.LogConsumer) api.LogConsumer {
	return redactedLogs{LogConsumer: consumer, slot: s}
}

// Error returns err with its message masked, keeping its exit code: an
// error may quote a secrets file (the dotenv parser quotes the line it
// rejects).
func (s *Slot) Error(err error) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	masked := s.String(msg)
	if masked == msg {
		return err
	}
	return dockercli.StatusError{StatusCode: exitcode.Of(err), Status: masked}
}
