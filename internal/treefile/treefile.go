// Package treefile reads the files of a working tree with bounds. A tree
// holds what a branch committed, so a file picatest reads from it is user
// input: a symlink to /dev/zero, a fifo or a huge file must be refused with
// an error naming it, never read until the machine runs out of memory or
// waits forever.
package treefile

import (
	"fmt"
	"io"
	"io/fs"
	"os"

	"github.com/picasoft/docker-picatest/internal/exitcode"
)

// Limits of the files picatest reads whole from a tree.
const (
	// SmallFile bounds a settings or ignore file (.picatest.yml,
	// .dockerignore, an env file).
	SmallFile = 1 << 20
	// TextFile bounds a file read whole to be rewritten or scanned (a
	// config file, a file of a build context).
	TextFile = 64 << 20
)

// Open opens path for reading after checking, on the opened file itself,
// that it is a regular file of at most max bytes (symlinks are followed, as
// any reader of the tree would). Any other file is an exit-2 error naming
// path and what to do.
func Open(path string, max int64) (*os.File, fs.FileInfo, error) {
	// A fifo blocks open(2) for reading until a writer comes: look first.
	st, err := os.Stat(path)
	if err != nil {
		return nil, nil, err
	}
	if err := check(path, st, max); err != nil {
		return nil, nil, err
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	// The file may have been replaced between the two looks.
	if st, err = f.Stat(); err == nil {
		err = check(path, st, max)
	}
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return f, st, nil
}

// ReadFile reads path whole, as os.ReadFile does, when it is a regular file
// of at most max bytes; otherwise it returns an exit-2 error naming path.
// Errors of the file system (not found, permission) are returned as they
// are, so that callers can tell them apart with errors.Is.
func ReadFile(path string, max int64) ([]byte, error) {
	f, _, err := Open(path, max)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	// One byte more than max tells a file that grew after the check.
	b, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > max {
		return nil, tooLarge(path, max)
	}
	return b, nil
}

func check(path string, st fs.FileInfo, max int64) error {
	if !st.Mode().IsRegular() {
		return exitcode.Invalidf("%s is %s, not a regular file: picatest reads only regular files from the tree; replace it with a regular file or remove it", path, kind(st.Mode()))
	}
	if st.Size() > max {
		return tooLarge(path, max)
	}
	return nil
}

func tooLarge(path string, max int64) error {
	return exitcode.Invalidf("%s is larger than %s, the most picatest reads from such a file: make it smaller or remove it", path, human(max))
}

func kind(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe (fifo)"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a device"
	default:
		return "a special file"
	}
}

func human(n int64) string {
	if n >= 1<<20 && n%(1<<20) == 0 {
		return fmt.Sprintf("%d MiB", n>>20)
	}
	return fmt.Sprintf("%d bytes", n)
}
