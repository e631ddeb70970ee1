package plugin

import (
	"context"
	"errors"
	"os"
	"os/signal"
	"strings"
	"syscall"

	dockercli "github.com/docker/cli/cli"
	"github.com/docker/compose/v5/pkg/api"
	"github.com/moby/moby/client"
	"github.com/spf13/cobra"

	"github.com/picasoft/docker-picatest/internal/engine"
	"github.com/picasoft/docker-picatest/internal/exitcode"
	"github.com/picasoft/docker-picatest/internal/termsafe"
)

// runFunc is the body of a subcommand.
type runFunc func(ctx context.Context, args []string) error

// adapt turns fn into a cobra RunE whose context is cancelled on SIGINT or
// SIGTERM, an interruption exiting with exitcode.Interrupted (as Compose's
// cmd/compose Adapt does). The docker CLI closing the plugin socket (it
// cancels cmd.Context()) and the CLI exiting before the plugin are
// interruptions too.
func adapt(fn runFunc) func(cmd *cobra.Command, args []string) error {
	return func(cmd *cobra.Command, args []string) error {
		ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		ctx, stopWatch := cancelWhenOrphaned(ctx, startPPID, os.Getppid, orphanCheck)
		defer stopWatch()
		err := fn(ctx, args)
		if err != nil && (api.IsErrCanceled(err) || errors.Is(ctx.Err(), context.Canceled)) {
			return dockercli.StatusError{StatusCode: exitcode.Interrupted, Status: "interrupted: nothing in the working tree was changed; run the command again to finish", Cause: err}
		}
		return surfaceStatus(adviseUnreachable(err))
	}
}

// adviseUnreachable says what to do when a command could not reach the
// engine, unless the error says it already (engine.UnreachableError).
func adviseUnreachable(err error) error {
	var advised engine.Unreachable
	if err == nil || !client.IsErrConnectionFailed(err) || errors.As(err, &advised) {
		return err
	}
	return exitcode.With(exitcode.Failed, engine.UnreachableError(nil, err))
}

// surfaceStatus returns err as a StatusError carrying err's whole message
// when a StatusError is wrapped inside it: the Docker CLI prints only the
// first StatusError of the chain, so the context and the advice wrapped
// around an error of the Compose SDK (such as a classic build's
// StatusError) would otherwise be lost.
func surfaceStatus(err error) error {
	var st dockercli.StatusError
	if err == nil || !errors.As(err, &st) {
		return err
	}
	if _, top := err.(dockercli.StatusError); top {
		return err
	}
	return dockercli.StatusError{StatusCode: exitcode.Of(err), Status: err.Error(), Cause: err}
}

// escapeErrors wraps the RunE of a command so that its error message,
// which may quote the engine or a container (a build's output, a label),
// reaches the terminal with its control characters escaped (termsafe.Text:
// lines and tabs kept). It runs after the masking, which matches the
// secrets as they are. The exit code is kept.
func escapeErrors(run func(*cobra.Command, []string) error) func(*cobra.Command, []string) error {
	if run == nil {
		return nil
	}
	return func(cmd *cobra.Command, args []string) error {
		err := run(cmd, args)
		if err == nil {
			return nil
		}
		msg := err.Error()
		if safe := termsafe.Text(msg); safe != msg {
			return dockercli.StatusError{StatusCode: exitcode.Of(err), Status: safe, Cause: err}
		}
		return err
	}
}

// noArgs is cobra.NoArgs with the exit code of invalid input.
func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return exitcode.Invalidf("%q accepts no arguments, got %q\nSee 'docker %s --help'.", strings.TrimPrefix(cmd.CommandPath(), "docker "), args, strings.TrimPrefix(cmd.CommandPath(), "docker "))
	}
	return nil
}
