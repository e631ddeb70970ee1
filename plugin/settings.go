package plugin

import (
	"github.com/spf13/pflag"
)

// settingsOptions are the flags that set Settings.
type settingsOptions struct {
	prodDomain string
	testDomain string
	registry   string
	proxy      string
	traefikAPI string
	flags      []*pflag.FlagSet
}

func (o *settingsOptions) addFlags(f *pflag.FlagSet) {
	f.StringVar(&o.prodDomain, "prod-domain", "", `Production domain, rewritten to the test domain (env PICATEST_PROD_DOMAIN, default "picasoft.net")`)
	f.StringVar(&o.testDomain, "test-domain", "", `Test domain (env PICATEST_TEST_DOMAIN, default "test.picasoft.net")`)
	f.StringVar(&o.registry, "registry", "", `Home registry, never rewritten (env PICATEST_REGISTRY, default "registry.picasoft.net")`)
	f.StringVar(&o.proxy, "proxy", "", `Traefik entrypoint for smoke checks, host[:port] (env PICATEST_PROXY, default "127.0.0.1")`)
	f.StringVar(&o.traefikAPI, "traefik-api", "", `Traefik's API, host[:port], to explain failed smoke checks; "off" for none (env PICATEST_TRAEFIK_API, default: the --proxy host on port 8080)`)
	o.flags = append(o.flags, f)
}

// given returns the value of each settings flag given on the command line,
// by flag name (see settings.Resolve).
func (o *settingsOptions) given() map[string]string {
	given := map[string]string{}
	for flag, v := range map[string]string{"prod-domain": o.prodDomain, "test-domain": o.testDomain, "registry": o.registry, "proxy": o.proxy, "traefik-api": o.traefikAPI} {
		if o.changed(flag) {
			given[flag] = v
		}
	}
	return given
}

// changed reports whether flag was set on the command line, before or
// after the subcommand.
func (o *settingsOptions) changed(flag string) bool {
	for _, f := range o.flags {
		if f.Changed(flag) {
			return true
		}
	}
	return false
}
