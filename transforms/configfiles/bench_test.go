package configfiles_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/picasoft/docker-picatest/internal/composetest"
	"github.com/picasoft/docker-picatest/transforms/configfiles"
)

// BenchmarkTransform: 200 services, each bind-mounting its own 200-line
// configuration file full of production URLs.
func BenchmarkTransform(b *testing.B) {
	const services, lines = 200, 200
	var compose strings.Builder
	compose.WriteString("services:\n")
	files := map[string]string{}
	for i := range services {
		fmt.Fprintf(&compose, "  s%d:\n    image: s:1\n    volumes: [\"./conf/s%d.ini:/etc/app.ini:ro\"]\n", i, i)
		var f strings.Builder
		for l := range lines {
			fmt.Fprintf(&f, "url%d = https://s%d-%d.picasoft.net/path?next=https://auth.picasoft.net\n", l, i, l)
		}
		files[fmt.Sprintf("conf/s%d.ini", i)] = f.String()
	}
	p := composetest.Load(b, compose.String(), files)
	b.ReportAllocs()
	for b.Loop() {
		_, changes, err := configfiles.Transform(p, fakeRewriter{}, configfiles.Options{})
		if err != nil {
			b.Fatal(err)
		}
		if len(changes) != services {
			b.Fatalf("%d changes", len(changes))
		}
	}
}
