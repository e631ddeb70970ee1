package verify_test

import (
	"context"
	"errors"
	"fmt"
	"log"

	"github.com/compose-spec/compose-go/v2/loader"
	"github.com/compose-spec/compose-go/v2/types"

	"github.com/picasoft/docker-picatest/internal/traefik"
	"github.com/picasoft/docker-picatest/transforms/verify"
)

func load(yaml string) *types.Project {
	p, err := loader.LoadWithContext(context.Background(), types.ConfigDetails{
		WorkingDir:  "/srv/pad",
		ConfigFiles: []types.ConfigFile{{Filename: "compose.yaml", Content: []byte(yaml)}},
	}, func(o *loader.Options) { o.SetProjectName("pad", true) })
	if err != nil {
		log.Fatal(err)
	}
	return p
}

func Example() {
	before := load(`
services:
  pad:
    image: registry.picasoft.net/pad:1.9
    labels:
      traefik.http.routers.pad.rule: Host(` + "`pad.picasoft.net`" + `)
      traefik.http.routers.pad-www.rule: Host(` + "`www.pad.picasoft.net`" + `)
`)
	// A faulty transform: one rule not rewritten, and the image renamed.
	after := load(`
services:
  pad:
    image: registry.test.picasoft.net/pad:1.9
    labels:
      traefik.http.routers.pad.rule: Host(` + "`pad.test.picasoft.net`" + `)
      traefik.http.routers.pad-www.rule: Host(` + "`www.pad.picasoft.net`" + `)
`)
	for i, p := range []*types.Project{before, after} {
		b, _ := p.MarshalYAML()
		fmt.Print([]string{"before:", "after:"}[i], "\n", string(b))
	}
	fmt.Println(traefik.Rules(after.Services["pad"].Labels))

	err := verify.Check(before, after, fakeFinder{}) // testurls.Rewriter in the plugin
	fmt.Println(err)
	var verr *verify.Error
	if errors.As(err, &verr) {
		for _, p := range verr.Problems {
			fmt.Printf("%s %s\n", p.Service, p.Field)
		}
	}
	// Output:
	// before:
	// name: pad
	// services:
	//   pad:
	//     image: registry.picasoft.net/pad:1.9
	//     labels:
	//       traefik.http.routers.pad-www.rule: Host(`www.pad.picasoft.net`)
	//       traefik.http.routers.pad.rule: Host(`pad.picasoft.net`)
	//     networks:
	//       default: null
	// networks:
	//   default:
	//     name: pad_default
	// after:
	// name: pad
	// services:
	//   pad:
	//     image: registry.test.picasoft.net/pad:1.9
	//     labels:
	//       traefik.http.routers.pad-www.rule: Host(`www.pad.picasoft.net`)
	//       traefik.http.routers.pad.rule: Host(`pad.test.picasoft.net`)
	//     networks:
	//       default: null
	// networks:
	//   default:
	//     name: pad_default
	// map[traefik.http.routers.pad-www.rule:Host(`www.pad.picasoft.net`) traefik.http.routers.pad.rule:Host(`pad.test.picasoft.net`)]
	// the transformed project is unsafe to test (2 problems):
	//   service "pad": image "registry.test.picasoft.net/pad:1.9": image was "registry.picasoft.net/pad:1.9" before transforming: a transform must never change an image name; this is a bug in docker picatest, please report it
	//   service "pad": labels.traefik.http.routers.pad-www.rule "Host(`www.pad.picasoft.net`)": Traefik rule still routes production host www.pad.picasoft.net; write each host literally in the rule (Host(`name.<production domain>`)) so it is rewritten to the test domain, or check --prod-domain/--test-domain
	// pad image
	// pad labels.traefik.http.routers.pad-www.rule
}
