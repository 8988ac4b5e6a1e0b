package guard

import "strings"

// expand turns a phrase template into the phrases it stands for:
// "{a|b}" is a required choice, "[a|b]" an optional one. Templates are
// the built-in lists' shorthand; configured phrases are taken literally.
func expand(tmpl string) []string {
	out := []string{""}
	for len(tmpl) > 0 {
		i := strings.IndexAny(tmpl, "{[")
		if i < 0 {
			out = appendEach(out, []string{tmpl})
			break
		}
		if i > 0 {
			out = appendEach(out, []string{tmpl[:i]})
		}
		closer := "}"
		if tmpl[i] == '[' {
			closer = "]"
		}
		j := strings.Index(tmpl[i:], closer)
		if j < 0 {
			out = appendEach(out, []string{tmpl[i:]})
			break
		}
		alts := strings.Split(tmpl[i+1:i+j], "|")
		if closer == "]" {
			alts = append(alts, "")
		}
		out = appendEach(out, alts)
		tmpl = tmpl[i+j+1:]
	}
	for k, s := range out {
		out[k] = strings.Join(strings.Fields(s), " ")
	}
	return out
}

func appendEach(prefixes, alts []string) []string {
	out := make([]string, 0, len(prefixes)*len(alts))
	for _, p := range prefixes {
		for _, a := range alts {
			out = append(out, p+a)
		}
	}
	return out
}
