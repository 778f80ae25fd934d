package remote

import (
	"encoding/json"
	"errors"
	"net/url"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/regkit/regkit/transport"
)

// The client's limits on what a registry's answers may make it hold or do.
// No real registry comes near them; a broken or hostile one stops there with
// a [*transport.LimitError] instead of taking the client's memory or time.
const (
	// DefaultMaxListSize is the largest tags or catalog page the client
	// reads, in bytes once decompressed (see [WithMaxListSize]): 32 MiB,
	// many times the largest pages real registries send, which name up to
	// some ten thousand tags, with details on some registries.
	DefaultMaxListSize = 32 << 20
	// DefaultMaxListEntries is the most tags or repositories the client
	// takes from one page (see [WithMaxListEntries]): 1,000,000.
	DefaultMaxListEntries = 1_000_000
	// MaxReferrersPerPage is the most descriptors the client takes from one
	// page of referrers, or from a referrers fallback index: 100,000. A
	// real page is bounded by its size (see [WithMaxManifestSize]) to far
	// fewer.
	MaxReferrersPerPage = 100_000
	// DefaultMaxChunkMin is the largest chunk minimum (the
	// OCI-Chunk-Min-Length header of an upload session) the client honours
	// where it must hold a chunk in memory, for a blob of unknown size or
	// a [transport.BlobWriter], unless the chunk size (see [WithChunkSize]) is
	// larger: 256 MiB.
	DefaultMaxChunkMin = 256 << 20
)

// limitedNames is a JSON array of names read with a limit on its entries: it
// counts them before it decodes any, so that a page of a million tiny
// entries costs nothing past the limit. Several limitedNames may share items,
// and the limit. The error of a page over the limit names the request:
// what of the URL u, made only then.
type limitedNames struct {
	items *[]string
	max   int
	u     *url.URL
	what  string
}

func (n limitedNames) UnmarshalJSON(raw []byte) error {
	var got []string
	if err := decodeArray(raw, &got, n.max-len(*n.items), "", "WithMaxListEntries"); err != nil {
		var le *transport.LimitError
		if errors.As(err, &le) {
			le.What, le.Limit = "GET "+redact(n.u)+": "+n.what, int64(n.max)
		}
		return err
	}
	if *n.items == nil {
		*n.items = got
		return nil
	}
	*n.items = append(*n.items, got...)
	return nil
}

// limitedDescs is the "manifests" array of a referrers index, read with a limit
// of MaxReferrersPerPage descriptors.
type limitedDescs []ocispec.Descriptor

func (d *limitedDescs) UnmarshalJSON(raw []byte) error {
	return decodeArray(raw, (*[]ocispec.Descriptor)(d), MaxReferrersPerPage, "referrers index", "")
}

// limitedIndex is an image index whose manifests are read with a limit.
type limitedIndex struct {
	ocispec.Index
	Manifests limitedDescs `json:"manifests"`
}

// decodeIndex decodes a referrers index, holding no more than
// MaxReferrersPerPage descriptors.
func decodeIndex(raw []byte) (ocispec.Index, error) {
	var ix limitedIndex
	if err := json.Unmarshal(raw, &ix); err != nil {
		return ocispec.Index{}, err
	}
	ix.Index.Manifests = ix.Manifests
	return ix.Index, nil
}

// decodeArray decodes the JSON array (or null) raw into out, after
// counting its entries, and fails with a *LimitError, having decoded
// nothing, when there are more than max: it reads raw up to the first
// entry past max and allocates nothing to count.
func decodeArray[T any](raw []byte, out *[]T, max int, what, option string) error {
	n := countEntries(raw, max+1)
	if n > max {
		return &transport.LimitError{What: what, Unit: "entries", Limit: int64(max), Option: option}
	}
	if names, ok := any(out).(*[]string); ok && *names == nil {
		if got, ok := plainStrings(raw, n); ok {
			*names = got
			return nil
		}
	}
	if *out == nil && n > 0 {
		*out = make([]T, 0, n) // encoding/json fills it without growing it
	}
	return json.Unmarshal(raw, out)
}

// plainStrings decodes raw, a JSON array of n entries that encoding/json
// has checked is valid, when every entry is a string of printable ASCII
// without escapes, as tags and repository names are by their grammar:
// what json.Unmarshal would decode, with one allocation for all the
// strings (they share one copy of raw) instead of one each. ok is false
// for anything else (null, escapes, other bytes, other values), which
// json.Unmarshal decodes.
func plainStrings(raw []byte, n int) (out []string, ok bool) {
	i := skipSpace(raw, 0)
	if i == len(raw) || raw[i] != '[' {
		return nil, false
	}
	all := string(raw)
	out = make([]string, 0, n)
	i = skipSpace(raw, i+1)
	if i < len(raw) && raw[i] == ']' {
		return out, skipSpace(raw, i+1) == len(raw)
	}
	for i < len(raw) && raw[i] == '"' {
		start := i + 1
		for i = start; i < len(raw) && raw[i] != '"'; i++ {
			if c := raw[i]; c < 0x20 || c > 0x7e || c == '\\' {
				return nil, false
			}
		}
		if i == len(raw) {
			return nil, false
		}
		out = append(out, all[start:i])
		i = skipSpace(raw, i+1)
		if i == len(raw) {
			return nil, false
		}
		switch raw[i] {
		case ']':
			return out, skipSpace(raw, i+1) == len(raw)
		case ',':
			i = skipSpace(raw, i+1)
		default:
			return nil, false
		}
	}
	return nil, false
}

// skipSpace returns the index of the first byte of raw from i on that is
// not JSON white space.
func skipSpace(raw []byte, i int) int {
	for i < len(raw) && (raw[i] == ' ' || raw[i] == '\t' || raw[i] == '\n' || raw[i] == '\r') {
		i++
	}
	return i
}

// countEntries counts the entries of the JSON array raw, which
// encoding/json has checked is valid JSON, stopping at stop.
func countEntries(raw []byte, stop int) int {
	n, depth := 0, 0
	expect, inString, escaped := false, false, false
	for _, b := range raw {
		if inString {
			switch {
			case escaped:
				escaped = false
			case b == '\\':
				escaped = true
			case b == '"':
				inString = false
			}
			continue
		}
		switch b {
		case ' ', '\t', '\n', '\r':
			continue
		case ']', '}':
			depth--
			continue
		case ',':
			expect = depth == 1
			continue
		}
		// b starts a value, or goes on with a number or literal.
		if depth == 1 && expect {
			if n++; n >= stop {
				return n
			}
			expect = false
		}
		switch b {
		case '[', '{':
			if depth++; depth == 1 {
				expect = true
			}
		case '"':
			inString = true
		}
	}
	return n
}
