// Package termsafe shows text that picatest did not write itself (container
// log lines, health-check outputs, engine messages, labels) without letting
// a terminal interpret it: control characters and escape sequences are
// printed as visible escapes, so a line can neither clear the screen, move
// the cursor, print over a verdict, set the clipboard (OSC 52) nor hide a
// link (OSC 8).
//
// What is escaped, by every function of the package:
//   - the C0 control characters (U+0000–U+001F) and DEL as \xNN (ESC as
//     \x1b), except the tab and the line feed where a function keeps them;
//   - the C1 control characters (U+0080–U+009F, such as the one-character
//     CSI U+009B) and the bidirectional formatting characters (U+061C,
//     U+200E, U+200F, U+202A–U+202E, U+2066–U+2069: they reorder what is
//     shown), the line and paragraph separators (U+2028, U+2029) and the
//     non-characters U+FFFE, U+FFFF as \u{XXXX};
//   - each byte that is not valid UTF-8 as \xNN.
//
// Everything else, valid UTF-8 text in any script and the backslash
// included, is kept as it is: a log line that prints a literal `\x1b`
// looks like an escaped ESC, which is harmless.
//
// Tabs are kept in lines (Line, Text): they move the cursor to the next
// tab stop and nothing else, and log lines indented with tabs stay
// readable. String escapes them, for one-line fields such as labels and
// table cells, where a tab would shift the columns.
package termsafe

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// String returns s with every control character escaped, tabs and line
// feeds included: a field (a label, a table cell, one health-check output)
// printed on one line.
func String(s string) string { return escape(s, false, false) }

// Line returns s escaped for a line of output: as String, but tabs are
// kept. A line feed in s is escaped (\x0a): it cannot start a new line
// that looks like picatest's own.
func Line(s string) string { return escape(s, true, false) }

// Text returns s escaped for a multi-line text (an error message, the body
// of a JUnit case): as Line, but line feeds are kept.
func Text(s string) string { return escape(s, true, true) }

// escape is the one rule of the package.
func escape(s string, keepTab, keepNL bool) string {
	if safe(s, keepTab, keepNL) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\t' && keepTab, r == '\n' && keepNL:
			b.WriteRune(r)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		case unsafeRune(r):
			fmt.Fprintf(&b, `\u{%04x}`, r)
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// safe reports whether escape would return s unchanged (the common case:
// no allocation).
func safe(s string, keepTab, keepNL bool) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\t' && keepTab, c == '\n' && keepNL:
		case c < 0x20 || c == 0x7f:
			return false
		case c >= 0x80:
			// Slow path for the rest: multi-byte runes.
			for _, r := range s[i:] {
				if r == utf8.RuneError || r < 0x20 && !(r == '\t' && keepTab || r == '\n' && keepNL) || r == 0x7f || unsafeRune(r) {
					return false
				}
			}
			return true
		}
	}
	return true
}

// unsafeRune reports whether a rune of U+0080 or above is escaped: a C1
// control, a bidirectional formatting character, a line or paragraph
// separator, a non-character.
func unsafeRune(r rune) bool {
	switch {
	case r >= 0x80 && r <= 0x9f:
		return true
	case r == 0x061c, r == 0x200e, r == 0x200f, r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069:
		return true
	case r == 0x2028, r == 0x2029, r == 0xfffe, r == 0xffff:
		return true
	}
	return false
}

// JSON returns the encoded JSON document b with the characters that
// encoding/json writes as they are but a terminal would interpret (DEL, the
// C1 controls, the bidirectional formatting characters) written as \u
// escapes. encoding/json escapes the C0 controls itself (\u001b) and
// replaces invalid UTF-8 with U+FFFD. Outside strings a JSON document is
// ASCII, so every such character is inside a string, where \uXXXX is the
// same character to any reader.
func JSON(b []byte) []byte {
	if safe(string(b), true, true) {
		return b
	}
	out := make([]byte, 0, len(b)+16)
	for i := 0; i < len(b); {
		r, size := utf8.DecodeRune(b[i:])
		if r == 0x7f || (r >= 0x80 && unsafeRune(r)) {
			out = fmt.Appendf(out, `\u%04x`, r)
		} else {
			out = append(out, b[i:i+size]...)
		}
		i += size
	}
	return out
}

// LogConsumer is the part of Compose's api.LogConsumer that Consumer wraps.
type LogConsumer interface {
	Log(containerName, message string)
	Err(containerName, message string)
	Status(container, msg string)
}

// Consumer wraps a Compose log consumer (formatter.NewLogConsumer, which
// prints each line of a message after a coloured prefix) so that the lines
// the containers print reach it escaped (Line, line by line): the prefix
// and colours of Compose are kept, the escapes of the containers are not.
func Consumer(c LogConsumer) LogConsumer { return consumer{c} }

type consumer struct{ c LogConsumer }

func (c consumer) Log(name, message string) { c.c.Log(String(name), lines(message)) }
func (c consumer) Err(name, message string) { c.c.Err(String(name), lines(message)) }

// Status is a message of Compose itself (container started, exited).
func (c consumer) Status(name, msg string) { c.c.Status(String(name), Line(msg)) }

// lines escapes each line of message (Text), keeping the line feeds
// between them (the consumer prints each line with its prefix); the
// carriage return that ends a line of a CRLF text is dropped.
func lines(message string) string {
	if safe(message, true, true) {
		return message
	}
	parts := strings.Split(message, "\n")
	for i, p := range parts {
		parts[i] = Line(strings.TrimSuffix(p, "\r"))
	}
	return strings.Join(parts, "\n")
}
