package engine

import (
	"io"
	"strings"
	"testing"

	"gotest.tools/v3/assert"
)

func TestImportError(t *testing.T) {
	err := importError(io.NopCloser(strings.NewReader(`{"status":"x"}` + "\n" + `{"error":"no space left on device"}`)))
	assert.ErrorContains(t, err, "no space left on device")
	assert.NilError(t, importError(io.NopCloser(strings.NewReader(`{"status":"sha256:1"}`))))
}
