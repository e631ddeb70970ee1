// Package record owns the test record: what every `docker picatest up`
// leaves on the daemon about the test it ran, and what `push` relies on
// to upload only what passed a test.
package record
