// Package plugin holds the cobra commands of docker picatest and their
// wiring to the Docker CLI and the Compose SDK.
package plugin

import (
	"fmt"
	"os"
	"strings"

	dockercli "github.com/docker/cli/cli"
	"github.com/docker/cli/cli/command"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/picasoft/docker-picatest/internal/exitcode"
	"github.com/picasoft/docker-picatest/internal/mask"
	"github.com/picasoft/docker-picatest/internal/settings"
)

// Version and Commit are set at build time by install.sh (-ldflags -X).
var (
	Version = "dev"
	Commit  = "unknown"
)

// rootOptions are the flags of the root command, shared by subcommands:
// Compose's project flags and picatest's settings.
type rootOptions struct {
	projectOptions
	settingsOptions

	// masks hides secret values in every output of the command (reports,
	// errors, streamed log lines), once it knows the project's secrets
	// files.
	masks mask.Slot
}

// projectOptions are Compose's own project flags, with Compose's meaning.
type projectOptions struct {
	ProjectName string
	Profiles    []string
	ConfigPaths []string
	ProjectDir  string
	EnvFiles    []string
	RealSecrets bool
	Progress    string
	// Instance is --instance of the commands that act on one deployment.
	Instance string

	files, profiles, envFiles *listFlag
}

// listFlag is a repeatable string flag shared by the root command and the
// subcommands: the values given before and after the subcommand add up, and
// the first one given replaces the default.
type listFlag struct {
	values *[]string
	set    bool
}

func newListFlag(p *[]string, def []string) *listFlag {
	*p = def
	return &listFlag{values: p}
}

func (l *listFlag) Set(v string) error {
	if !l.set {
		*l.values = nil
		l.set = true
	}
	*l.values = append(*l.values, v)
	return nil
}

func (l *listFlag) String() string {
	if len(*l.values) == 0 {
		return ""
	}
	return "[" + strings.Join(*l.values, ",") + "]"
}

func (l *listFlag) Type() string { return "stringArray" }

// addFlags adds Compose's project flags to f. As in Compose they belong to
// the root command (docker picatest -f a.yml up); they are also accepted
// after the subcommand, except -f as a shorthand where the subcommand uses
// it for itself (logs -f is --follow).
func (o *projectOptions) addFlags(f *pflag.FlagSet, fileShorthand bool) {
	if o.files == nil {
		o.files = newListFlag(&o.ConfigPaths, nil)
		o.profiles = newListFlag(&o.Profiles, nil)
		o.envFiles = newListFlag(&o.EnvFiles, settings.SplitList(os.Getenv("COMPOSE_ENV_FILES")))
	}
	short := "f"
	if !fileShorthand {
		short = ""
	}
	f.VarP(o.files, "file", short, "Compose configuration files")
	f.StringVarP(&o.ProjectName, "project-name", "p", "", "Project name")
	f.StringVar(&o.ProjectDir, "project-directory", "", "Specify an alternate working directory\n(default: the path of the, first specified, Compose file)")
	f.Var(o.profiles, "profile", "Specify a profile to enable")
	f.Var(o.envFiles, "env-file", "Specify an alternate environment file")
	f.BoolVar(&o.RealSecrets, "real-secrets", false, "Use the real secrets files even where a .example exists")
	f.StringVar(&o.Progress, "progress", os.Getenv("COMPOSE_PROGRESS"), "Set type of progress output ("+strings.Join(progressModes, ", ")+")")
}

// RootCommand returns the picatest command and its subcommands.
func RootCommand(dockerCli command.Cli, newBackend BackendFunc) *cobra.Command {
	opts := &rootOptions{}
	newBackend = opts.withMasking(newBackend)
	cmd := &cobra.Command{
		Use:   "picatest",
		Short: "Test a Compose service on the shared test machine, then publish it safely",
		Long: `docker picatest loads a Compose project exactly as Compose does, rewrites it
in memory for the test machine (test URLs, example secrets, test labels) and
drives Compose with it. The working tree is never written.

Exit codes: 0 success, 1 the test or operation failed, 2 invalid input,
3 refused by a safety rule, 130 interrupted. The --help of each command
says which of them it returns.`,
		Example: `  docker picatest up
  docker picatest status
  docker picatest -f compose.yml config --diff`,
		SilenceUsage:     true,
		SilenceErrors:    true,
		TraverseChildren: true,
		Args:             cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return cmd.Help()
			}
			return exitcode.Invalidf("unknown command %q for \"docker picatest\"\nRun 'docker picatest --help' for the list of commands.", args[0])
		},
	}
	cmd.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return dockercli.StatusError{
			StatusCode: exitcode.Invalid,
			Status:     fmt.Sprintf("%s\nSee 'docker %s --help'.", err, strings.TrimPrefix(c.CommandPath(), "docker ")),
		}
	})
	opts.addFlags(cmd.Flags(), true)

	cmd.AddCommand(
		newUpCommand(dockerCli, newBackend, opts),
		newDownCommand(dockerCli, newBackend, opts),
		newStatusCommand(dockerCli, newBackend, opts),
		newLogsCommand(dockerCli, newBackend, opts),
		newConfigCommand(dockerCli, newBackend, opts),
		newSmokeCommand(dockerCli, newBackend, opts),
		newPushCommand(dockerCli, newBackend, opts),
		newCheckCommand(dockerCli, newBackend, opts),
	)
	for _, sub := range cmd.Commands() {
		opts.addFlags(sub.Flags(), sub.Name() != "logs")
		if instanceCommands[sub.Name()] {
			opts.addInstanceFlag(sub.Flags())
		}
		sub.RunE = escapeErrors(opts.maskErrors(sub.RunE))
	}
	cmd.AddCommand(newVersionCommand(dockerCli))
	cmd.AddCommand(newCompletionCommand(dockerCli))
	addServiceCompletion(cmd, dockerCli, newBackend, opts)
	return cmd
}

// upCommand is the command that starts the deployment the command acts
// on, for the messages that suggest it.
func (o *projectOptions) upCommand() string {
	if o.Instance != "" {
		return "docker picatest up --instance " + o.Instance
	}
	return "docker picatest up"
}

// instanceCommands take --instance: they act on one test deployment.
// push has none: it publishes from the untransformed project.
var instanceCommands = map[string]bool{"up": true, "down": true, "status": true, "logs": true, "smoke": true, "config": true}

// addInstanceFlag adds --instance to f.
func (o *projectOptions) addInstanceFlag(f *pflag.FlagSet) {
	f.StringVar(&o.Instance, "instance", "", "The instance `NAME` of the project, a test deployment beside the default one (project <project>-NAME, hosts pad-NAME.<test domain>); \"branch\": the current git branch's")
}

func (o *rootOptions) addFlags(f *pflag.FlagSet, fileShorthand bool) {
	o.projectOptions.addFlags(f, fileShorthand)
	o.settingsOptions.addFlags(f)
}
