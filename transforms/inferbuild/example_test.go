package inferbuild_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strings"

	"github.com/compose-spec/compose-go/v2/loader"
	"github.com/compose-spec/compose-go/v2/types"

	"github.com/picasoft/docker-picatest/transforms/inferbuild"
)

func Example() {
	// A service folder with a Dockerfile, whose Compose file names the
	// home-made image but has no build section.
	dir, err := os.MkdirTemp("", "inferbuild-example-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte("FROM scratch\n"), 0o644); err != nil {
		log.Fatal(err)
	}
	p, err := loader.LoadWithContext(context.Background(), types.ConfigDetails{
		WorkingDir: dir,
		ConfigFiles: []types.ConfigFile{{Filename: "compose.yaml", Content: []byte(`
services:
  pad:
    image: registry.picasoft.net/pica-nobuild:1.0
`)}},
	}, func(o *loader.Options) { o.SetProjectName("pad", true) })
	if err != nil {
		log.Fatal(err)
	}
	show := func(p *types.Project) string {
		b, _ := p.MarshalYAML()
		return strings.ReplaceAll(string(b), dir, ".")
	}
	fmt.Print("before:\n", show(p))
	homeMade := func(image string) bool { return strings.HasPrefix(image, "registry.picasoft.net/") }
	built, changes, err := inferbuild.Transform(p, homeMade)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Print("after:\n", show(built))
	for _, c := range changes {
		fmt.Println(c)
	}
	// Output:
	// before:
	// name: pad
	// services:
	//   pad:
	//     image: registry.picasoft.net/pica-nobuild:1.0
	//     networks:
	//       default: null
	// networks:
	//   default:
	//     name: pad_default
	// after:
	// name: pad
	// services:
	//   pad:
	//     image: registry.picasoft.net/pica-nobuild:1.0
	//     networks:
	//       default: null
	//     build:
	//       context: .
	//       dockerfile: Dockerfile
	// networks:
	//   default:
	//     name: pad_default
	// infer-build: services.pad.build: "" -> "build: ."
}
