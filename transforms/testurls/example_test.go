package testurls_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/picasoft/docker-picatest/transforms/testurls"
)

func Example() {
	dir, err := os.MkdirTemp("", "testurls-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	compose := "services:\n" +
		"  pad:\n" +
		"    image: registry.picasoft.net/pica-pad:1.0\n" +
		"    environment:\n" +
		"      BASE_URL: https://pad.picasoft.net/\n" +
		"      ADMIN_EMAIL: admin@picasoft.net\n" +
		"    labels:\n" +
		"      traefik.http.routers.pad.rule: Host(`pad.picasoft.net`) || Host(`www.pad.picasoft.net`)\n"
	if err := os.WriteFile(filepath.Join(dir, "compose.yaml"), []byte(compose), 0o644); err != nil {
		log.Fatal(err)
	}
	opts, err := cli.NewProjectOptions([]string{filepath.Join(dir, "compose.yaml")},
		cli.WithWorkingDirectory(dir),
		cli.WithName("pad"),
		cli.WithoutEnvironmentResolution,
	)
	if err != nil {
		log.Fatal(err)
	}
	project, err := opts.LoadProject(context.Background())
	if err != nil {
		log.Fatal(err)
	}

	r, err := testurls.New("picasoft.net", "test.picasoft.net", "registry.picasoft.net")
	if err != nil {
		log.Fatal(err)
	}
	test, changes, err := testurls.Transform(project, r)
	if err != nil {
		log.Fatal(err)
	}

	before, _ := project.MarshalYAML()
	after, _ := test.MarshalYAML()
	fmt.Printf("# before\n%s# after\n%s# changes\n", before, after)
	for _, c := range changes {
		fmt.Println(c)
	}
	// Output:
	// # before
	// name: pad
	// services:
	//   pad:
	//     environment:
	//       ADMIN_EMAIL: admin@picasoft.net
	//       BASE_URL: https://pad.picasoft.net/
	//     image: registry.picasoft.net/pica-pad:1.0
	//     labels:
	//       traefik.http.routers.pad.rule: Host(`pad.picasoft.net`) || Host(`www.pad.picasoft.net`)
	//     networks:
	//       default: null
	// networks:
	//   default:
	//     name: pad_default
	// # after
	// name: pad
	// services:
	//   pad:
	//     environment:
	//       ADMIN_EMAIL: admin@picasoft.net
	//       BASE_URL: https://pad.test.picasoft.net/
	//     image: registry.picasoft.net/pica-pad:1.0
	//     labels:
	//       traefik.http.routers.pad.rule: Host(`pad.test.picasoft.net`) || Host(`www.pad.test.picasoft.net`)
	//     networks:
	//       default: null
	// networks:
	//   default:
	//     name: pad_default
	// # changes
	// test-urls: services.pad.environment.BASE_URL: "https://pad.picasoft.net/" -> "https://pad.test.picasoft.net/"
	// test-urls: services.pad.labels.traefik.http.routers.pad.rule: "Host(`pad.picasoft.net`) || Host(`www.pad.picasoft.net`)" -> "Host(`pad.test.picasoft.net`) || Host(`www.pad.test.picasoft.net`)"
}
