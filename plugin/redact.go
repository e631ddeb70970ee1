package plugin

import (
	"encoding/json"
	"os"
	"sort"
	"strings"

	"github.com/compose-spec/compose-go/v2/dotenv"
	"github.com/compose-spec/compose-go/v2/types"
)

// Masked replaces every value read from a real secrets file in outputs.
const Masked = "********"

// minSecretLen is the length under which a value is too common ("true",
// "80") to be masked everywhere it appears.
const minSecretLen = 4

// redactor hides the values read from real secrets files (SPEC §4: they
// print as ******** in every output of every command).
type redactor struct {
	files    []string
	replacer *strings.Replacer
}

// newRedactor reads the values of files: each KEY=value of a dotenv file,
// and the whole content of any file.
func newRedactor(files []string) (*redactor, error) {
	r := &redactor{files: files}
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
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, invalidf("cannot read secrets file %s: %v\nFix its permissions, or provide %s.example with test values.", f, err, f)
		}
		add(string(b))
		if env, err := dotenv.UnmarshalBytesWithLookup(b, func(string) (string, bool) { return "", false }); err == nil {
			for _, v := range env {
				add(v)
			}
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

// String returns s with every secret value masked.
func (r *redactor) String(s string) string {
	if r == nil || r.replacer == nil {
		return s
	}
	return r.replacer.Replace(s)
}

// IsSecretsFile reports whether path is a real secrets file in use.
func (r *redactor) IsSecretsFile(path string) bool {
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
func (r *redactor) Project(p *types.Project) (*types.Project, error) {
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
