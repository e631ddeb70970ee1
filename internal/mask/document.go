package mask

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"go.yaml.in/yaml/v4"
)

// JSON returns the JSON document doc with its string scalars (and object
// keys) masked by structure (see Value): the masked document is valid JSON
// with the same types and, when nothing is masked, doc itself, byte for
// byte. Numbers, booleans and nulls are not touched, but for a number that
// holds a long secret (see String): it becomes "********".
func (m *Masker) JSON(doc []byte) ([]byte, error) {
	if !m.Masks() {
		return doc, nil
	}
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	var stack []frame
	key := ""
	var out bytes.Buffer
	last, prev := 0, 0
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) && len(stack) == 0 {
			break
		}
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		if err != nil {
			return nil, fmt.Errorf("masking a JSON document: %w", err)
		}
		end := int(dec.InputOffset())
		top := len(stack) - 1
		isKey := top >= 0 && stack[top].object && stack[top].expectKey
		switch t := tok.(type) {
		case json.Delim:
			switch t {
			case '{', '[':
				stack = append(stack, frame{object: t == '{', expectKey: t == '{'})
			case '}', ']':
				stack = stack[:top]
				valueDone(stack)
			}
		case string:
			masked := t
			if isKey {
				masked = m.String(t)
				key = t
				stack[top].expectKey = false
			} else {
				k := ""
				if top >= 0 && stack[top].object {
					k = key
				}
				masked = m.Value(k, t)
				valueDone(stack)
			}
			if masked != t {
				start := prev + bytes.IndexByte(doc[prev:end], '"')
				b, err := json.Marshal(masked)
				if err != nil {
					return nil, err
				}
				out.Write(doc[last:start])
				out.Write(b)
				last = end
			}
		default:
			// A number holding a long secret (see String) becomes the
			// string Masked: the secret never shows.
			if n, ok := t.(json.Number); ok && m.String(n.String()) != n.String() {
				start := prev + bytes.IndexAny(doc[prev:end], "-0123456789")
				out.Write(doc[last:start])
				out.WriteString(`"` + Masked + `"`)
				last = end
			}
			valueDone(stack)
		}
		prev = end
	}
	if last == 0 {
		return doc, nil
	}
	out.Write(doc[last:])
	return out.Bytes(), nil
}

// frame is a container open while reading a JSON document: whether it is
// an object, and whether its next string is a key.
type frame struct{ object, expectKey bool }

// valueDone records that a value of the innermost open container was read:
// in an object, the next string is a key.
func valueDone(stack []frame) {
	if n := len(stack); n > 0 && stack[n-1].object {
		stack[n-1].expectKey = true
	}
}

// YAML returns the YAML document doc with its string scalars (and mapping
// keys) masked by structure (see Value): the masked document is valid YAML
// with the same types (a masked value is quoted) and, when nothing is
// masked, doc itself. Numbers, booleans and nulls are not touched, but for
// a number that holds a long secret (see String): it becomes "********".
func (m *Masker) YAML(doc []byte) ([]byte, error) {
	if !m.Masks() {
		return doc, nil
	}
	var root yaml.Node
	if err := yaml.Unmarshal(doc, &root); err != nil {
		return nil, fmt.Errorf("masking a YAML document: %w", err)
	}
	if !m.node(&root, "") {
		return doc, nil
	}
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(&root); err != nil {
		return nil, fmt.Errorf("masking a YAML document: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// node masks the string scalars under n, key being the mapping key of n,
// and reports whether it changed anything.
func (m *Masker) node(n *yaml.Node, key string) bool {
	changed := false
	switch n.Kind {
	case yaml.DocumentNode, yaml.SequenceNode:
		for _, c := range n.Content {
			changed = m.node(c, "") || changed
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			name := k.Value
			if k.Kind == yaml.ScalarNode && k.ShortTag() == "!!str" {
				if masked := m.String(k.Value); masked != k.Value {
					k.Value, changed = masked, true
				}
			}
			changed = m.node(v, name) || changed
		}
	case yaml.ScalarNode:
		if n.ShortTag() != "!!str" {
			// A number holding a long secret (see String) becomes the
			// string Masked: the secret never shows.
			if m.String(n.Value) != n.Value {
				n.Value, n.Tag, n.Style = Masked, "!!str", 0
				return true
			}
			return false
		}
		if masked := m.Value(key, n.Value); masked != n.Value {
			n.Value, changed = masked, true
		}
	}
	return changed
}
