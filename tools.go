//go:build tools

// This file pins the Docker Compose CLI built from the same module version
// as the SDK: the end-to-end conformance test and the benchmarks compare
// picatest with it (go build github.com/docker/compose/v5/cmd).
package tools

import (
	_ "github.com/docker/compose/v5/cmd"
)
