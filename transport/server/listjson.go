package server

import (
	"encoding/json"
	"net/http"
)

// tagsJSON is the body of a tags page: {"name":…,"tags":[…]}.
func tagsJSON(name string, tags []string) ([]byte, error) {
	// plainListJSON leaves out an empty name, which "name" needs as "".
	if b, ok := plainListJSON(`{"name":`, name, `,"tags":`, tags); ok && name != "" {
		return b, nil
	}
	return json.Marshal(struct {
		Name string   `json:"name"`
		Tags []string `json:"tags"`
	}{name, tags})
}

// catalogJSON is the body of a catalog page: {"repositories":[…]}.
func catalogJSON(repos []string) ([]byte, error) {
	if b, ok := plainListJSON(`{`, "", `"repositories":`, repos); ok {
		return b, nil
	}
	return json.Marshal(struct {
		Repositories []string `json:"repositories"`
	}{repos})
}

// plainListJSON writes open, the string name unless it is "", key, and
// items as a JSON array, then "}": byte for byte what json.Marshal writes
// of them, without its reflection, when every string is plain (see
// [plainJSONString]), as names and tags are by their grammar. ok is false
// when one is not, for the caller to marshal them.
func plainListJSON(open, name, key string, items []string) (body []byte, ok bool) {
	size := len(open) + len(name) + len(key) + 5
	for _, s := range items {
		if !plainJSONString(s) {
			return nil, false
		}
		size += len(s) + 3
	}
	if name != "" && !plainJSONString(name) {
		return nil, false
	}
	b := make([]byte, 0, size)
	b = append(b, open...)
	if name != "" {
		b = append(b, '"')
		b = append(b, name...)
		b = append(b, '"')
	}
	b = append(b, key...)
	b = append(b, '[')
	for i, s := range items {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '"')
		b = append(b, s...)
		b = append(b, '"')
	}
	return append(b, "]}"...), true
}

// plainJSONString reports whether s is written in JSON as it is, between
// quotes: printable ASCII but for the quote and backslash, which JSON
// escapes, and <, > and &, which json.Marshal escapes for HTML.
func plainJSONString(s string) bool {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c < 0x20 || c > 0x7e, c == '"', c == '\\', c == '<', c == '>', c == '&':
			return false
		}
	}
	return true
}

// writeList answers 200 with body, or fails with err.
func (h *Handler) writeList(w *responseWriter, r *http.Request, body []byte, err error) {
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeBody(w, r, http.StatusOK, "application/json", body)
}
