package konghost

import (
	"fmt"

	pb "github.com/Kong/go-pdk/server/kong_plugin_protocol"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"
)

// unwrapValue reads a Value as Kong's pb_unwrap does: bool_value or
// string_value or number_value or null_value. So false becomes nil, a null
// becomes the string "NULL_VALUE" (enums decode by name), and lists and
// structs, which that expression never reaches, become nil (spec §2.5).
func unwrapValue(v *structpb.Value) any {
	if v == nil {
		return nil
	}
	switch k := v.Kind.(type) {
	case *structpb.Value_BoolValue:
		if k.BoolValue {
			return true
		}
		return nil
	case *structpb.Value_StringValue:
		return k.StringValue
	case *structpb.Value_NumberValue:
		return k.NumberValue
	case *structpb.Value_NullValue:
		return "NULL_VALUE"
	}
	return nil
}

// wrapValue encodes a Lua value as a Value result: nil is null_value,
// tables become lists or structs.
func wrapValue(v any) (proto.Message, error) {
	if v == nil {
		return structpb.NewNullValue(), nil
	}
	out, err := structpb.NewValue(v)
	if err != nil {
		return nil, fmt.Errorf("encode value: %w", err)
	}
	return out, nil
}

// setKV assigns a KV into a Lua table: a nil value deletes the key.
func setKV(m *map[string]any, a *pb.KV) {
	if *m == nil {
		*m = map[string]any{}
	}
	v := unwrapValue(a.V)
	if v == nil {
		delete(*m, a.K)
		return
	}
	(*m)[a.K] = v
}
