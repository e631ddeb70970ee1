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
//   - The production domain matches case-insensitively; only the matched
//     domain is replaced, by the test domain in lower case, and the rest of
//     the string stays byte-identical ("PAD.PicaSoft.NET" becomes
//     "PAD.test.picasoft.net").
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
//     an e-mail domain (preceded by "@": "admin@picasoft.net");
//     a path segment (preceded by a single "/" that is not part of "//":
//     "/etc/letsencrypt/live/picasoft.net/cert.pem", while
//     "https://pad.picasoft.net/path" is rewritten);
//     already under the test domain (equal to it or ending in "."+test,
//     ignoring case and escapes), which makes Rewrite idempotent, never
//     producing "x.test.test.picasoft.net";
//     one of the hosts to keep (e.g. "registry.picasoft.net"), compared
//     case-insensitively.
//
// Note that URL user information ("smtp://user@mail.picasoft.net") looks
// like an e-mail address and is therefore kept.
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
// domainname, network aliases and x- extensions, and on the project's x-
// extensions. It never touches image names, file paths (volumes, env_file,
// build context and dockerfile, configs and secrets files), container names
// or anything else.
package testurls
