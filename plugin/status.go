package plugin

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/docker/cli/cli/command"
	"github.com/docker/compose/v5/pkg/api"
	"github.com/moby/moby/client"
	"github.com/spf13/cobra"

	"github.com/picasoft/docker-picatest/internal/exitcode"
	"github.com/picasoft/docker-picatest/internal/record"
	"github.com/picasoft/docker-picatest/internal/safety"
	"github.com/picasoft/docker-picatest/internal/termsafe"
	"github.com/picasoft/docker-picatest/smoke"
	"github.com/picasoft/docker-picatest/transforms/instance"
	"github.com/picasoft/docker-picatest/transforms/testlabels"
)

type statusOptions struct {
	format string
	all    bool
}

func newStatusCommand(dockerCli command.Cli, newBackend BackendFunc, root *rootOptions) *cobra.Command {
	opts := statusOptions{}
	cmd := &cobra.Command{
		Use:     "status [OPTIONS] [SERVICE...]",
		Aliases: []string{"ps"},
		Short:   "Show the test deployment: state, health, test URLs and owner of each service",
		Long: `Lists the containers of the test deployment, one line each: service, state,
health, restarts, test URLs, and who deployed it (owner, branch, commit) and
when (age), then the project's last test record (what every up leaves on
the daemon, and push relies on: verdict, when, by whom, commit, clean tree
or not). With -p and no Compose file, the deployment is found by its
project name alone; --instance shows an instance of the project instead of
the default deployment. --all lists the test deployments of every project
on the engine, instances included, as 'docker compose ls' lists projects:
who tests what on a shared machine, and the project locks held (an up or
down under way, or left by one that died); it needs no Compose file.

Exit codes: 0 shown, 1 failed (engine unreachable), 2 invalid input, 130
interrupted. Never 3: status only reads.`,
		Example: `  docker picatest status
  docker picatest -p pad status
  docker picatest status --instance branch
  docker picatest ps --format json
  docker picatest status --all`,
		RunE: adapt(func(ctx context.Context, args []string) error {
			if err := checkFormat(opts.format, "text", "json"); err != nil {
				return err
			}
			if opts.all {
				if len(args) > 0 {
					return exitcode.Invalidf("--all shows every project and cannot be combined with service names: drop %s or --all", strings.Join(args, " "))
				}
				if root.Instance != "" {
					return exitcode.Invalidf("--all shows every instance of every project and cannot be combined with --instance: drop one of them")
				}
				return runStatusAll(ctx, dockerCli, newBackend, root, opts)
			}
			return runStatus(ctx, dockerCli, newBackend, root, opts, args)
		}),
	}
	cmd.Flags().StringVar(&opts.format, "format", "text", "Format the output. Values: [text | json]")
	cmd.Flags().BoolVar(&opts.all, "all", false, "Show the test deployments of every project on the engine")
	return cmd
}

// containerStatus is one line of `status`.
type containerStatus struct {
	Project  string   `json:"-"`
	Instance string   `json:"instance,omitempty"`
	Service  string   `json:"service"`
	Name     string   `json:"name"`
	Image    string   `json:"image"`
	State    string   `json:"state"`
	Health   string   `json:"health,omitempty"`
	Restarts int      `json:"restarts"`
	URLs     []string `json:"urls,omitempty"`
	Owner    string   `json:"owner,omitempty"`
	Branch   string   `json:"branch,omitempty"`
	Commit   string   `json:"commit,omitempty"`
	Started  string   `json:"started,omitempty"`
	Age      string   `json:"age,omitempty"`
}

func runStatus(ctx context.Context, dockerCli command.Cli, newBackend BackendFunc, root *rootOptions, opts statusOptions, services []string) error {
	backend, err := newBackend(dockerCli, root.Progress)
	if err != nil {
		return err
	}
	p, settings, err := root.loadNameAndSettings(ctx, backend)
	if err != nil {
		return err
	}
	lines, err := statusLines(ctx, dockerCli, backend, p.Name, services, settings.TestDomain)
	if err != nil {
		return err
	}
	rec := lastRecord(ctx, dockerCli, root, p.Name, p.WorkingDir)
	return printStatus(dockerCli.Out(), p.Name, lines, rec, opts.format, root.upCommand())
}

// lastRecord is the last test record of the project (internal/record),
// nil when there is none or it cannot be read: status shows it, and never
// fails for it.
func lastRecord(ctx context.Context, dockerCli command.Cli, root *rootOptions, project, dir string) *record.Record {
	if inst, err := root.composeOptions().InstanceName(dir); err == nil && inst != "" {
		project = strings.TrimSuffix(project, "-"+inst)
	}
	rec, err := record.Last(ctx, dockerCli.Client(), project)
	if err != nil {
		return nil
	}
	return rec
}

// statusLines are the lines of `status` for one project, sorted by
// container name.
func statusLines(ctx context.Context, dockerCli command.Cli, backend Backend, project string, services []string, testDomain string) ([]containerStatus, error) {
	containers, err := backend.Ps(ctx, project, api.PsOptions{All: true, Services: services})
	if err != nil {
		return nil, err
	}
	lines := make([]containerStatus, 0, len(containers))
	for _, c := range containers {
		st := containerStatus{
			Project: project, Service: c.Service, Name: c.Name, Image: c.Image,
			State: string(c.State), Health: string(c.Health),
			URLs:     smoke.URLs(c.Labels, testDomain),
			Instance: c.Labels[instance.Label],
		}
		if inspect, err := dockerCli.Client().ContainerInspect(ctx, c.ID, client.ContainerInspectOptions{}); err == nil {
			st.Restarts = inspect.Container.RestartCount
		}
		if l, ok := testlabels.FromLabels(c.Labels); ok {
			st.Owner, st.Branch, st.Commit = l.Owner, l.Branch, l.Commit
			if !l.Started.IsZero() {
				st.Started = l.Started.UTC().Format(time.RFC3339)
				st.Age = safety.Ago(l.Started)
			}
		}
		lines = append(lines, st)
	}
	sort.Slice(lines, func(i, j int) bool { return lines[i].Name < lines[j].Name })
	return lines, nil
}

// runStatusAll shows the test deployments of every project on the engine:
// the projects of the containers that docker picatest started (they carry
// the label net.picasoft.picatest.started), by project name.
func runStatusAll(ctx context.Context, dockerCli command.Cli, newBackend BackendFunc, root *rootOptions, opts statusOptions) error {
	backend, err := newBackend(dockerCli, root.Progress)
	if err != nil {
		return err
	}
	dir := root.ProjectDir
	if dir == "" {
		dir = "."
	}
	settings, err := root.resolveSettings(dir)
	if err != nil {
		return err
	}
	res, err := dockerCli.Client().ContainerList(ctx, client.ContainerListOptions{
		All:     true,
		Filters: make(client.Filters).Add("label", testlabels.Started),
	})
	if err != nil {
		return fmt.Errorf("cannot list the containers of the engine: %w\nCheck that `docker ps -a` works", err)
	}
	seen := map[string]bool{}
	var projects []string
	for _, c := range res.Items {
		if name := c.Labels[api.ProjectLabel]; name != "" && !seen[name] {
			seen[name] = true
			projects = append(projects, name)
		}
	}
	sort.Strings(projects)
	type projectStatus struct {
		Project    string            `json:"project"`
		Containers []containerStatus `json:"containers"`
	}
	all := make([]projectStatus, 0, len(projects))
	var lines []containerStatus
	for _, name := range projects {
		l, err := statusLines(ctx, dockerCli, backend, name, nil, settings.TestDomain)
		if err != nil {
			return err
		}
		all = append(all, projectStatus{Project: name, Containers: l})
		lines = append(lines, l...)
	}
	locks, err := safety.Locks(ctx, dockerCli.Client())
	if err != nil {
		return err
	}
	w := dockerCli.Out()
	if opts.format == "json" {
		return writeJSON(w, map[string]any{"projects": all, "locks": locks})
	}
	if len(lines) == 0 {
		if _, err := fmt.Fprintln(w, "No test deployment on this engine: start one with 'docker picatest up'."); err != nil {
			return err
		}
	} else if err := printStatusTable(w, lines, true); err != nil {
		return err
	}
	return printLocks(w, locks)
}

// printLocks prints the held locks of the engine (up/down under way, or
// left by a command that died), when there are any.
func printLocks(w io.Writer, locks []safety.Holder) error {
	if len(locks) == 0 {
		return nil
	}
	fmt.Fprintln(w, "\nLocks held (an up or down under way; `docker picatest up --break-lock` breaks one whose command no longer runs):")
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "PROJECT\tUSER\tHOST\tPID\tCOMMAND\tSINCE\tAGE")
	for _, l := range locks {
		since, age := "-", "-"
		if !l.Since.IsZero() {
			since, age = safety.Time(l.Since), safety.Ago(l.Since)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\t%s\n", termsafe.String(l.Project), termsafe.String(orDash(l.User)), termsafe.String(orDash(l.Host)), l.PID, termsafe.String(orDash(l.Command)), since, age)
	}
	return tw.Flush()
}

func printStatus(w io.Writer, project string, lines []containerStatus, rec *record.Record, format, up string) error {
	if format == "json" {
		doc := map[string]any{"project": project, "containers": lines}
		if rec != nil {
			doc["last_test"] = rec
		}
		return writeJSON(w, doc)
	}
	if len(lines) == 0 {
		if _, err := fmt.Fprintf(w, "Project %s has no containers: start it with '%s'.\n", termsafe.String(project), up); err != nil {
			return err
		}
	} else if err := printStatusTable(w, lines, false); err != nil {
		return err
	}
	if rec != nil {
		_, err := fmt.Fprintf(w, "Last test: %s\n", termsafe.String(rec.Summary(time.Now())))
		return err
	}
	return nil
}

// printStatusTable prints lines as a table, with the project of each line
// first when withProject.
func printStatusTable(w io.Writer, lines []containerStatus, withProject bool) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	project := func(l containerStatus) string { return "" }
	if withProject {
		fmt.Fprint(tw, "PROJECT\tINSTANCE\t")
		project = func(l containerStatus) string {
			return termsafe.String(l.Project) + "\t" + termsafe.String(orDash(l.Instance)) + "\t"
		}
	}
	fmt.Fprintln(tw, "SERVICE\tSTATE\tHEALTH\tRESTARTS\tTEST URLS\tOWNER\tBRANCH\tCOMMIT\tAGE")
	for _, l := range lines {
		commit := l.Commit
		if len(commit) > 12 {
			commit = commit[:12]
		}
		// The labels (owner, branch, commit...) are anyone's text.
		fmt.Fprintf(tw, "%s%s\t%s\t%s\t%d\t%s\t%s\t%s\t%s\t%s\n", project(l), termsafe.String(l.Service), l.State, orDash(l.Health), l.Restarts,
			termsafe.String(orDash(strings.Join(l.URLs, " "))), termsafe.String(orDash(l.Owner)), termsafe.String(orDash(l.Branch)), termsafe.String(orDash(commit)), orDash(l.Age))
	}
	return tw.Flush()
}
