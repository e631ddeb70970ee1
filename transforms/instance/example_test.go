package instance_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/compose-spec/compose-go/v2/cli"

	"github.com/picasoft/docker-picatest/transforms/instance"
)

func Example() {
	dir, err := os.MkdirTemp("", "instance-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	// The project as the test-URL transform left it: test hosts.
	compose := "services:\n" +
		"  pad:\n" +
		"    image: registry.picasoft.net/pica-pad:1.0\n" +
		"    container_name: pad\n" +
		"    environment:\n" +
		"      BASE_URL: https://pad.test.picasoft.net/\n" +
		"    labels:\n" +
		"      traefik.http.routers.pad.rule: Host(`pad.test.picasoft.net`)\n" +
		"      traefik.http.routers.pad.service: pad\n" +
		"      traefik.http.services.pad.loadbalancer.server.port: \"8080\"\n" +
		"    volumes: [data:/data]\n" +
		"    networks: [proxy]\n" +
		"volumes:\n" +
		"  data:\n" +
		"    external: true\n" +
		"    name: pad-data\n" +
		"networks:\n" +
		"  proxy:\n" +
		"    external: true\n"
	if err := os.WriteFile(filepath.Join(dir, "compose.yaml"), []byte(compose), 0o644); err != nil {
		log.Fatal(err)
	}
	opts, err := cli.NewProjectOptions([]string{filepath.Join(dir, "compose.yaml")},
		cli.WithWorkingDirectory(dir), cli.WithName("pad"), cli.WithoutEnvironmentResolution)
	if err != nil {
		log.Fatal(err)
	}
	project, err := opts.LoadProject(context.Background())
	if err != nil {
		log.Fatal(err)
	}

	name, err := instance.FromBranch("feature/Été_2026!!")
	if err != nil {
		log.Fatal(err)
	}
	r, err := instance.NewRewriter("test.picasoft.net", name)
	if err != nil {
		log.Fatal(err)
	}
	inst, changes, err := instance.Transform(project, r)
	if err != nil {
		log.Fatal(err)
	}

	before, _ := project.MarshalYAML()
	after, _ := inst.MarshalYAML()
	fmt.Printf("# before\n%s# after\n%s# changes\n", before, after)
	for _, c := range changes {
		fmt.Println(c)
	}
	// Output:
	// # before
	// name: pad
	// services:
	//   pad:
	//     container_name: pad
	//     environment:
	//       BASE_URL: https://pad.test.picasoft.net/
	//     image: registry.picasoft.net/pica-pad:1.0
	//     labels:
	//       traefik.http.routers.pad.rule: Host(`pad.test.picasoft.net`)
	//       traefik.http.routers.pad.service: pad
	//       traefik.http.services.pad.loadbalancer.server.port: "8080"
	//     networks:
	//       proxy: null
	//     volumes:
	//       - type: volume
	//         source: data
	//         target: /data
	//         volume: {}
	// networks:
	//   proxy:
	//     name: proxy
	//     external: true
	// volumes:
	//   data:
	//     name: pad-data
	//     external: true
	// # after
	// name: pad-feature-ete-2026
	// services:
	//   pad:
	//     container_name: pad-feature-ete-2026
	//     environment:
	//       BASE_URL: https://pad-feature-ete-2026.test.picasoft.net/
	//     image: registry.picasoft.net/pica-pad:1.0
	//     labels:
	//       net.picasoft.picatest.instance: feature-ete-2026
	//       traefik.http.routers.pad-feature-ete-2026.rule: Host(`pad-feature-ete-2026.test.picasoft.net`)
	//       traefik.http.routers.pad-feature-ete-2026.service: pad-feature-ete-2026
	//       traefik.http.services.pad-feature-ete-2026.loadbalancer.server.port: "8080"
	//     networks:
	//       proxy: null
	//     volumes:
	//       - type: volume
	//         source: data
	//         target: /data
	//         volume: {}
	// networks:
	//   proxy:
	//     name: proxy
	//     external: true
	// volumes:
	//   data:
	//     name: pad-data-feature-ete-2026
	//     labels:
	//       net.picasoft.picatest.instance: feature-ete-2026
	// # changes
	// instance: name: "pad" -> "pad-feature-ete-2026"
	// instance: services.pad.container_name: "pad" -> "pad-feature-ete-2026"
	// instance: services.pad.environment.BASE_URL: "https://pad.test.picasoft.net/" -> "https://pad-feature-ete-2026.test.picasoft.net/"
	// instance: services.pad.labels: "traefik.http.routers.pad.rule" -> "traefik.http.routers.pad-feature-ete-2026.rule"
	// instance: services.pad.labels: "traefik.http.routers.pad.service" -> "traefik.http.routers.pad-feature-ete-2026.service"
	// instance: services.pad.labels: "traefik.http.services.pad.loadbalancer.server.port" -> "traefik.http.services.pad-feature-ete-2026.loadbalancer.server.port"
	// instance: services.pad.labels.net.picasoft.picatest.instance: "" -> "feature-ete-2026"
	// instance: services.pad.labels.traefik.http.routers.pad-feature-ete-2026.service: "pad" -> "pad-feature-ete-2026"
	// instance: services.pad.labels.traefik.http.routers.pad.rule: "Host(`pad.test.picasoft.net`)" -> "Host(`pad-feature-ete-2026.test.picasoft.net`)"
	// instance: volumes.data.name: "pad-data" -> "pad-data-feature-ete-2026"
}
