// Package testrun owns a test run of docker picatest (SPEC §4-§6): on a
// loaded test project, with the engine and the Compose backend, it runs
// the phases of the procedure in order (preflight, reset with the build and
// the pull, create and start, wait, smoke checks and log scan), writes the
// test record at its end and returns a Report. It never prints the report:
// the progress lines go through the Phase function of its Options, and
// the commands of package plugin render the Report (text, JSON, JUnit).
package testrun
