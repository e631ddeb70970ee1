package release

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"debug/buildinfo"
	"debug/elf"
	"debug/macho"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"
)

const (
	// testVersion is the VERSION of the test's release: a pre-release, so
	// that the Debian version takes the "~" of the mapping.
	testVersion = "v0.9.0-rc.1"
	// testDebVersion is the Debian version of testVersion.
	testDebVersion = "0.9.0~rc.1"
	// systemPlugin is where the Debian package installs the plugin.
	systemPlugin = "/usr/libexec/docker/cli-plugins/" + plugin
)

// targets are the OS/ARCH of a release.
var targets = []string{"linux/amd64", "linux/arm64", "darwin/amd64", "darwin/arm64"}

// TestRelease makes a whole release with scripts/release.sh, as CI does on a
// tag, and uses it as an admin would: the files and SHA256SUMS, the binaries
// (static, stamped, for their OS and architecture), the Debian packages
// (fields, contents, lintian), dpkg -i then "docker picatest version" through
// the docker CLI without Go in PATH, then dpkg -r leaving nothing behind; and
// install.sh installing the release binary (--binary, or found beside it)
// without Go, and refusing a corrupted one. It needs root, dpkg and a docker
// CLI, and fails (never skips) without them, except under -short.
func TestRelease(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the release test builds the release and installs a Debian package (root, dpkg)")
	}
	requireReleaseTools(t)
	lockRelease(t)
	root := repoRoot(t)
	out := t.TempDir()

	start := time.Now()
	r := run(t, root, nil, bash(t), "scripts/release.sh", "--out", out, testVersion)
	t.Logf("scripts/release.sh --out DIR %s: exit %d in %s\n%s%s", testVersion, r.code, time.Since(start).Round(time.Second), r.stdout, r.stderr)
	assert.Assert(t, r.code == 0, "scripts/release.sh failed (output above)")
	m := regexp.MustCompile(`, commit ([0-9a-f]{7,}),`).FindStringSubmatch(r.stdout)
	assert.Assert(t, m != nil, "release.sh does not name the commit it builds")
	commit := m[1]
	assert.Assert(t, run(t, root, nil, "git", "cat-file", "-e", commit+"^{commit}").code == 0, "%s is not a commit of the repository", commit)
	releaseOut := r.stdout

	debName := func(arch string) string { return plugin + "_" + testDebVersion + "_" + arch + ".deb" }
	var linuxArchs []string
	for _, target := range targets {
		if goos, arch, _ := strings.Cut(target, "/"); goos == "linux" {
			linuxArchs = append(linuxArchs, arch)
		}
	}

	t.Run("files and SHA256SUMS", func(t *testing.T) {
		want := []string{"SHA256SUMS", "install.sh"}
		for _, target := range targets {
			want = append(want, plugin+"-"+strings.ReplaceAll(target, "/", "-"))
		}
		for _, arch := range linuxArchs {
			want = append(want, debName(arch))
		}
		entries, err := os.ReadDir(out)
		assert.NilError(t, err)
		var got []string
		for _, e := range entries {
			got = append(got, e.Name())
		}
		slices.Sort(want)
		assert.DeepEqual(t, got, want)

		sums := readSums(t, filepath.Join(out, "SHA256SUMS"))
		assert.Check(t, is.Len(sums, len(want)-1), "SHA256SUMS lists every other file")
		for name, sum := range sums {
			assert.Check(t, is.Equal(sha256File(t, filepath.Join(out, name)), sum), name)
		}
		// What the README tells users to run.
		c := run(t, out, nil, "sha256sum", "--check", "--strict", "SHA256SUMS")
		assert.Check(t, c.code == 0, "sha256sum --check: %s%s", c.stdout, c.stderr)
	})

	t.Run("binaries", func(t *testing.T) {
		for _, target := range targets {
			goos, goarch, _ := strings.Cut(target, "/")
			path := filepath.Join(out, plugin+"-"+goos+"-"+goarch)
			checkBuildInfo(t, path, goos, goarch, commit)
			switch goos {
			case "linux":
				checkStaticELF(t, path, goarch)
			case "darwin":
				checkMachO(t, path, goarch)
			}
		}
		// The binary of this machine answers the docker CLI's metadata query.
		m := run(t, out, nil, filepath.Join(out, releaseBin()), "docker-cli-plugin-metadata")
		assert.Assert(t, m.code == 0, m.stderr)
		var meta struct{ SchemaVersion, Vendor, Version string }
		assert.NilError(t, json.Unmarshal([]byte(m.stdout), &meta))
		assert.Check(t, is.Equal(meta.Version, testVersion))
		assert.Check(t, is.Equal(meta.Vendor, "Picasoft"))
	})

	for _, arch := range linuxArchs {
		t.Run("deb "+arch, func(t *testing.T) {
			deb := filepath.Join(out, debName(arch))
			checkDeb(t, deb, arch, filepath.Join(out, plugin+"-linux-"+arch))
			if _, err := exec.LookPath("lintian"); err != nil {
				t.Logf("lintian is not installed: %s was not linted (apt-get install lintian; test.sh installs it)", debName(arch))
			} else {
				assert.Check(t, is.Contains(releaseOut, "lintian "+debName(arch)+": no errors"))
			}
		})
	}

	t.Run("dpkg -i, docker picatest version, dpkg -r", func(t *testing.T) {
		arch := strings.TrimSpace(run(t, "/", nil, "dpkg", "--print-architecture").stdout)
		assert.Assert(t, slices.Contains(linuxArchs, arch), "no Debian package for this machine's architecture %q", arch)
		testDpkg(t, filepath.Join(out, debName(arch)), commit)
	})

	noGo := pathWithoutGo(t)
	t.Run("install.sh --binary", func(t *testing.T) {
		cfg := t.TempDir()
		bin := filepath.Join(out, releaseBin())
		r := run(t, t.TempDir(), env("PATH="+noGo, "DOCKER_CONFIG="+cfg), bash(t), filepath.Join(root, "install.sh"), "--binary", bin)
		assert.Assert(t, r.code == 0, "stdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
		assert.Check(t, is.Contains(r.stdout, "Checked "+bin+" against "+filepath.Join(out, "SHA256SUMS")))
		checkInstalled(t, r, cfg, bin, commit)
	})

	t.Run("install.sh beside the binary", func(t *testing.T) {
		// The release folder as downloaded: its own install.sh finds the
		// binary beside it.
		cfg := t.TempDir()
		r := run(t, t.TempDir(), env("PATH="+noGo, "DOCKER_CONFIG="+cfg), bash(t), filepath.Join(out, "install.sh"))
		assert.Assert(t, r.code == 0, "stdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
		assert.Check(t, is.Contains(r.stderr, "'go' not found in PATH; installing the release binary "+releaseBin()+" beside install.sh"))
		checkInstalled(t, r, cfg, filepath.Join(out, releaseBin()), commit)
	})

	t.Run("install.sh --binary corrupted", func(t *testing.T) {
		dir, cfg := t.TempDir(), t.TempDir()
		data, err := os.ReadFile(filepath.Join(out, releaseBin()))
		assert.NilError(t, err)
		data[len(data)/2] ^= 0xff
		bin := filepath.Join(dir, releaseBin())
		assert.NilError(t, os.WriteFile(bin, data, 0o755))
		sums, err := os.ReadFile(filepath.Join(out, "SHA256SUMS"))
		assert.NilError(t, err)
		assert.NilError(t, os.WriteFile(filepath.Join(dir, "SHA256SUMS"), sums, 0o644))

		r := run(t, t.TempDir(), env("PATH="+noGo, "DOCKER_CONFIG="+cfg), bash(t), filepath.Join(root, "install.sh"), "--binary", bin)
		assert.Check(t, is.Equal(r.code, 1), "stdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
		assert.Check(t, is.Contains(r.stderr, bin+" does not match "+filepath.Join(dir, "SHA256SUMS")))
		assert.Check(t, is.Contains(r.stderr, "nothing was installed"))
		assertNoPlugin(t, cfg)
	})
}

// requireReleaseTools fails the test, naming what to install, when something
// the release test needs is missing.
func requireReleaseTools(t *testing.T) {
	t.Helper()
	for tool, pkg := range map[string]string{
		"dpkg-deb": "dpkg", "dpkg": "dpkg", "dpkg-query": "dpkg",
		"sha256sum": "coreutils", "git": "git", "tar": "tar", "gzip": "gzip",
	} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s not found: the release test needs it (apt-get install %s)", tool, pkg)
		}
	}
	if os.Geteuid() != 0 {
		t.Fatalf("the release test installs and removes its Debian package with dpkg: run it as root (or go test -short to leave it out)")
	}
	installed := false
	for _, pkg := range []string{"docker.io", "docker-ce-cli"} {
		r := run(t, "/", nil, "dpkg-query", "-W", "-f", "${Status}", pkg)
		installed = installed || (r.code == 0 && strings.HasSuffix(r.stdout, " installed"))
	}
	if !installed {
		t.Fatalf("the package depends on docker.io | docker-ce-cli and neither is installed: apt-get install docker.io")
	}
}

// lockRelease makes two runs of the release test on one machine (two
// developers' go test) wait for each other: both would install and remove
// the same Debian package.
func lockRelease(t *testing.T) {
	t.Helper()
	f, err := os.OpenFile(filepath.Join(os.TempDir(), "docker-picatest-release-test.lock"), os.O_CREATE|os.O_RDWR, 0o644)
	assert.NilError(t, err)
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		t.Logf("another release test holds %s; waiting for it", f.Name())
		assert.NilError(t, syscall.Flock(int(f.Fd()), syscall.LOCK_EX))
	}
	t.Cleanup(func() { f.Close() })
}

// readSums reads a SHA256SUMS file: file name -> hex SHA-256.
func readSums(t *testing.T, path string) map[string]string {
	t.Helper()
	f, err := os.Open(path)
	assert.NilError(t, err)
	defer f.Close()
	sums := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		sum, name, ok := strings.Cut(sc.Text(), "  ")
		assert.Assert(t, ok && len(sum) == 64, "SHA256SUMS line %q is not sha256sum's", sc.Text())
		sums[name] = sum
	}
	assert.NilError(t, sc.Err())
	return sums
}

// checkBuildInfo checks how the binary at path was built: for goos/goarch,
// without cgo, trimmed, with the version and commit stamped. (With -trimpath
// Go does not record -ldflags, so the stamps are looked for in the binary.)
func checkBuildInfo(t *testing.T, path, goos, goarch, commit string) {
	t.Helper()
	info, err := buildinfo.ReadFile(path)
	assert.NilError(t, err, path)
	settings := map[string]string{}
	for _, s := range info.Settings {
		settings[s.Key] = s.Value
	}
	name := filepath.Base(path)
	assert.Check(t, is.Equal(info.Path, "github.com/picasoft/docker-picatest/cmd/docker-picatest"), name)
	assert.Check(t, is.Equal(settings["GOOS"], goos), name)
	assert.Check(t, is.Equal(settings["GOARCH"], goarch), name)
	assert.Check(t, is.Equal(settings["CGO_ENABLED"], "0"), name)
	assert.Check(t, is.Equal(settings["-trimpath"], "true"), name)
	data, err := os.ReadFile(path)
	assert.NilError(t, err)
	for _, stamp := range []string{testVersion, commit} {
		assert.Check(t, bytes.Contains(data, []byte(stamp)), "%s: %s not stamped", name, stamp)
	}
}

// checkStaticELF checks that the Linux binary at path is for goarch, static
// (no interpreter, no shared library) and stripped.
func checkStaticELF(t *testing.T, path, goarch string) {
	t.Helper()
	f, err := elf.Open(path)
	assert.NilError(t, err, path)
	defer f.Close()
	name := filepath.Base(path)
	machine := map[string]elf.Machine{"amd64": elf.EM_X86_64, "arm64": elf.EM_AARCH64}[goarch]
	assert.Check(t, is.Equal(f.Machine, machine), name)
	for _, p := range f.Progs {
		assert.Check(t, p.Type != elf.PT_INTERP, "%s has a program interpreter: not static", name)
	}
	libs, err := f.ImportedLibraries()
	assert.Check(t, err)
	assert.Check(t, is.Len(libs, 0), "%s needs shared libraries", name)
	assert.Check(t, f.Section(".symtab") == nil, "%s is not stripped", name)
}

// checkMachO checks that the macOS binary at path is for goarch.
func checkMachO(t *testing.T, path, goarch string) {
	t.Helper()
	f, err := macho.Open(path)
	assert.NilError(t, err, path)
	defer f.Close()
	cpu := map[string]macho.Cpu{"amd64": macho.CpuAmd64, "arm64": macho.CpuArm64}[goarch]
	assert.Check(t, is.Equal(f.Cpu, cpu), filepath.Base(path))
}

// debFiles are the files of the Debian package and their modes in
// "dpkg-deb -c"; all are root's.
var debFiles = map[string]string{
	"./usr/libexec/docker/cli-plugins/" + plugin:  "-rwxr-xr-x",
	"./usr/share/doc/" + plugin + "/copyright":    "-rw-r--r--",
	"./usr/share/doc/" + plugin + "/changelog.gz": "-rw-r--r--",
	"./usr/share/lintian/overrides/" + plugin:     "-rw-r--r--",
}

// debContents lists the paths of the package deb (directories end in "/")
// with their modes, and checks that every one is root's.
func debContents(t *testing.T, deb string) map[string]string {
	t.Helper()
	r := run(t, "/", nil, "dpkg-deb", "-c", deb)
	assert.Assert(t, r.code == 0, r.stderr)
	contents := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
		f := strings.Fields(line)
		assert.Assert(t, len(f) == 6, "dpkg-deb -c line %q", line)
		assert.Check(t, is.Equal(f[1], "root/root"), f[5])
		contents[f[5]] = f[0]
	}
	return contents
}

// checkDeb checks the fields and contents of the Debian package deb for
// arch, whose plugin must be the release binary bin.
func checkDeb(t *testing.T, deb, arch, bin string) {
	t.Helper()
	r := run(t, "/", nil, "dpkg-deb", "-f", deb)
	assert.Assert(t, r.code == 0, r.stderr)
	fields := map[string]string{}
	for _, line := range strings.Split(r.stdout, "\n") {
		if k, v, ok := strings.Cut(line, ": "); ok && !strings.HasPrefix(line, " ") {
			fields[k] = v
		}
	}
	assert.Check(t, is.Equal(fields["Package"], plugin))
	assert.Check(t, is.Equal(fields["Version"], testDebVersion))
	assert.Check(t, is.Equal(fields["Architecture"], arch))
	assert.Check(t, is.Equal(fields["Depends"], "docker.io | docker-ce-cli"))
	for _, k := range []string{"Maintainer", "Installed-Size", "Section", "Priority", "Description"} {
		assert.Check(t, fields[k] != "", "field %s missing", k)
	}

	files := map[string]string{}
	for path, mode := range debContents(t, deb) {
		if !strings.HasSuffix(path, "/") {
			files[path] = mode
		}
	}
	assert.Check(t, is.DeepEqual(files, debFiles))

	dir := t.TempDir()
	x := run(t, "/", nil, "dpkg-deb", "-x", deb, dir)
	assert.Assert(t, x.code == 0, x.stderr)
	assert.Check(t, is.Equal(sha256File(t, filepath.Join(dir, "usr/libexec/docker/cli-plugins", plugin)), sha256File(t, bin)),
		"the package's plugin is the release binary %s", filepath.Base(bin))
	doc := filepath.Join(dir, "usr/share/doc", plugin)
	copyright, err := os.ReadFile(filepath.Join(doc, "copyright"))
	assert.NilError(t, err)
	assert.Check(t, is.Contains(string(copyright), "Copyright "))
	f, err := os.Open(filepath.Join(doc, "changelog.gz"))
	assert.NilError(t, err)
	defer f.Close()
	zr, err := gzip.NewReader(f)
	assert.NilError(t, err)
	changelog, err := io.ReadAll(zr)
	assert.NilError(t, err)
	first, _, _ := strings.Cut(string(changelog), "\n")
	assert.Check(t, is.Equal(first, plugin+" ("+testDebVersion+") unstable; urgency=medium"))
}

// dockerCLIs are the docker CLIs of this machine to run the plugin through:
// Docker's (/usr/local/bin here) and Debian's, and the one in PATH.
func dockerCLIs(t *testing.T, path string) []string {
	t.Helper()
	var clis []string
	seen := map[string]bool{}
	candidates := []string{"/usr/local/bin/docker", "/usr/bin/docker"}
	for _, dir := range filepath.SplitList(path) {
		candidates = append(candidates, filepath.Join(dir, "docker"))
	}
	for _, c := range candidates {
		real, err := filepath.EvalSymlinks(c)
		if err != nil || seen[real] {
			continue
		}
		if fi, err := os.Stat(real); err == nil && fi.Mode()&0o111 != 0 {
			seen[real] = true
			clis = append(clis, c)
		}
	}
	if len(clis) == 0 {
		t.Fatalf("no docker CLI found (PATH %s): apt-get install docker.io", path)
	}
	return clis
}

// testDpkg installs deb with dpkg -i, runs "docker picatest version" through
// every docker CLI with an empty DOCKER_CONFIG and no Go in PATH, removes the
// package with dpkg -r and checks that nothing of it is left.
func testDpkg(t *testing.T, deb, commit string) {
	if r := run(t, "/", nil, "dpkg-query", "-W", "-f", "${Status} ${Version}", plugin); r.code == 0 && strings.Contains(r.stdout, " installed ") {
		t.Fatalf("the package %s is installed on this machine (%s): this test installs and removes its own; remove it first with dpkg -r %s", plugin, r.stdout, plugin)
	}
	// The docker CLI takes the first plugin it finds in these directories,
	// before /usr/libexec/docker/cli-plugins.
	for _, dir := range []string{"/usr/local/lib/docker/cli-plugins", "/usr/local/libexec/docker/cli-plugins", "/usr/lib/docker/cli-plugins", "/usr/libexec/docker/cli-plugins"} {
		if _, err := os.Lstat(filepath.Join(dir, plugin)); err == nil {
			t.Fatalf("%s/%s exists and is not the package's (./install.sh --system puts one in /usr/local/lib): the docker CLI would run it; remove it first", dir, plugin)
		}
	}
	contents := debContents(t, deb)
	existed := map[string]bool{}
	for path := range contents {
		_, err := os.Lstat(strings.TrimPrefix(path, "."))
		existed[path] = err == nil
	}

	installed := false
	t.Cleanup(func() {
		if installed {
			if r := run(t, "/", nil, "dpkg", "-r", plugin); r.code != 0 {
				t.Errorf("cleanup: dpkg -r %s: %s%s", plugin, r.stdout, r.stderr)
			}
		}
	})
	r := run(t, "/", nil, "dpkg", "-i", deb)
	installed = r.code == 0
	assert.Assert(t, installed, "dpkg -i %s:\n%s%s", filepath.Base(deb), r.stdout, r.stderr)
	t.Logf("dpkg -i %s:\n%s", filepath.Base(deb), r.stdout)

	q := run(t, "/", nil, "dpkg-query", "-W", "-f", "${Status} ${Version}", plugin)
	assert.Check(t, is.Equal(q.stdout, "install ok installed "+testDebVersion))
	l := run(t, "/", nil, "dpkg", "-L", plugin)
	assert.Check(t, is.Contains(l.stdout, systemPlugin+"\n"))
	fi, err := os.Stat(systemPlugin)
	assert.Assert(t, err)
	assert.Check(t, is.Equal(fi.Mode().Perm(), os.FileMode(0o755)))

	noGo := pathWithoutGo(t)
	clis := dockerCLIs(t, noGo)
	for _, cli := range clis {
		e := env("PATH="+noGo, "DOCKER_CONFIG="+t.TempDir())
		v := run(t, "/", e, cli, "picatest", "version", "--short")
		assert.Check(t, is.Equal(v.code, 0), "%s picatest version --short: %s", cli, v.stderr)
		assert.Check(t, is.Equal(strings.TrimSpace(v.stdout), testVersion), "%s picatest version --short", cli)
		v = run(t, "/", e, cli, "picatest", "version")
		assert.Check(t, is.Contains(v.stdout, "docker picatest version "+testVersion+", commit "+commit+","), cli)
		t.Logf("%s picatest version (PATH %s, empty DOCKER_CONFIG): %s", cli, noGo, strings.TrimSpace(v.stdout))
	}

	r = run(t, "/", nil, "dpkg", "-r", plugin)
	installed = r.code != 0
	assert.Assert(t, !installed, "dpkg -r %s:\n%s%s", plugin, r.stdout, r.stderr)
	t.Logf("dpkg -r %s:\n%s", plugin, r.stdout)

	s := run(t, "/", nil, "dpkg", "-s", plugin)
	assert.Check(t, s.code != 0, "dpkg still knows %s after dpkg -r:\n%s", plugin, s.stdout)
	for path := range contents {
		if existed[path] {
			continue
		}
		_, err := os.Lstat(strings.TrimPrefix(path, "."))
		assert.Check(t, errors.Is(err, os.ErrNotExist), "%s left behind by dpkg -r (%v)", path, err)
	}
	for _, cli := range clis {
		v := run(t, "/", env("PATH="+noGo, "DOCKER_CONFIG="+t.TempDir()), cli, "picatest", "version", "--short")
		assert.Check(t, v.code != 0, "%s picatest still answers after dpkg -r: %s", cli, v.stdout)
	}
}

// checkInstalled checks that install.sh, which printed r, installed the
// release binary bin into the DOCKER_CONFIG cfg and ran it.
func checkInstalled(t *testing.T, r result, cfg, bin, commit string) {
	t.Helper()
	dest := filepath.Join(cfg, "cli-plugins", plugin)
	assert.Check(t, is.Contains(r.stdout, "Installed "+dest+"\n"))
	assert.Check(t, is.Contains(r.stdout, "docker picatest version "+testVersion+", commit "+commit+", "))
	fi, err := os.Stat(dest)
	assert.Assert(t, err)
	assert.Check(t, is.Equal(fi.Mode().Perm(), os.FileMode(0o755)))
	assert.Check(t, is.Equal(sha256File(t, dest), sha256File(t, bin)), "the installed plugin is %s", filepath.Base(bin))
}
