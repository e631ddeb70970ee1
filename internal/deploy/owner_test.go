package deploy

import (
	"context"

	"maps"
	"slices"
	"strings"
	"testing"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/compose/v5/pkg/api"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/api/types/volume"
	"github.com/moby/moby/client"
	"gotest.tools/v3/assert"

	"github.com/picasoft/docker-picatest/internal/exitcode"
	"github.com/picasoft/docker-picatest/transforms/instance"
)

// TestOwnership is the rule of SPEC §5: the reset and down remove only
// what Compose created for this deployment.
func TestOwnership(t *testing.T) {
	const inst = instance.Label
	cases := []struct {
		name     string
		external bool
		exists   bool
		declared map[string]string // the labels the project gives it
		existing map[string]string // its labels on the engine
		want     Ownership
	}{
		{name: "another project's label", exists: true, existing: map[string]string{api.ProjectLabel: "other"}, want: NotOwned},
		{name: "no label at all (docker volume create)", exists: true, want: NotOwned},
		{name: "labels but no Compose project label", exists: true, existing: map[string]string{"x": "y"}, want: NotOwned},
		{name: "this project's label", exists: true, existing: map[string]string{api.ProjectLabel: "pad"}, want: Owned},
		{name: "external", external: true, exists: true, existing: map[string]string{api.ProjectLabel: "other"}, want: External},
		{name: "external and absent", external: true, want: External},
		{name: "absent: up creates it", want: Absent},
		{
			name: "this instance's", exists: true, declared: map[string]string{inst: "b2"},
			existing: map[string]string{api.ProjectLabel: "pad", inst: "b2"}, want: Owned,
		},
		{
			name: "an instance's volume without the instance label", exists: true, declared: map[string]string{inst: "b2"},
			existing: map[string]string{api.ProjectLabel: "pad"}, want: NotOwned,
		},
		{
			name: "another instance's", exists: true, declared: map[string]string{inst: "b2"},
			existing: map[string]string{api.ProjectLabel: "pad", inst: "b3"}, want: NotOwned,
		},
		{
			name: "an instance's, for the default deployment of a project of that name", exists: true,
			existing: map[string]string{api.ProjectLabel: "pad", inst: "b2"}, want: NotOwned,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, ownership(tc.external, tc.exists, tc.declared, tc.existing, "pad"), tc.want)
		})
	}
}

// fakeEngine answers VolumeInspect, NetworkList and ContainerList from its
// maps, whatever the filters.
type fakeEngine struct {
	volumes    map[string]map[string]string // name -> labels
	networks   []network.Summary
	containers []container.Summary
}

func (e fakeEngine) VolumeInspect(_ context.Context, name string, _ client.VolumeInspectOptions) (client.VolumeInspectResult, error) {
	labels, ok := e.volumes[name]
	if !ok {
		return client.VolumeInspectResult{}, cerrdefs.ErrNotFound.WithMessage("no such volume")
	}
	return client.VolumeInspectResult{Volume: volume.Volume{Name: name, Labels: labels}}, nil
}

func (e fakeEngine) NetworkList(context.Context, client.NetworkListOptions) (client.NetworkListResult, error) {
	return client.NetworkListResult{Items: e.networks}, nil
}

func (e fakeEngine) ContainerList(context.Context, client.ContainerListOptions) (client.ContainerListResult, error) {
	return client.ContainerListResult{Items: e.containers}, nil
}

func named(name string, labels map[string]string) network.Summary {
	return network.Summary{Network: network.Network{Name: name, Labels: labels}}
}

// TestNotOwnedObjects: the volumes and networks the project names that
// exist without its Compose label are found, and down leaves them alone.
func TestNotOwnedObjects(t *testing.T) {
	p := loadProject(t, `
services:
  pad: {image: pad, networks: [default, shared, proxy], volumes: [data:/a, shared:/b, own:/c, absent:/d, ext:/e]}
volumes:
  data: {}
  own: {name: pad-own}
  shared: {name: shared-data}
  absent: {name: nowhere}
  ext: {external: true, name: pad-ext}
networks:
  shared: {name: shared-net}
  proxy: {external: true}
`)
	e := fakeEngine{
		volumes: map[string]map[string]string{
			"pad_data":    {api.ProjectLabel: "pad"},
			"pad-own":     {api.ProjectLabel: "pad"},
			"shared-data": {api.ProjectLabel: "other"},
			"pad-ext":     nil,
		},
		networks: []network.Summary{
			named("pad_default", map[string]string{api.ProjectLabel: "pad"}),
			named("shared-net", nil),
			named("proxy", nil),
		},
	}
	got, err := NotOwnedObjects(context.Background(), e, p)
	assert.NilError(t, err)
	assert.DeepEqual(t, got, []Object{
		{Kind: "volume", Name: "shared-data", Labels: map[string]string{api.ProjectLabel: "other"}},
		{Kind: "network", Name: "shared-net"},
	})
	assert.Equal(t, got[0].String(), "volume shared-data (created by Compose for project other)")
	assert.Equal(t, got[1].String(), "network shared-net (not created by Docker Compose)")
	assert.DeepEqual(t, Volumes(got), []string{"shared-data"})

	down, _, err := DownProject(context.Background(), networks(nil), p, got)
	assert.NilError(t, err)
	var removed []string // what Compose's down -v removes: what is not external
	for _, v := range down.Volumes {
		if !bool(v.External) {
			removed = append(removed, v.Name)
		}
	}
	for _, n := range down.Networks {
		if !bool(n.External) {
			removed = append(removed, n.Name)
		}
	}
	slices.Sort(removed)
	assert.DeepEqual(t, removed, []string{"nowhere", "pad-own", "pad_data", "pad_default"})
	assert.Assert(t, !bool(p.Volumes["shared"].External), "p is not changed")
	assert.DeepEqual(t, slices.Sorted(maps.Keys(down.Volumes)), slices.Sorted(maps.Keys(p.Volumes)))
}

func TestConfirmQuestion(t *testing.T) {
	assert.Equal(t, ConfirmQuestion("pad", nil, nil), "")
	assert.Equal(t, ConfirmQuestion("pad", []string{"pad-db"}, nil), "Remove and re-create empty the external volumes pad-db of project pad?")
	assert.Equal(t, ConfirmQuestion("pad", nil, []Object{{Kind: "volume", Name: "shared", Labels: map[string]string{api.ProjectLabel: "other"}}, {Kind: "network", Name: "net"}}),
		"Project pad names volume shared (created by Compose for project other), network net (not created by Docker Compose), which it did not create: remove and re-create empty the volumes shared (their data is lost) and let the test deployment use them?")
}

// TestCheckInstanceNames: what the instance's names would take from
// another deployment is refused (exit 2), naming both.
func TestCheckInstanceNames(t *testing.T) {
	p := loadProject(t, `
services:
  pad:
    image: pad
    container_name: web-b2
    labels:
      traefik.http.routers.pad-b2.rule: Host(`+"`pad-b2.test.picasoft.net`"+`)
      net.picasoft.picatest.instance: b2
    volumes: [data:/data]
volumes:
  data: {name: pad-b2, labels: {net.picasoft.picatest.instance: b2}}
networks:
  default: {name: pad-b2_default, labels: {net.picasoft.picatest.instance: b2}}
`)
	p.Name = "pad-b2"
	own := map[string]string{api.ProjectLabel: "pad-b2", instance.Label: "b2", api.WorkingDirLabel: p.WorkingDir}
	mine := container.Summary{Names: []string{"/web-b2"}, Labels: maps.Clone(own)}
	mine.Labels["traefik.http.routers.pad-b2.rule"] = "Host(`pad-b2.test.picasoft.net`)"
	cases := []struct {
		name string
		e    fakeEngine
		want []string // in the error, in order
	}{
		{name: "nothing exists"},
		{
			name: "what exists is this instance's",
			e: fakeEngine{
				volumes:    map[string]map[string]string{"pad-b2": own},
				networks:   []network.Summary{named("pad-b2_default", own)},
				containers: []container.Summary{mine},
			},
		},
		{
			name: "the default deployment's volume and router, another folder's project",
			e: fakeEngine{
				volumes:  map[string]map[string]string{"pad-b2": {api.ProjectLabel: "pad"}},
				networks: []network.Summary{named("pad-b2_default", map[string]string{api.ProjectLabel: "pad-b2"})},
				containers: []container.Summary{
					{Names: []string{"/pad-pad-1"}, Labels: map[string]string{api.ProjectLabel: "pad", "traefik.http.routers.PAD-B2.rule": "Host(`x`)"}},
					{Names: []string{"/web-b2"}, Labels: map[string]string{api.ProjectLabel: "pad-b2", api.WorkingDirLabel: "/elsewhere"}},
				},
			},
			want: []string{
				"instance b2: its names are taken on the engine by what is not this instance's:",
				"Traefik http router pad-b2: container pad-pad-1 (project pad) defines it too",
				"container_name web-b2 (service pad): container web-b2 (project pad-b2, working dir /elsewhere) exists",
				"network pad-b2_default exists, created by Compose for project pad-b2",
				"project pad-b2: container web-b2 (project pad-b2, working dir /elsewhere) belongs to another deployment of that name",
				"volume pad-b2 exists, created by Compose for project pad",
				"choose another --instance name (e.g. --instance b2-2)",
			},
		},
		{
			name: "another instance of the same name from the same folder without the label",
			e: fakeEngine{
				containers: []container.Summary{{Names: []string{"/x"}, Labels: map[string]string{api.ProjectLabel: "pad-b2", api.WorkingDirLabel: p.WorkingDir}}},
			},
			want: []string{"project pad-b2: container x (project pad-b2, working dir " + p.WorkingDir + ") belongs to another deployment of that name"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckInstanceNames(context.Background(), tc.e, p, "b2")
			if tc.want == nil {
				assert.NilError(t, err)
				return
			}
			assert.Equal(t, exitcode.Of(err), exitcode.Invalid)
			msg := err.Error()
			at := 0
			for _, w := range tc.want {
				i := strings.Index(msg[at:], w)
				assert.Assert(t, i >= 0, "%q not after offset %d in:\n%s", w, at, msg)
				at += i + len(w)
			}
		})
	}
	assert.NilError(t, CheckInstanceNames(context.Background(), fakeEngine{containers: []container.Summary{{Labels: map[string]string{api.ProjectLabel: "pad"}}}}, p, ""), "the default deployment is not checked")
}
