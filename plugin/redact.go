package plugin

import (
	"context"
	"encoding/json"
	"os"
	"sort"
	"strings"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/dotenv"
	"github.com/compose-spec/compose-go/v2/types"
	dockercli "github.com/docker/cli/cli"
	"github.com/docker/cli/cli/command"
	"github.com/docker/compose/v5/pkg/api"
	"github.com/spf13/cobra"

	"github.com/picasoft/docker-picatest/internal/exitcode"
	"github.com/picasoft/docker-picatest/transforms/examplesecrets"
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
// each line of a multi-line value, the raw text after '=' of every line
// (so that a file the dotenv parser rejects, whose error quotes the line,
// is masked too) and the whole content of any file. A file of files that
// cannot be read is an error (the command needs it anyway); bestEffort are
// read when possible: real secrets files the command does not use itself,
// but that a deployment started with --real-secrets may print.
func newRedactor(files []string, bestEffort ...string) (*redactor, error) {
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
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, exitcode.Invalidf("cannot read secrets file %s: %v\nFix its permissions, or provide %s.example with test values.", f, err, f)
		}
		addFile(b)
	}
	for _, f := range bestEffort {
		if b, err := os.ReadFile(f); err == nil {
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

// redactedLogs is a LogConsumer that masks secret values in every line of
// container output before passing it on: containers started with real
// secrets may print them, and `logs` or `up --follow` would show them.
type redactedLogs struct {
	api.LogConsumer
	r *redactor
}

func (l redactedLogs) Log(container, message string) {
	l.LogConsumer.Log(container, l.r.String(message))
}

func (l redactedLogs) Err(container, message string) {
	l.LogConsumer.Err(container, l.r.String(message))
}

func (l redactedLogs) Status(container, message string) {
	l.LogConsumer.Status(container, l.r.String(message))
}

// redactingBackend masks the log lines of Logs with the redactor of the
// command (rootOptions.redact), whichever command streams them.
type redactingBackend struct {
	Backend
	root *rootOptions
}

func (b redactingBackend) Logs(ctx context.Context, project string, consumer api.LogConsumer, options api.LogOptions) error {
	if r := b.root.redact; r != nil && r.replacer != nil {
		consumer = redactedLogs{consumer, r}
	}
	return b.Backend.Logs(ctx, project, consumer, options)
}

// withRedaction returns newBackend whose backends mask secret values in the
// log lines they stream (see redactingBackend).
func (o *rootOptions) withRedaction(newBackend BackendFunc) BackendFunc {
	return func(dockerCli command.Cli, progress string) (Backend, error) {
		b, err := newBackend(dockerCli, progress)
		if err != nil {
			return nil, err
		}
		return redactingBackend{Backend: b, root: o}, nil
	}
}

// redactErrors wraps the RunE of a command so that its error message is
// masked with the redactor of the command: an error may quote a secrets
// file (the dotenv parser quotes the line it rejects). The exit code is
// kept.
func (o *rootOptions) redactErrors(run func(*cobra.Command, []string) error) func(*cobra.Command, []string) error {
	if run == nil {
		return nil
	}
	return func(cmd *cobra.Command, args []string) error {
		err := run(cmd, args)
		if err == nil || o.redact == nil {
			return err
		}
		msg := err.Error()
		masked := o.redact.String(msg)
		if masked == msg {
			return err
		}
		return dockercli.StatusError{StatusCode: exitcode.Of(err), Status: masked}
	}
}

// deployedRedactor masks the values of every real secrets file of the
// project (example or not, --real-secrets or not): for the commands that
// show what an existing deployment prints, without knowing whether it was
// started with --real-secrets. Without a Compose file here (-p alone, away
// from the service folder), the Compose files are those the deployment's
// containers were created from (Compose's config_files and working_dir
// labels); when they cannot be read either, nothing is known to mask.
func (o *rootOptions) deployedRedactor(ctx context.Context, backend Backend, project string) *redactor {
	opts := o.projectLoadOptions(nil, cli.WithoutEnvironmentResolution)
	p, err := backend.LoadProject(ctx, opts)
	if err != nil {
		containers, psErr := backend.Ps(ctx, project, api.PsOptions{All: true})
		if psErr != nil || len(containers) == 0 || containers[0].Labels[api.ConfigFilesLabel] == "" {
			return nil
		}
		labels := containers[0].Labels
		opts.ConfigPaths = strings.Split(labels[api.ConfigFilesLabel], ",")
		opts.WorkingDir = labels[api.WorkingDirLabel]
		if p, err = backend.LoadProject(ctx, opts); err != nil {
			return nil
		}
	}
	r, err := newRedactor(nil, examplesecrets.RealSecretsFiles(p, examplesecrets.Options{RealSecrets: true})...)
	if err != nil {
		return nil
	}
	return r
}
