package testlabels_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/compose-spec/compose-go/v2/loader"
	"github.com/compose-spec/compose-go/v2/types"

	"github.com/picasoft/docker-picatest/transforms/testlabels"
)

func Example() {
	p, err := loader.LoadWithContext(context.Background(), types.ConfigDetails{
		WorkingDir: "/srv/pad",
		ConfigFiles: []types.ConfigFile{{Filename: "compose.yaml", Content: []byte(`
services:
  pad:
    build: .
    image: registry.picasoft.net/pad:1.9
  db:
    image: postgres:16
`)}},
	}, func(o *loader.Options) { o.SetProjectName("pad", true) })
	if err != nil {
		log.Fatal(err)
	}
	before, _ := p.MarshalYAML()
	fmt.Print("before:\n", string(before))

	getenv := func(k string) string { return map[string]string{"USER": "root", "SUDO_USER": "alice"}[k] }
	test, changes, err := testlabels.Transform(p, testlabels.Labels{
		Owner:   testlabels.OwnerFromEnv(getenv), // os.Getenv outside of examples
		Branch:  "feat/pad-2",
		Commit:  "4f2c1a9",
		Started: time.Date(2026, 3, 14, 15, 9, 26, 0, time.FixedZone("CET", 3600)),
	})
	if err != nil {
		log.Fatal(err)
	}
	after, _ := test.MarshalYAML()
	fmt.Print("after:\n", string(after))
	fmt.Println("changes:")
	for _, c := range changes {
		fmt.Println(c)
	}

	// Later commands read the labels back from the containers.
	l, ok := testlabels.FromLabels(test.Services["db"].Labels)
	fmt.Println(ok, l.Owner, l.Branch, l.Commit, l.Started)
	// Output:
	// before:
	// name: pad
	// services:
	//   db:
	//     image: postgres:16
	//     networks:
	//       default: null
	//   pad:
	//     image: registry.picasoft.net/pad:1.9
	//     networks:
	//       default: null
	//     build:
	//       context: /srv/pad
	//       dockerfile: Dockerfile
	// networks:
	//   default:
	//     name: pad_default
	// after:
	// name: pad
	// services:
	//   db:
	//     image: postgres:16
	//     labels:
	//       net.picasoft.picatest.branch: feat/pad-2
	//       net.picasoft.picatest.commit: 4f2c1a9
	//       net.picasoft.picatest.owner: alice
	//       net.picasoft.picatest.started: "2026-03-14T14:09:26Z"
	//     networks:
	//       default: null
	//   pad:
	//     image: registry.picasoft.net/pad:1.9
	//     labels:
	//       net.picasoft.picatest.branch: feat/pad-2
	//       net.picasoft.picatest.commit: 4f2c1a9
	//       net.picasoft.picatest.owner: alice
	//       net.picasoft.picatest.started: "2026-03-14T14:09:26Z"
	//     networks:
	//       default: null
	//     build:
	//       context: /srv/pad
	//       dockerfile: Dockerfile
	//       labels:
	//         net.picasoft.picatest.test-build: "true"
	// networks:
	//   default:
	//     name: pad_default
	// changes:
	// test-labels: services.db.labels.net.picasoft.picatest.branch: "" -> "feat/pad-2"
	// test-labels: services.db.labels.net.picasoft.picatest.commit: "" -> "4f2c1a9"
	// test-labels: services.db.labels.net.picasoft.picatest.owner: "" -> "alice"
	// test-labels: services.db.labels.net.picasoft.picatest.started: "" -> "2026-03-14T14:09:26Z"
	// test-labels: services.pad.build.labels.net.picasoft.picatest.test-build: "" -> "true"
	// test-labels: services.pad.labels.net.picasoft.picatest.branch: "" -> "feat/pad-2"
	// test-labels: services.pad.labels.net.picasoft.picatest.commit: "" -> "4f2c1a9"
	// test-labels: services.pad.labels.net.picasoft.picatest.owner: "" -> "alice"
	// test-labels: services.pad.labels.net.picasoft.picatest.started: "" -> "2026-03-14T14:09:26Z"
	// true alice feat/pad-2 4f2c1a9 2026-03-14 14:09:26 +0000 UTC
}
