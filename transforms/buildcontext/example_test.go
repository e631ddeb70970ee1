package buildcontext_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strings"

	"github.com/compose-spec/compose-go/v2/loader"
	"github.com/compose-spec/compose-go/v2/types"

	"github.com/picasoft/docker-picatest/transforms/buildcontext"
	"github.com/picasoft/docker-picatest/transforms/testurls"
)

func Example() {
	// A service folder whose Dockerfile copies a configuration file with a
	// production URL into the image.
	dir, err := os.MkdirTemp("", "buildcontext-example-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	for name, content := range map[string]string{
		"Dockerfile":         "FROM registry.picasoft.net/base:1\nCOPY conf/defaults.conf /etc/pad/\n",
		"conf/defaults.conf": "url = https://pad.picasoft.net/\ncontact = admin@picasoft.net\n",
	} {
		_ = os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755)
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			log.Fatal(err)
		}
	}
	p, err := loader.LoadWithContext(context.Background(), types.ConfigDetails{
		WorkingDir: dir,
		ConfigFiles: []types.ConfigFile{{Filename: "compose.yaml", Content: []byte(`
services:
  pad:
    image: registry.picasoft.net/pica-pad:1.0
    build: .
`)}},
	}, func(o *loader.Options) { o.SetProjectName("pad", true) })
	if err != nil {
		log.Fatal(err)
	}
	rw, err := testurls.New("picasoft.net", "test.picasoft.net", "registry.picasoft.net")
	if err != nil {
		log.Fatal(err)
	}
	plan, changes, err := buildcontext.Scan(p, rw, buildcontext.Options{})
	if err != nil {
		log.Fatal(err)
	}
	for _, c := range changes {
		fmt.Println(c)
	}
	built, remove, err := plan.Materialize(p, "")
	if err != nil {
		log.Fatal(err)
	}
	defer remove()
	show := func(p *types.Project) string {
		b, _ := p.MarshalYAML()
		s := strings.ReplaceAll(string(b), built.Services["pad"].Build.Context, "/tmp/picatest-build-XXXX")
		return strings.ReplaceAll(s, dir, ".")
	}
	fmt.Print("before:\n", show(p))
	fmt.Print("the test build:\n", show(built))
	copied, _ := os.ReadFile(filepath.Join(built.Services["pad"].Build.Context, "conf/defaults.conf"))
	fmt.Print("conf/defaults.conf in the copy:\n", string(copied))
	// Output:
	// build-context: services.pad.build: conf/defaults.conf: "conf/defaults.conf" -> "conf/defaults.conf (test URLs, in a temporary copy of the context)"
	// before:
	// name: pad
	// services:
	//   pad:
	//     image: registry.picasoft.net/pica-pad:1.0
	//     networks:
	//       default: null
	//     build:
	//       context: .
	//       dockerfile: Dockerfile
	// networks:
	//   default:
	//     name: pad_default
	// the test build:
	// name: pad
	// services:
	//   pad:
	//     image: registry.picasoft.net/pica-pad:1.0
	//     networks:
	//       default: null
	//     build:
	//       context: /tmp/picatest-build-XXXX
	//       dockerfile: Dockerfile
	// networks:
	//   default:
	//     name: pad_default
	// conf/defaults.conf in the copy:
	// url = https://pad.test.picasoft.net/
	// contact = admin@picasoft.net
}
