package schema

import (
	"regexp"
	"strconv"
	"strings"
)

// FieldError is one problem at one path, such as
// `config.windows[1].limit: value should be between 1 and 1000000`.
// Array indexes in paths are 0-based.
type FieldError struct {
	// Path is dotted, with [i] for array elements; the path of a record
	// for its entity checks (config, config.redis).
	Path string
	// Message is Kong's message where Kong has one.
	Message string
	// Entity is set for record-level entity check failures, which Kong
	// reports under "@entity".
	Entity bool
}

func (e *FieldError) Error() string {
	if e.Path == "" {
		return e.Message
	}
	return e.Path + ": " + e.Message
}

// ValidationError is every problem found in a value or a schema. It
// behaves like errors.Join of its FieldErrors: errors.As finds a
// *FieldError, and Error() puts one per line.
type ValidationError struct {
	Errors []*FieldError
}

func (e *ValidationError) Error() string {
	msgs := make([]string, len(e.Errors))
	for i, fe := range e.Errors {
		msgs[i] = fe.Error()
	}
	return strings.Join(msgs, "\n")
}

// Unwrap returns the FieldErrors.
func (e *ValidationError) Unwrap() []error {
	out := make([]error, len(e.Errors))
	for i, fe := range e.Errors {
		out[i] = fe
	}
	return out
}

// Messages returns path → message, messages of one path joined by "; ".
func (e *ValidationError) Messages() map[string]string {
	out := make(map[string]string, len(e.Errors))
	for _, fe := range e.Errors {
		if prev, ok := out[fe.Path]; ok {
			out[fe.Path] = prev + "; " + fe.Message
			continue
		}
		out[fe.Path] = fe.Message
	}
	return out
}

// Summary is Kong's "message" of a schema violation response:
// `schema violation (config.limit: value should be between 1 and 10; …)`.
func (e *ValidationError) Summary() string {
	msgs := make([]string, len(e.Errors))
	for i, fe := range e.Errors {
		msgs[i] = fe.Error()
	}
	return "schema violation (" + strings.Join(msgs, "; ") + ")"
}

var segment = regexp.MustCompile(`[^.\[\]]+|\[\d+\]`)

// Fields nests the errors as Kong's Admin API does in the "fields" member
// of a schema violation: {"config": {"limit": "…", "@entity": ["…"]}}.
// Array elements become JSON arrays with null for the valid ones. Map keys
// that contain dots or brackets are split; Kong has the same ambiguity.
func (e *ValidationError) Fields() map[string]any {
	root := map[string]any{}
	for _, fe := range e.Errors {
		segs := segment.FindAllString(fe.Path, -1)
		if fe.Entity {
			segs = append(segs, "@entity")
		}
		insertError(root, segs, fe.Message, fe.Entity)
	}
	return finishArrays(root).(map[string]any)
}

// insertError builds a tree of maps; "[i]" keys are turned into arrays by
// finishArrays.
func insertError(node map[string]any, segs []string, msg string, list bool) {
	if len(segs) == 0 {
		return
	}
	key := segs[0]
	if len(segs) == 1 {
		if list {
			prev, _ := node[key].([]any)
			node[key] = append(prev, msg)
			return
		}
		if prev, ok := node[key].(string); ok {
			msg = prev + "; " + msg
		}
		node[key] = msg
		return
	}
	child, ok := node[key].(map[string]any)
	if !ok {
		child = map[string]any{}
		node[key] = child
	}
	insertError(child, segs[1:], msg, list)
}

func finishArrays(v any) any {
	m, ok := v.(map[string]any)
	if !ok {
		return v
	}
	indexed, max := true, -1
	for k := range m {
		if len(k) < 3 || k[0] != '[' || k[len(k)-1] != ']' {
			indexed = false
			break
		}
		i, err := strconv.Atoi(k[1 : len(k)-1])
		if err != nil {
			indexed = false
			break
		}
		max = maxInt(max, i)
	}
	if indexed && len(m) > 0 && max < 1<<16 {
		arr := make([]any, max+1)
		for k, child := range m {
			i, _ := strconv.Atoi(k[1 : len(k)-1])
			arr[i] = finishArrays(child)
		}
		return arr
	}
	for k, child := range m {
		m[k] = finishArrays(child)
	}
	return m
}

func maxInt(a, b int) int {
	if a > b {
		return a
	}
	return b
}

// collector accumulates FieldErrors in the order found.
type collector struct {
	errs []*FieldError
}

func (c *collector) add(path, msg string) {
	c.errs = append(c.errs, &FieldError{Path: path, Message: msg})
}

func (c *collector) addEntity(path, msg string) {
	c.errs = append(c.errs, &FieldError{Path: path, Message: msg, Entity: true})
}

func (c *collector) err() error {
	if len(c.errs) == 0 {
		return nil
	}
	return &ValidationError{Errors: c.errs}
}
