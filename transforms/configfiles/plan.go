package configfiles

import (
	"errors"
	"fmt"
	"sort"

	"github.com/compose-spec/compose-go/v2/types"
)

// mount is a service bind volume to replace.
type mount struct {
	service string
	index   int    // in service.Volumes
	target  string // container path of the volume
	files   []dirEntry
	isDir   bool
	copy    bool // delivered whether rewritten or not (Options.Copy)
}

// object is a top-level config or secret whose file is rewritten.
type object struct {
	secret bool
	key    string
	f      *file
}

type plan struct {
	mounts  []mount
	objects []object
}

func (pl *plan) empty() bool { return len(pl.mounts) == 0 && len(pl.objects) == 0 }

// plan reads the files that reach a container from inside the project and
// lists the bind mounts, configs and secrets whose text must be replaced.
func (s *scanner) plan(p *types.Project) (*plan, error) {
	pl := &plan{}
	if err := s.prefetch(sources(p)); err != nil {
		return nil, err
	}
	for _, name := range p.ServiceNames() {
		svc := p.Services[name]
		for i, v := range svc.Volumes {
			if v.Type != types.VolumeTypeBind {
				continue
			}
			if err := s.planMount(pl, name, i, v); err != nil {
				return nil, err
			}
		}
	}
	for _, k := range sortedKeys(p.Configs) {
		if err := s.planObject(pl, false, k, types.FileObjectConfig(p.Configs[k])); err != nil {
			return nil, err
		}
	}
	for _, k := range sortedKeys(p.Secrets) {
		if err := s.planObject(pl, true, k, types.FileObjectConfig(p.Secrets[k])); err != nil {
			return nil, err
		}
	}
	return pl, nil
}

// sources lists the bind sources and the files of configs and secrets of p.
func sources(p *types.Project) []string {
	var srcs []string
	for _, svc := range p.Services {
		for _, v := range svc.Volumes {
			if v.Type == types.VolumeTypeBind {
				srcs = append(srcs, v.Source)
			}
		}
	}
	for _, c := range p.Configs {
		srcs = append(srcs, c.File)
	}
	for _, c := range p.Secrets {
		srcs = append(srcs, c.File)
	}
	return srcs
}

// planMount adds to pl the bind volume v (index i of service name) when
// its file, or a file under its directory, contains a production host.
func (s *scanner) planMount(pl *plan, name string, i int, v types.ServiceVolumeConfig) error {
	abs, rel, info, ok := s.resolve(v.Source)
	if !ok {
		return nil
	}
	switch {
	case info.Mode().IsRegular():
		f := s.fileFor(abs, rel, info)
		if err := s.scan(f); err != nil {
			return err
		}
		cp := s.opts.Copy[v.Source]
		if cp {
			// Delivered whatever its size: read it whole.
			if err := s.read(f); err != nil {
				return err
			}
		}
		if f.changed || cp {
			pl.mounts = append(pl.mounts, mount{service: name, index: i, target: v.Target, files: []dirEntry{{f: f}}, copy: cp})
		}
	case info.IsDir():
		d, err := s.dirFor(abs, rel)
		if err != nil {
			return fmt.Errorf("service %s, volume %s: %w", name, v.Target, err)
		}
		if d.replace {
			pl.mounts = append(pl.mounts, mount{service: name, index: i, target: v.Target, files: d.entries, isDir: true})
		}
	}
	return nil
}

// planObject adds to pl the top-level config or secret key when its file,
// inside the project, contains a production host.
func (s *scanner) planObject(pl *plan, secret bool, key string, o types.FileObjectConfig) error {
	if o.File == "" || bool(o.External) {
		return nil
	}
	abs, rel, info, ok := s.resolve(o.File)
	if !ok || !info.Mode().IsRegular() {
		return nil
	}
	f := s.fileFor(abs, rel, info)
	if err := s.scan(f); err != nil {
		return err
	}
	if f.changed {
		pl.objects = append(pl.objects, object{secret: secret, key: key, f: f})
	}
	return nil
}

// checkReadOnly refuses plans that Compose could not run: copying a config
// into a read_only container fails.
func (pl *plan) checkReadOnly(p *types.Project) error {
	var errs []error
	refuse := func(service, what string) {
		errs = append(errs, fmt.Errorf("service %s is read_only: picatest cannot inject the rewritten file %s; Compose copies it into the container, which a read-only root filesystem refuses. Remove read_only: true for the test (e.g. in a compose override), or keep production hostnames out of %s",
			service, what, what))
	}
	for _, m := range pl.mounts {
		if !p.Services[m.service].ReadOnly {
			continue
		}
		if m.copy {
			errs = append(errs, fmt.Errorf("service %s is read_only: picatest cannot inject %s, the example of the bind-mounted secrets file; Compose copies it into the container, which a read-only root filesystem refuses. Remove read_only: true for the test (e.g. in a compose override), or run with --real-secrets",
				m.service, m.files[0].f.rel))
			continue
		}
		for _, df := range m.files {
			if df.f.changed {
				refuse(m.service, df.f.rel)
				break
			}
		}
	}
	for _, o := range pl.objects {
		for _, name := range p.ServiceNames() {
			svc := p.Services[name]
			if svc.ReadOnly && o.usedBy(svc) {
				refuse(name, o.f.rel)
			}
		}
	}
	return errors.Join(errs...)
}

func (o object) usedBy(svc types.ServiceConfig) bool {
	if o.secret {
		for _, r := range svc.Secrets {
			if r.Source == o.key {
				return true
			}
		}
		return false
	}
	for _, r := range svc.Configs {
		if r.Source == o.key {
			return true
		}
	}
	return false
}

func sortedKeys[M ~map[string]V, V any](m M) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
