// Package configfiles implements SPEC §3.2: every file from inside the
// project that reaches a container and contains a production hostname
// reaches it rewritten (by a transforms.Rewriter, i.e. the test-URLs rule),
// while the original file is only read, never written.
//
// The rewritten text travels inside the Compose model, as a top-level config
// with inline `content:`. Compose copies such a config into the container
// through the Engine API when the container is created (CopyToContainer, see
// docker/compose pkg/compose/secrets.go), so no temporary file is written on
// the host and it works with a remote daemon too.
//
// What is rewritten:
//
//   - A bind mount (service volume of type "bind") of a regular text file
//     inside the project whose text contains a production hostname: the
//     volume is removed and replaced by a service config reference
//     {source: <key>, target: <volume target>, mode: <file permission bits>}
//     to a top-level config <key> with name <project>_picatest_<hash> and the
//     rewritten text as content. The key is
//     picatest_<relative path, sanitized>_<first 8 hex digits of sha256(relative path)>,
//     so a file mounted by many services becomes a single config.
//   - A bind mount of a directory inside the project that holds at least one
//     such text file: the whole volume is replaced by one config per file
//     under it (recursively, relative paths and permission bits preserved),
//     rewritten or not, so that the container sees the same tree. Binary
//     files (a NUL byte, or not valid UTF-8) and files bigger than
//     Options.MaxFileSize pass byte for byte. A symbolic link under the
//     directory that resolves to a regular file inside the project is
//     delivered as a copy of that file. Limits: empty directories are lost;
//     an empty file cannot travel as inline content (Compose skips empty
//     content), so it becomes a `file:` config, which Compose bind-mounts
//     read-only from the original path (a local daemon is then needed for
//     that file); any other entry (a symlink leaving the project or to a
//     directory, a socket...) cannot be reproduced and is an error naming
//     it, as is a directory with more than Options.MaxDirFiles files.
//   - A bind-mounted file listed in Options.Copy (the example swapped in
//     for a bind-mounted secrets file, SPEC §3.3) is replaced the same way
//     whether it holds a production hostname or not: a secrets example
//     never reaches a container as a bind mount of the working tree.
//   - Top-level `configs:` with `file:` inside the project: file is cleared
//     and content set to the rewritten text (name, labels kept).
//   - Top-level `secrets:` with `file:` inside the project: Compose v5 does
//     not support inline `content:` for secrets (it would still bind-mount
//     the empty `file:`, i.e. the current directory), so the rewritten text
//     is put in the project environment (Project.Environment, never printed
//     by `config`) under PICATEST_SECRET_<hash> and the secret is switched
//     to `environment: PICATEST_SECRET_<hash>`, which Compose copies into
//     the container like inline content. The secret stays a secret: its text
//     does not appear in the YAML or JSON model.
//   - For configs and secrets, a service reference without `mode:` gets the
//     permission bits of the original file (as the bind mount Compose used
//     showed them), instead of Compose's 0444 default for copied content.
//
// Every file is read bounded (treefile): one that is no longer a regular
// file, or is bigger than treefile.TextFile, when read is an exit-2 error
// naming it.
//
// What is left as is: files and directories without a production hostname,
// anything outside the project directory (after resolving symbolic links: a
// link inside the project that points outside it is not followed and is
// left untouched), named volumes, tmpfs, sources that do not exist, single
// files bigger than Options.MaxFileSize or binary, external configs and
// secrets, `file:` configs or secrets that are directories.
//
// Semantics that change, and are accepted for a test: the container gets a
// copy, so writes to a replaced mount (even a writable one, directories
// included) no longer reach the working tree, which is what SPEC §5 wants
// anyway; a change is reported for it as for any other. Copied files belong
// to root in the container (Compose's default; the bind mount showed the
// host owner's uid). Copying into the container fails for a `read_only:
// true` service, so Transform returns an error naming the service and the
// file in that case.
//
// Reporting: Transform returns one transforms.Change per rewritten file and
// per place it reaches: Transform "config-files", Where "conf/app.ini ->
// services.pad:/etc/app.ini" (or "conf/x.yml -> configs.x", "conf/db.secrets ->
// secrets.db"), Old the file path relative to the project directory, New the
// model entry that now carries the rewritten text ("configs.<key>" or
// "secrets.db"). Changes are sorted. For `config --diff`, TransformWithFiles
// also returns the rewritten files themselves (path, original text,
// rewritten text) from the same scan; Rewritten returns only the files. All
// three run the same scanner, so they agree by construction. The original
// files are read once per call, whatever the number of services mounting
// them; Transform returns no File, so it keeps no original text of a
// rewritten file once it returns.
package configfiles
