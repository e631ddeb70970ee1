package plugin

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/picasoft/docker-picatest/internal/exitcode"
	"github.com/picasoft/docker-picatest/internal/termsafe"
)

// checkFormat refuses (exit 2) a --format value that is not one of
// allowed.
func checkFormat(value string, allowed ...string) error {
	if slices.Contains(allowed, value) {
		return nil
	}
	use := make([]string, len(allowed))
	for i, a := range allowed {
		use[i] = "--format " + a
	}
	return exitcode.Invalidf("--format %q is not supported: use %s", value, strings.Join(use, " or "))
}

// renderJSON is v as one indented JSON document, as every --format json
// prints it.
func renderJSON(v any) (string, error) {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return "", fmt.Errorf("encoding the JSON report: %w", err)
	}
	// Escapes of the containers' text that encoding/json writes as they
	// are (the C1 controls...) are not to reach a terminal.
	return string(termsafe.JSON([]byte(b.String()))), nil
}

// writeJSON writes v to w as renderJSON renders it.
func writeJSON(w io.Writer, v any) error {
	s, err := renderJSON(v)
	if err != nil {
		return err
	}
	_, err = io.WriteString(w, s)
	return err
}
