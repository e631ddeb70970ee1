// Command docker-picatest is the docker picatest CLI plugin.
package main

import (
	"github.com/docker/cli/cli-plugins/metadata"
	dockerplugin "github.com/docker/cli/cli-plugins/plugin"
	"github.com/docker/cli/cli/command"
	"github.com/spf13/cobra"

	"github.com/picasoft/docker-picatest/plugin"
)

func main() {
	dockerplugin.Run(
		func(dockerCli command.Cli) *cobra.Command {
			return plugin.RootCommand(dockerCli, plugin.NewBackend)
		},
		metadata.Metadata{
			SchemaVersion:    "0.1.0",
			Vendor:           "Picasoft",
			Version:          plugin.Version,
			ShortDescription: "Test a Compose service on the test machine, publish it safely",
			URL:              "https://wiki.picasoft.net",
		},
		command.WithUserAgent("picatest/"+plugin.Version),
	)
}
