// Package mask hides the values read from real secrets files in every
// output of docker picatest (reports, models, errors, container logs): they
// print as ********.
//
// Two rules, decided here:
//
//   - In free text (logs, errors, text reports, diffs, JUnit), every
//     occurrence of a secret value is masked, in every form the value can
//     take in an output: as read, rewritten by the test-URL rule (and the
//     instance's), JSON-escaped, Go-quoted and with `$` escaped as `$$`.
//     Overlapping or nested occurrences are masked as one span, so a secret
//     that contains another (or overlaps it) never shows in part. A value
//     too short or too common to mask safely in free text (see
//     FreeTextSafe) is not masked there: the Masker names it once in a
//     warning instead (Warnings).
//   - In a document (the model of config, a --format json report), only
//     string scalars are masked, so the output stays valid YAML or JSON of
//     the same types: a string holding a secret has it replaced inside;
//     the whole value of a field named after a key of a secrets file
//     (an environment variable it set) that equals that key's value, in
//     any form, is masked whatever its length. Numbers, booleans and the
//     other strings are never touched.
//
// A command builds one Masker once it knows the project's secrets files,
// and installs it in its Slot; the report writer, the error of the command
// and the container log lines all read the Slot, so the masking is
// installed in one place and applied everywhere.
package mask

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/compose-spec/compose-go/v2/dotenv"
	dockercli "github.com/docker/cli/cli"
	"github.com/docker/compose/v5/pkg/api"

	"github.com/picasoft/docker-picatest/internal/exitcode"
	"github.com/picasoft/docker-picatest/internal/treefile"
)

// Masked replaces every value read from a real secrets file in outputs.
const Masked = "********"

// MinFreeTextLen is the length under which a value is too short to be
// masked in free text: it would hide "80", "yes" or "db" everywhere.
const MinFreeTextLen = 4

// commonWords are values too common in the outputs of a Compose project
// (booleans, image and user names) to be masked in free text.
var commonWords = map[string]bool{
	"true": true, "false": true, "yes": true, "no": true, "on": true, "off": true,
	"null": true, "none": true, "nil": true,
	"root": true, "admin": true, "user": true, "guest": true, "test": true, "localhost": true,
	"postgres": true, "postgresql": true, "mysql": true, "mariadb": true, "redis": true,
	"mongo": true, "mongodb": true, "nginx": true, "traefik": true,
}

// FreeTextSafe reports whether v can be masked in free text without hiding
// what is not a secret: it is at least MinFreeTextLen long, not a number of
// at most 5 digits (a port, a year, a count) and not one of a few common
// words (true/false/yes/no/on/off/null/none, root/admin/user, image names
// such as postgres or redis; case ignored). The model masks such a value
// anyway where it is the whole value of its environment variable.
func FreeTextSafe(v string) bool {
	if len(v) < MinFreeTextLen {
		return false
	}
	if len(v) <= 5 && strings.Trim(v, "0123456789") == "" {
		return false
	}
	return !commonWords[strings.ToLower(v)]
}

// Rewriter rewrites hosts in a value, as the transforms do
// (transforms.Rewriter: the test-URL rule, the instance's).
type Rewriter interface {
	Rewrite(s string) (string, bool)
}

// entry is one value read from a secrets file: key is the dotenv key it
// was read under, empty for the raw forms (the text after '=', a line of a
// multi-line value, the whole file).
type entry struct {
	file, key, value string
}

// Masker hides the values read from real secrets files (SPEC §4: they
// print as ******** in every output of every command).
type Masker struct {
	files     []string
	entries   []entry
	rewriters []Rewriter
	// free are the forms masked in free text, longest first.
	free []string
	// whole are, per key of a secrets file, the forms of its values
	// masked as whole values in documents, whatever their length.
	whole    map[string]map[string]bool
	warnings []string
}

// New reads the values of files: each KEY=value of a dotenv file,
// each line of a multi-line value, the raw text after '=' of every line
// (so that a file the dotenv parser rejects, whose error quotes the line,
// is masked too) and the whole content of any file. A file of files that
// cannot be read is an error (the command needs it anyway); bestEffort are
// read when possible: real secrets files the command does not use itself,
// but that a deployment started with --real-secrets may print.
func New(files []string, bestEffort ...string) (*Masker, error) {
	m := &Masker{files: files}
	for _, f := range files {
		b, err := treefile.ReadFile(f, treefile.SmallFile)
		if exitcode.Of(err) == exitcode.Invalid {
			return nil, err // not a regular file, or too big: named
		}
		if err != nil {
			return nil, exitcode.Invalidf("cannot read secrets file %s: %v\nFix its permissions, or provide %s.example with test values.", f, err, f)
		}
		m.entries = append(m.entries, entries(f, b)...)
	}
	for _, f := range bestEffort {
		if b, err := treefile.ReadFile(f, treefile.SmallFile); err == nil {
			m.entries = append(m.entries, entries(f, b)...)
		}
	}
	m.build()
	return m, nil
}

// entries are the values of the secrets file f of content b.
func entries(f string, b []byte) []entry {
	var out []entry
	add := func(key, v string) { out = append(out, entry{file: f, key: key, value: v}) }
	add("", string(b))
	env, err := dotenv.UnmarshalBytesWithLookup(b, func(string) (string, bool) { return "", false })
	keys := make([]string, 0, len(env))
	for k := range env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := env[k]
		add(k, v)
		if strings.Contains(v, "\n") {
			for _, line := range strings.Split(v, "\n") {
				add("", line)
			}
		}
	}
	for _, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if _, v, ok := strings.Cut(line, "="); ok {
			add("", v)
		} else if err != nil {
			add("", line) // perhaps the rest of an unterminated value
		}
	}
	return out
}

// WithRewriters returns a copy of m that also masks every value as each of
// rewriters rewrites it: a secret that holds a production host reaches the
// model, the containers and the list of rewrites as a test host.
func (m *Masker) WithRewriters(rewriters ...Rewriter) *Masker {
	if m == nil {
		return nil
	}
	out := &Masker{files: m.files, entries: m.entries}
	for _, r := range rewriters {
		if r != nil {
			out.rewriters = append(out.rewriters, r)
		}
	}
	out.build()
	return out
}

// build computes the forms to mask from the entries and rewriters.
func (m *Masker) build() {
	m.free, m.whole, m.warnings = nil, map[string]map[string]bool{}, nil
	seen := map[string]bool{}
	warned := map[string]bool{}
	for _, e := range m.entries {
		v := strings.TrimSpace(e.value)
		if v == "" {
			continue
		}
		unquoted := strings.Trim(v, `"'`)
		forms := []string{v}
		if e.key == "" && unquoted != v && unquoted != "" {
			forms = append(forms, unquoted)
		}
		for _, r := range m.rewriters {
			for _, f := range forms[:len(forms):len(forms)] {
				if w, ok := r.Rewrite(f); ok {
					forms = append(forms, w)
				}
			}
		}
		if e.key != "" {
			if m.whole[e.key] == nil {
				m.whole[e.key] = map[string]bool{}
			}
			m.whole[e.key][e.value] = true
			for _, f := range forms {
				m.whole[e.key][f] = true
			}
		}
		if !FreeTextSafe(v) || !FreeTextSafe(unquoted) {
			if id := e.file + "\x00" + e.key; e.key != "" && !warned[id] {
				warned[id] = true
				why := "too common"
				if len(unquoted) < MinFreeTextLen {
					why = "too short"
				}
				m.warnings = append(m.warnings, fmt.Sprintf("the value of %s in %s is %s to mask in free text (logs, errors, text reports): it is masked in the model only; use a longer value if the service may print it", e.key, e.file, why))
			}
			continue
		}
		for _, f := range forms {
			for _, s := range escapes(f) {
				if !seen[s] && len(s) >= MinFreeTextLen {
					seen[s] = true
					m.free = append(m.free, s)
				}
			}
		}
	}
	// Longest first: the order of the spans does not matter (they are
	// merged), but the first match found for a position is the longest.
	sort.SliceStable(m.free, func(i, j int) bool { return len(m.free[i]) > len(m.free[j]) })
}

// escapes are the forms v takes in outputs: as is, JSON-escaped (with and
// without HTML escaping), Go-quoted (%q of an error) and with `$` written
// `$$` (the model, as Compose prints it).
func escapes(v string) []string {
	out := []string{v}
	if b, err := json.Marshal(v); err == nil {
		out = append(out, string(b[1:len(b)-1]))
	}
	var sb strings.Builder
	enc := json.NewEncoder(&sb)
	enc.SetEscapeHTML(false)
	if enc.Encode(v) == nil {
		s := strings.TrimSuffix(sb.String(), "\n")
		out = append(out, s[1:len(s)-1])
	}
	q := strconv.Quote(v)
	out = append(out, q[1:len(q)-1])
	if strings.Contains(v, "$") {
		out = append(out, strings.ReplaceAll(v, "$", "$$"))
	}
	return out
}

// Masks reports whether m masks anything (nil masks nothing).
func (m *Masker) Masks() bool { return m != nil && (len(m.free) > 0 || len(m.whole) > 0) }

// Warnings name the values of the secrets files that are too short or too
// common to be masked in free text (see FreeTextSafe), once each.
func (m *Masker) Warnings() []string {
	if m == nil {
		return nil
	}
	return m.warnings
}

// String returns s with every occurrence of a secret value masked (free
// text): overlapping occurrences are masked as one.
func (m *Masker) String(s string) string {
	if m == nil || len(m.free) == 0 {
		return s
	}
	type span struct{ start, end int }
	var spans []span
	for _, v := range m.free {
		for i := 0; i <= len(s)-len(v); {
			j := strings.Index(s[i:], v)
			if j < 0 {
				break
			}
			spans = append(spans, span{i + j, i + j + len(v)})
			i += j + 1
		}
	}
	if len(spans) == 0 {
		return s
	}
	sort.Slice(spans, func(i, j int) bool { return spans[i].start < spans[j].start })
	var b strings.Builder
	last := 0
	for i := 0; i < len(spans); {
		start, end := spans[i].start, spans[i].end
		for i++; i < len(spans) && spans[i].start < end; i++ {
			end = max(end, spans[i].end)
		}
		b.WriteString(s[last:start])
		b.WriteString(Masked)
		last = end
	}
	b.WriteString(s[last:])
	return b.String()
}

// Value returns the string scalar s of a document, found under the mapping
// key key (empty in a list): Masked when key is a key of a secrets file and
// s one of the forms of its value, else s masked as free text.
func (m *Masker) Value(key, s string) string {
	if m == nil {
		return s
	}
	if key != "" && m.whole[key][s] {
		return Masked
	}
	return m.String(s)
}

// IsSecretsFile reports whether path is a real secrets file in use.
func (m *Masker) IsSecretsFile(path string) bool {
	if m == nil {
		return false
	}
	for _, f := range m.files {
		if f == path {
			return true
		}
	}
	return false
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

// Write writes the free text v to w, masked with the installed Masker.
func (s *Slot) Write(w io.Writer, v string) error {
	_, err := io.WriteString(w, s.String(v))
	return err
}

// WriteJSON writes the JSON document doc to w, its string scalars masked
// with the installed Masker (see Masker.JSON); masked as free text should
// doc not be JSON after all.
func (s *Slot) WriteJSON(w io.Writer, doc string) error {
	out, err := s.Get().JSON([]byte(doc))
	if err != nil {
		return s.Write(w, doc)
	}
	_, err = w.Write(out)
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
