package fakellm

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// field is one member of an [object].
type field struct {
	k string
	v any
}

// object is a JSON object that keeps its members in the order the provider
// sends them, so answers read like the real ones.
type object []field

// MarshalJSON implements json.Marshaler.
func (o object) MarshalJSON() ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteByte('{')
	for i, f := range o {
		if i > 0 {
			buf.WriteByte(',')
		}
		k, err := marshal(f.k)
		if err != nil {
			return nil, err
		}
		v, err := marshal(f.v)
		if err != nil {
			return nil, fmt.Errorf("member %q: %w", f.k, err)
		}
		buf.Write(k)
		buf.WriteByte(':')
		buf.Write(v)
	}
	buf.WriteByte('}')
	return buf.Bytes(), nil
}

// marshal encodes without HTML escaping, as the providers do.
func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// mustJSON encodes values built by this package, which always encode.
func mustJSON(v any) []byte {
	b, err := marshal(v)
	if err != nil {
		panic(fmt.Sprintf("fakellm: encode answer: %v", err))
	}
	return b
}

// null is JSON null for object members that must be present.
var null = json.RawMessage("null")
