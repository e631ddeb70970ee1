package plugin

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/spf13/pflag"
	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"

	"github.com/picasoft/docker-picatest/internal/exitcode"
)

func TestSettingsPrecedence(t *testing.T) {
	root := t.TempDir()
	assert.NilError(t, os.Mkdir(filepath.Join(root, ".git"), 0o755))
	svc := filepath.Join(root, "services", "pad")
	assert.NilError(t, os.MkdirAll(svc, 0o755))
	assert.NilError(t, os.WriteFile(filepath.Join(root, SettingsFile),
		[]byte("prod-domain: example.org\ntest-domain: test.example.org\nregistry: reg.example.org\nproxy: 127.0.0.1:8080\n"), 0o644))

	cases := []struct {
		name  string
		flags []string
		env   map[string]string
		want  Settings
	}{
		{
			name: "file over default",
			want: Settings{ProdDomain: "example.org", TestDomain: "test.example.org", Registry: "reg.example.org", Proxy: "127.0.0.1:8080"},
		},
		{
			name: "environment over file",
			env:  map[string]string{"PICATEST_PROD_DOMAIN": "env.org", "PICATEST_PROXY": "127.0.0.2"},
			want: Settings{ProdDomain: "env.org", TestDomain: "test.example.org", Registry: "reg.example.org", Proxy: "127.0.0.2"},
		},
		{
			name:  "flag over environment",
			flags: []string{"--prod-domain", "Flag.org.", "--registry", "r.flag.org"},
			env:   map[string]string{"PICATEST_PROD_DOMAIN": "env.org", "PICATEST_REGISTRY": "r.env.org"},
			want:  Settings{ProdDomain: "flag.org", TestDomain: "test.example.org", Registry: "r.flag.org", Proxy: "127.0.0.1:8080"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var o settingsOptions
			fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
			o.addFlags(fs)
			assert.NilError(t, fs.Parse(tc.flags))
			got, err := o.resolve(svc, func(k string) string { return tc.env[k] })
			assert.NilError(t, err)
			assert.Equal(t, got.File, filepath.Join(root, SettingsFile))
			got.File = ""
			tc.want.TestHosts = DefaultSettings().TestHosts
			assert.DeepEqual(t, got, tc.want)
		})
	}
}

func TestSettingsDefaultsOutsideGit(t *testing.T) {
	var o settingsOptions
	got, err := o.resolve(t.TempDir(), func(string) string { return "" })
	assert.NilError(t, err)
	assert.DeepEqual(t, got, DefaultSettings())
	assert.DeepEqual(t, got.NeverRewritten(), []string{"registry.picasoft.net"})
}

func TestSettingsFileErrors(t *testing.T) {
	cases := map[string]string{
		"prod-domain: x.org\nunknown-key: 1\n": "unknown-key",
		"prod-domain: \"\"\n":                  "prod-domain is empty",
		"prod-domain: [\n":                     "invalid",
	}
	for content, want := range cases {
		dir := t.TempDir()
		assert.NilError(t, os.WriteFile(filepath.Join(dir, SettingsFile), []byte(content), 0o644))
		var o settingsOptions
		_, err := o.resolve(dir, func(string) string { return "" })
		assert.Check(t, is.ErrorContains(err, want))
		assert.Equal(t, exitcode.Of(err), exitcode.Invalid)
	}
}
