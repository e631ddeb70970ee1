// Package exitcode holds the exit codes of docker picatest (0 success, 1
// failed, 2 invalid input, 3 refused by a safety rule, 130 interrupted) and
// the errors that carry them to the Docker CLI, which exits with the status
// code of a cli.StatusError.
package exitcode

import (
	"errors"
	"fmt"

	dockercli "github.com/docker/cli/cli"
)

// Exit codes.
const (
	// Failed means the test or operation failed.
	Failed = 1
	// Invalid means invalid input: flags, Compose file, missing example
	// secret, broken transform assertion.
	Invalid = 2
	// Refused means a safety rule refused the operation.
	Refused = 3
	// Interrupted means the command was cancelled by SIGINT or SIGTERM.
	Interrupted = 130
)

// Invalidf returns an error that exits with Invalid.
func Invalidf(format string, a ...any) error {
	return With(Invalid, fmt.Errorf(format, a...))
}

// With makes err exit with the given status code, keeping its message.
func With(code int, err error) error {
	if err == nil {
		return nil
	}
	return dockercli.StatusError{StatusCode: code, Status: err.Error(), Cause: err}
}

// Of returns the status code err exits with.
func Of(err error) int {
	if err == nil {
		return 0
	}
	var st dockercli.StatusError
	if errors.As(err, &st) && st.StatusCode != 0 {
		return st.StatusCode
	}
	return Failed
}
