package transforms_test

import (
	"testing"

	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"

	"github.com/picasoft/docker-picatest/internal/composetest"
	"github.com/picasoft/docker-picatest/transforms/buildcontext"
	"github.com/picasoft/docker-picatest/transforms/testurls"
)

// connections are the lines of issue 26: each must reach the deployment
// with the test host, in the model, in a mounted config file and in a file
// the Dockerfile copies, since all three go through the same Rewriter.
const connections = `DATABASE_URL=postgres://pad:pw@db.picasoft.net:5432/pad
REDIS_URL=redis://:pw@redis.picasoft.net:6379/0
SMTP_URL=smtps://mailer@mail.picasoft.net:465
SITE_URL=https://pad.picasoft.net
MAIL_FROM=noreply@picasoft.net
BACKUP=backup@backup.picasoft.net:/srv/backups/pad/
`

const connectionsTest = `DATABASE_URL=postgres://pad:pw@db.test.picasoft.net:5432/pad
REDIS_URL=redis://:pw@redis.test.picasoft.net:6379/0
SMTP_URL=smtps://mailer@mail.test.picasoft.net:465
SITE_URL=https://pad.test.picasoft.net
MAIL_FROM=noreply@picasoft.net
BACKUP=backup@backup.test.picasoft.net:/srv/backups/pad/
`

func TestPipelineConnections(t *testing.T) {
	rw, err := testurls.New("picasoft.net", "test.picasoft.net", "registry.picasoft.net")
	assert.NilError(t, err)
	p := composetest.Load(t, `
services:
  pad:
    image: registry.picasoft.net/pad:1
    build: ./pad
    environment:
      DATABASE_URL: postgres://pad:pw@db.picasoft.net:5432/pad
      REDIS_URL: redis://:pw@redis.picasoft.net:6379/0
      SMTP_URL: smtps://mailer@mail.picasoft.net:465
      SITE_URL: https://pad.picasoft.net
      MAIL_FROM: noreply@picasoft.net
    command: ["rsync", "-a", "/data/", "backup@backup.picasoft.net:/srv/backups/pad/"]
    volumes: [./conf/app.env:/etc/app.env:ro]
`, map[string]string{"conf/app.env": connections, "pad/Dockerfile": "FROM scratch\nCOPY app.env /\n", "pad/app.env": connections})
	out := pipeline(t, p, rw)

	env := out.Services["pad"].Environment
	for k, v := range map[string]string{
		"DATABASE_URL": "postgres://pad:pw@db.test.picasoft.net:5432/pad",
		"REDIS_URL":    "redis://:pw@redis.test.picasoft.net:6379/0",
		"SMTP_URL":     "smtps://mailer@mail.test.picasoft.net:465",
		"SITE_URL":     "https://pad.test.picasoft.net",
		"MAIL_FROM":    "noreply@picasoft.net",
	} {
		assert.Check(t, is.Equal(*env[k], v), k)
	}
	assert.Check(t, is.Equal(out.Services["pad"].Command[3], "backup@backup.test.picasoft.net:/srv/backups/pad/"))

	// The mounted file reaches the container as a config with content.
	var contents []string
	for _, c := range out.Configs {
		contents = append(contents, c.Content)
	}
	assert.Check(t, is.DeepEqual(contents, []string{connectionsTest}))

	// The file the Dockerfile copies, in the test build.
	plan, _, err := buildcontext.Scan(out, rw, buildcontext.Options{})
	assert.NilError(t, err)
	var built []string
	for _, f := range plan.Files() {
		if f.Path == "app.env" {
			built = append(built, f.New)
		}
	}
	assert.Check(t, is.DeepEqual(built, []string{connectionsTest}))
}
