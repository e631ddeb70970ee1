package examplesecrets_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strings"

	"github.com/compose-spec/compose-go/v2/cli"

	"github.com/picasoft/docker-picatest/transforms/examplesecrets"
)

func Example() {
	dir, err := os.MkdirTemp("", "examplesecrets")
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
    env_file: db.secrets
    secrets: [db_password]
secrets:
  db_password:
    file: db_password.txt
`,
		"db.secrets":              "DB_PASSWORD=real-password\n",
		"db.secrets.example":      "DB_PASSWORD=test-password\n",
		"db_password.txt":         "real-password",
		"db_password.txt.example": "test-password",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			log.Fatal(err)
		}
	}

	// Load as Compose's CLI does: env_file not resolved yet.
	opts, err := cli.NewProjectOptions([]string{filepath.Join(dir, "compose.yaml")},
		cli.WithWorkingDirectory(dir), cli.WithName("pad"), cli.WithoutEnvironmentResolution)
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

	test, changes, err := examplesecrets.Transform(p, examplesecrets.Options{})
	if err != nil {
		log.Fatal(err)
	}
	after, _ := test.MarshalYAML()
	fmt.Print("after:\n", show(string(after)))
	fmt.Println("changes:")
	for _, c := range changes {
		fmt.Println(show(c.String()))
	}

	// Then resolve the environment: it comes from the example.
	resolved, err := test.WithServicesEnvironmentResolved(true)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("DB_PASSWORD =", *resolved.Services["pad"].Environment["DB_PASSWORD"])
	// Output:
	// before:
	// name: pad
	// services:
	//   pad:
	//     env_file:
	//       - path: ./db.secrets
	//     image: registry.picasoft.net/pad:1.9
	//     networks:
	//       default: null
	//     secrets:
	//       - source: db_password
	//         target: /run/secrets/db_password
	// networks:
	//   default:
	//     name: pad_default
	// secrets:
	//   db_password:
	//     name: pad_db_password
	//     file: ./db_password.txt
	// after:
	// name: pad
	// services:
	//   pad:
	//     env_file:
	//       - path: ./db.secrets.example
	//     image: registry.picasoft.net/pad:1.9
	//     networks:
	//       default: null
	//     secrets:
	//       - source: db_password
	//         target: /run/secrets/db_password
	// networks:
	//   default:
	//     name: pad_default
	// secrets:
	//   db_password:
	//     name: pad_db_password
	//     file: ./db_password.txt.example
	// changes:
	// example-secrets: secrets.db_password: "./db_password.txt" -> "./db_password.txt.example"
	// example-secrets: services.pad.env_file[0]: "./db.secrets" -> "./db.secrets.example"
	// DB_PASSWORD = test-password
}
