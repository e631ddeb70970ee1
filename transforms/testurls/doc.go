// Package testurls implements the "test-urls" transform (SPEC §3.1): every
// production hostname (X.<prod> or <prod>, e.g. pad.picasoft.net) found in a
// string that can carry a hostname becomes its test counterpart (X.<test>,
// e.g. pad.test.picasoft.net).
//
// # Matching rules
//
// A Rewriter works on plain strings, so it serves the Compose model
// (Transform) as well as the content of configuration files:
//
//   - The production domain matches case-insensitively and the rewrite
//     keeps the case of what it rewrites: when the test domain ends with the
//     production domain, its extra labels are inserted before the matched
//     domain, which stays as written; otherwise the matched domain is
//     replaced by the whole test domain. What is inserted is in upper case
//     when every letter of the matched domain is upper case, in lower case
//     otherwise, mixed case included ("EXAMPLE.PICASOFT.NET" becomes
//     "EXAMPLE.TEST.PICASOFT.NET", "PAD.PicaSoft.NET" becomes
//     "PAD.test.PicaSoft.NET"). The rest of the string stays byte-identical.
//   - Dots may be regexp-escaped, as in Traefik's HostRegexp:
//     `pad\.picasoft\.net` becomes `pad\.test\.picasoft\.net`; the inserted
//     test domain uses `\.` when the matched domain did.
//   - Matches are on label boundaries. Before the domain comes a dot
//     (subdomain), an escaped dot, or a character that cannot be part of a
//     hostname: "notpicasoft.net", "my-picasoft.net" and "my_picasoft.net"
//     stay. After it comes the end of the string or a character that cannot be
//     part of a hostname; a dot followed by a hostname character continues
//     the host ("picasoft.net.example.com", "pad.picasoft.net.conf" stay), a
//     final sentence dot does not ("see pad.picasoft.net." is rewritten).
//   - The full host is the match extended backwards over hostname
//     characters [A-Za-z0-9_-], dots and escaped dots. It is left unchanged
//     when it is:
//     the domain of a bare e-mail address: preceded by "@", when the "@"
//     does not end the user information of a URL and no path, port or scp
//     path follows the host ("admin@picasoft.net", "mailto:x@picasoft.net",
//     "admin@picasoft.net: see"), while every host a deployment connects
//     to is rewritten: "postgres://u:p@db.picasoft.net/x" (the text before
//     "@", up to a space, quote, bracket or "/", starts after "//"),
//     "backup@backup.picasoft.net:/srv" and "git@git.picasoft.net:team/r.git"
//     (the scp form: ":" then "/", "~", ":" (rsync daemon), a relative path
//     with a "/", a name ending in ".git", or a port), "u@files.picasoft.net/x";
//     a path segment (preceded by a single "/" that is not part of "//":
//     "/etc/letsencrypt/live/picasoft.net/cert.pem", while
//     "https://pad.picasoft.net/path" is rewritten);
//     already under the test domain (equal to it or ending in "."+test,
//     ignoring case and escapes), which makes Rewrite idempotent, never
//     producing "x.test.test.picasoft.net";
//     one of the hosts to keep (e.g. "registry.picasoft.net"), compared
//     case-insensitively.
//
// Kept lists the production hosts a string keeps, with the rule (Reason).
// WithPaths returns a Rewriter that also rewrites hosts inside paths (for a
// service with x-picatest: {rewrite-paths: true}); ForRules one that also
// rewrites the hosts to keep, for Traefik rules: a rule claims its hosts,
// an image name only refers to one.
//
// Strings that do not contain the first label of the production domain
// (case-insensitively) are returned as is, without allocating. A Rewriter is
// immutable and safe for concurrent use.
//
// # The transform
//
// Transform applies the Rewriter to a copy of a Compose project, on every
// service's labels values, environment values, command, entrypoint,
// healthcheck test, build args values, extra_hosts host names, hostname,
// domainname, network aliases, the command and environment of lifecycle
// hooks (post_start, pre_stop) and x- extensions, and on the project's x-
// extensions; a Traefik rule label with r.ForRules(), the strings of a
// service with x-picatest: {rewrite-paths: true} with r.WithPaths().
// KeptHosts lists the production hosts those strings keep on purpose,
// marking a host kept inside a path while rewritten elsewhere. Transform
// never touches image names, file paths (volumes, env_file,
// build context and dockerfile, configs and secrets files), container names
// or anything else.
package testurls
