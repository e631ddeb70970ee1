package configfiles_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strings"

	"github.com/compose-spec/compose-go/v2/cli"

	"github.com/picasoft/docker-picatest/transforms/configfiles"
)

// testURLs stands for testurls.Rewriter in this example.
type testURLs struct{}

func (testURLs) Rewrite(s string) (string, bool) {
	n := strings.ReplaceAll(s, ".picasoft.net", ".test.picasoft.net")
	return n, n != s
}

func Example() {
	dir, err := os.MkdirTemp("", "configfiles")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	if dir, err = filepath.EvalSymlinks(dir); err != nil {
		log.Fatal(err)
	}
	for name, content := range map[string]string{
		"compose.yaml": `
services:
  pad:
    image: registry.picasoft.net/pad:1.9
    volumes:
      - ./conf/settings.json:/opt/etherpad/settings.json:ro
      - ./conf/robots.txt:/opt/etherpad/robots.txt:ro
`,
		"conf/settings.json": `{"url": "https://pad.picasoft.net"}` + "\n",
		"conf/robots.txt":    "User-agent: *\n",
	} {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			log.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			log.Fatal(err)
		}
	}
	opts, err := cli.NewProjectOptions([]string{filepath.Join(dir, "compose.yaml")},
		cli.WithWorkingDirectory(dir), cli.WithName("pad"))
	if err != nil {
		log.Fatal(err)
	}
	p, err := opts.LoadProject(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	show := func(s string) string { return strings.ReplaceAll(s, dir, ".") }
	before, _ := p.MarshalYAML()
	fmt.Print("before:\n", show(string(before)))

	// Transform alone when the files are not shown.
	test, changes, files, err := configfiles.TransformWithFiles(p, testURLs{}, configfiles.Options{})
	if err != nil {
		log.Fatal(err)
	}
	after, _ := test.MarshalYAML()
	fmt.Print("after:\n", show(string(after)))
	for _, c := range changes {
		fmt.Println(c)
	}
	for _, f := range files {
		fmt.Printf("%s: %q -> %q\n", f.Path, f.Old, f.New)
	}
	// Output:
	// before:
	// name: pad
	// services:
	//   pad:
	//     image: registry.picasoft.net/pad:1.9
	//     networks:
	//       default: null
	//     volumes:
	//       - type: bind
	//         source: ./conf/settings.json
	//         target: /opt/etherpad/settings.json
	//         read_only: true
	//         bind: {}
	//       - type: bind
	//         source: ./conf/robots.txt
	//         target: /opt/etherpad/robots.txt
	//         read_only: true
	//         bind: {}
	// networks:
	//   default:
	//     name: pad_default
	// after:
	// name: pad
	// services:
	//   pad:
	//     configs:
	//       - source: picatest_conf_settings.json_df7bc10b
	//         target: /opt/etherpad/settings.json
	//         mode: "0644"
	//     image: registry.picasoft.net/pad:1.9
	//     networks:
	//       default: null
	//     volumes:
	//       - type: bind
	//         source: ./conf/robots.txt
	//         target: /opt/etherpad/robots.txt
	//         read_only: true
	//         bind: {}
	// networks:
	//   default:
	//     name: pad_default
	// configs:
	//   picatest_conf_settings.json_df7bc10b:
	//     name: pad_picatest_df7bc10b
	//     content: |
	//       {"url": "https://pad.test.picasoft.net"}
	// config-files: conf/settings.json -> services.pad:/opt/etherpad/settings.json: "conf/settings.json" -> "configs.picatest_conf_settings.json_df7bc10b"
	// conf/settings.json: "{\"url\": \"https://pad.picasoft.net\"}\n" -> "{\"url\": \"https://pad.test.picasoft.net\"}\n"
}
