package plugin

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/spf13/pflag"
	"gotest.tools/v3/assert"

	"github.com/picasoft/docker-picatest/internal/settings"
)

func TestSettingsPrecedence(t *testing.T) {
	root := t.TempDir()
	assert.NilError(t, os.Mkdir(filepath.Join(root, ".git"), 0o755))
	svc := filepath.Join(root, "services", "pad")
	assert.NilError(t, os.MkdirAll(svc, 0o755))
	assert.NilError(t, os.WriteFile(filepath.Join(root, settings.File),
		[]byte("prod-domain: example.org\ntest-domain: test.example.org\nregistry: reg.example.org\nproxy: 127.0.0.1:8080\n"), 0o644))

	cases := []struct {
		name  string
		flags []string
		env   map[string]string
		want  settings.Settings
	}{
		{
			name: "file over default",
			want: settings.Settings{ProdDomain: "example.org", TestDomain: "test.example.org", Registry: "reg.example.org", Proxy: "127.0.0.1:8080"},
		},
		{
			name: "environment over file",
			env:  map[string]string{"PICATEST_PROD_DOMAIN": "env.org", "PICATEST_PROXY": "127.0.0.2"},
			want: settings.Settings{ProdDomain: "env.org", TestDomain: "test.example.org", Registry: "reg.example.org", Proxy: "127.0.0.2"},
		},
		{
			name:  "flag over environment",
			flags: []string{"--prod-domain", "Flag.org.", "--registry", "r.flag.org"},
			env:   map[string]string{"PICATEST_PROD_DOMAIN": "env.org", "PICATEST_REGISTRY": "r.env.org"},
			want:  settings.Settings{ProdDomain: "flag.org", TestDomain: "test.example.org", Registry: "r.flag.org", Proxy: "127.0.0.1:8080"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var o settingsOptions
			fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
			o.addFlags(fs)
			assert.NilError(t, fs.Parse(tc.flags))
			got, err := settings.Resolve(svc, o.given(), func(k string) string { return tc.env[k] })
			assert.NilError(t, err)
			assert.Equal(t, got.File, filepath.Join(root, settings.File))
			got.File = ""
			tc.want.TestHosts, tc.want.TestHostsFrom = settings.Default().TestHosts, settings.DefaultSource
			assert.DeepEqual(t, got, tc.want)
		})
	}
}
