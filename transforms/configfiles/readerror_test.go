package configfiles

import (
	"errors"
	"io/fs"
	"testing"

	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"
)

// A file that cannot be read (the e2e tests make one unreadable for a user
// without CAP_DAC_OVERRIDE; root reads anything here) is named, with its
// cause and the fix.
func TestReadErrorSaysWhatToDo(t *testing.T) {
	cause := &fs.PathError{Op: "open", Path: "/srv/pad/conf/settings.json", Err: fs.ErrPermission}
	err := readError("conf/settings.json", cause)
	assert.Check(t, errors.Is(err, fs.ErrPermission))
	for _, want := range []string{"cannot read conf/settings.json", "permission denied", "chmod -R a+rX conf/settings.json", "remove it from the Compose file"} {
		assert.Check(t, is.Contains(err.Error(), want))
	}
}
