package plugin

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/docker/cli/cli/command"
	"github.com/pmezard/go-difflib/difflib"
	"github.com/spf13/cobra"
	"go.yaml.in/yaml/v4"

	"github.com/picasoft/docker-picatest/internal/exitcode"
	"github.com/picasoft/docker-picatest/internal/mask"
	"github.com/picasoft/docker-picatest/transforms"
	"github.com/picasoft/docker-picatest/transforms/testlabels"
)

type configOptions struct {
	format   string
	diff     bool
	services bool
}

func newConfigCommand(dockerCli command.Cli, newBackend BackendFunc, root *rootOptions) *cobra.Command {
	opts := configOptions{}
	cmd := &cobra.Command{
		Use:   "config [OPTIONS] [SERVICE...]",
		Short: "Print the transformed Compose model, as 'docker compose config' does",
		Long: `Loads the Compose project as Compose does, applies the transforms of the
test machine in memory (test URLs, example secrets, rewritten config files,
test labels) and prints the result, with real secret values masked. Nothing
is written and no engine is needed. --diff prints a unified diff of the
model and of every rewritten file, then the rewrites and example secrets
used; --services prints the service names.

Exit codes: 0 printed, 1 failed, 2 invalid input (flags, Compose file,
missing example secret, broken transform assertion), 130 interrupted.
Never 3: config changes nothing, so no safety rule applies.`,
		Example: `  docker picatest config
  docker picatest config --diff
  docker picatest -f compose.yml config --format json`,
		RunE: adapt(func(ctx context.Context, args []string) error {
			if err := opts.validate(); err != nil {
				return err
			}
			return runConfig(ctx, dockerCli, newBackend, root, opts, args)
		}),
	}
	f := cmd.Flags()
	f.StringVar(&opts.format, "format", "yaml", "Format the output. Values: [yaml | json]")
	f.BoolVar(&opts.diff, "diff", false, "Print a unified diff of the model and of every rewritten file, then the rewrites and example secrets used")
	f.BoolVar(&opts.services, "services", false, "Print the service names, one per line")
	return cmd
}

// validate checks the flag combinations.
func (o configOptions) validate() error {
	if err := checkFormat(o.format, "yaml", "json"); err != nil {
		return err
	}
	if o.diff && o.format != "yaml" {
		return exitcode.Invalidf("--diff prints a text diff and cannot be combined with --format %s: drop one of the two flags", o.format)
	}
	if o.diff && o.services {
		return exitcode.Invalidf("--diff and --services cannot be combined: drop one of the two flags")
	}
	return nil
}

func runConfig(ctx context.Context, dockerCli command.Cli, newBackend BackendFunc, root *rootOptions, opts configOptions, services []string) error {
	lo := loadOptions{Services: services, Labels: true, Files: opts.diff}
	backend, err := newBackend(dockerCli, root.Progress)
	if err != nil {
		return err
	}
	tp, err := root.loadTestProject(ctx, backend, lo)
	if err != nil {
		return err
	}
	if opts.services {
		for _, name := range tp.Project.ServiceNames() {
			fmt.Fprintln(dockerCli.Out(), name)
		}
		return nil
	}
	printModelWarnings(dockerCli.Err(), tp.Masker)
	if opts.diff {
		diff, err := renderDiff(tp)
		if err != nil {
			return err
		}
		return root.masks.Write(dockerCli.Out(), diff)
	}
	if opts.format == "yaml" && !tp.Masker.Masks() {
		return streamYAML(dockerCli.Out(), tp.Project)
	}
	// Masked by structure (mask.Masker.YAML, JSON): the model stays valid
	// YAML or JSON of the same types.
	content, err := marshalModel(tp.Project, opts.format, tp.Masker)
	if err != nil {
		return err
	}
	_, err = dockerCli.Out().Write(content)
	return err
}

// printModelWarnings names, on w, the values of the real secrets files
// that m cannot mask in free text (too short or too common): the model
// masks them, the logs and messages do not (config, logs; up puts them
// in its report).
func printModelWarnings(w io.Writer, m *mask.Masker) {
	for _, warn := range m.Warnings() {
		fmt.Fprintf(w, "WARNING: %s\n", warn)
	}
}

// streamYAML writes p to w as marshalModel prints it in YAML, without
// holding the whole document in memory: the model of a large project with
// its rewritten files inline is megabytes.
func streamYAML(w io.Writer, p *types.Project) error {
	bw := bufio.NewWriterSize(dollarEscaper{w}, 64<<10)
	enc := yaml.NewEncoder(bw)
	enc.SetIndent(2)
	if err := enc.Encode(p); err != nil {
		return err
	}
	return bw.Flush()
}

// dollarEscaper writes a `$` as `$$`, re-escaping what interpolation
// unescaped, as marshalModel does.
type dollarEscaper struct{ w io.Writer }

func (d dollarEscaper) Write(b []byte) (int, error) {
	if bytes.IndexByte(b, '$') < 0 {
		return d.w.Write(b)
	}
	if _, err := d.w.Write(bytes.ReplaceAll(b, []byte{'$'}, []byte{'$', '$'})); err != nil {
		return 0, err
	}
	return len(b), nil
}

// marshalModel prints a project as `docker compose config` does, the
// values of real secrets files masked by m, re-escaping the `$` that
// interpolation unescaped.
func marshalModel(p *types.Project, format string, m *mask.Masker) ([]byte, error) {
	var (
		content []byte
		err     error
	)
	if format == "json" {
		content, err = p.MarshalJSON()
	} else {
		content, err = p.MarshalYAML()
	}
	if err != nil {
		return nil, err
	}
	if format == "json" {
		content, err = m.JSON(content)
	} else {
		content, err = m.YAML(content)
	}
	if err != nil {
		return nil, err
	}
	return bytes.ReplaceAll(content, []byte{'$'}, []byte{'$', '$'}), nil
}

// renderDiff is the unified diff of the model and of every rewritten file,
// then the list of rewrites and of example secrets used.
func renderDiff(tp *testProject) (string, error) {
	var models [2][]byte
	for i, p := range []*types.Project{tp.Before, tp.Project} {
		var err error
		if models[i], err = marshalModel(p, "yaml", tp.Masker); err != nil {
			return "", err
		}
	}
	before, after := models[0], models[1]
	var out strings.Builder
	out.WriteString(unifiedDiff("compose", "picatest", string(before), string(after)))
	for _, f := range tp.Files {
		name := filepath.ToSlash(f.Path)
		if tp.Masker.IsSecretsFile(filepath.Join(tp.Project.WorkingDir, f.Path)) {
			fmt.Fprintf(&out, "--- a/%s\n+++ b/%s\n(secrets file: content not shown)\n", name, name)
			continue
		}
		out.WriteString(unifiedDiff("a/"+name, "b/"+name, f.Old, f.New))
	}
	// The files of the build contexts, as the test build gets them.
	for _, f := range tp.BuildContexts.Files() {
		name := transforms.DisplayPath(tp.Project.WorkingDir, filepath.Join(f.Context, filepath.FromSlash(f.Path)))
		out.WriteString(unifiedDiff("a/"+name, "b/"+name+" (test build of "+strings.Join(f.Services, ", ")+")", f.Old, f.New))
	}
	rewrites, examples := tp.Rewrites(), tp.ExampleSecrets()
	fmt.Fprintf(&out, "\nRewrites (%d):\n", len(rewrites))
	labelled := false
	for _, c := range rewrites {
		if c.Transform != testlabels.Name {
			fmt.Fprintf(&out, "  %s  %s: %s -> %s\n", c.Transform, c.Where, c.Old, c.New)
			continue
		}
		if !labelled { // one line per service, where the first label is
			labelled = true
			for _, s := range testlabels.ByService(rewrites) {
				fmt.Fprintf(&out, "  %s  services.%s: %s\n", testlabels.Name, s.Service, testLabelsLine(s))
			}
		}
	}
	if len(tp.Kept) > 0 {
		out.WriteString("\n")
		writeKept(&out, tp.Kept)
	}
	fmt.Fprintf(&out, "\nExample secrets used (%d):\n", len(examples))
	for _, c := range examples {
		fmt.Fprintf(&out, "  %s: %s instead of %s\n", c.Where, transforms.DisplayPath(tp.Project.WorkingDir, c.New), transforms.DisplayPath(tp.Project.WorkingDir, c.Old))
	}
	return out.String(), nil
}

// testLabelsLine says which test labels a service got, in a few words:
// "labels branch, commit, owner, started; build.labels test-build
// (net.picasoft.picatest.*)". Their values are in the diff of the model.
func testLabelsLine(s testlabels.ServiceLabels) string {
	short := func(keys []string) string {
		for i, k := range keys {
			keys[i] = strings.TrimPrefix(k, testlabels.Prefix)
		}
		return strings.Join(keys, ", ")
	}
	var parts []string
	if len(s.Labels) > 0 {
		parts = append(parts, "labels "+short(s.Labels))
	}
	if len(s.BuildLabels) > 0 {
		parts = append(parts, "build.labels "+short(s.BuildLabels))
	}
	return strings.Join(parts, "; ") + " (" + testlabels.Prefix + "*)"
}

func unifiedDiff(from, to, a, b string) string {
	if a == b {
		return ""
	}
	s, err := difflib.GetUnifiedDiffString(difflib.UnifiedDiff{
		A:        difflib.SplitLines(a),
		B:        difflib.SplitLines(b),
		FromFile: from,
		ToFile:   to,
		Context:  3,
	})
	if err != nil {
		return fmt.Sprintf("(diff failed: %v)\n", err)
	}
	return s
}
