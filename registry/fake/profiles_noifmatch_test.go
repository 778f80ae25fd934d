package fake_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/regkit/regkit/registry/fake"
)

// TestProfileNoIfMatchRaw checks that a server with ProfileNoIfMatch
// stores a manifest put under a tag whatever its If-Match or If-None-Match
// header says, where a plain server answers 412.
func TestProfileNoIfMatchRaw(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		profiles []fake.Profile
		header   string
		value    string
		want     int
	}{
		{name: "If-Match, honoured", header: "If-Match", value: `"` + digest.FromString("other").String() + `"`, want: http.StatusPreconditionFailed},
		{name: "If-Match, ignored", profiles: []fake.Profile{fake.ProfileNoIfMatch}, header: "If-Match", value: `"` + digest.FromString("other").String() + `"`, want: http.StatusCreated},
		{name: "If-Match, ignored, GHCR", profiles: []fake.Profile{fake.ProfileGHCR, fake.ProfileNoIfMatch}, header: "If-Match", value: `"` + digest.FromString("other").String() + `"`, want: http.StatusCreated},
		{name: "If-None-Match, ignored", profiles: []fake.Profile{fake.ProfileNoIfMatch}, header: "If-None-Match", value: "*", want: http.StatusCreated},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := fake.Serve(t, fake.WithProfile(tc.profiles...))
			first := putIndex(t, srv, "v1", "", "")
			if first != http.StatusCreated {
				t.Fatalf("first PUT = %d, want 201", first)
			}
			if got := putIndex(t, srv, "v2", tc.header, tc.value); got != tc.want {
				t.Errorf("PUT with %s: %s = %d, want %d", tc.header, tc.value, got, tc.want)
			}
		})
	}
	if got := fake.ProfileNoIfMatch.String(); got != "NoIfMatch" {
		t.Errorf("ProfileNoIfMatch.String() = %q", got)
	}
}

// putIndex puts an empty index annotated with name under the tag "t" of
// the repository "x", with header set to value if header is not "", and
// returns the status.
func putIndex(t *testing.T, srv *fake.Server, name, header, value string) int {
	t.Helper()
	body, err := json.Marshal(ocispec.Index{
		Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: ocispec.MediaTypeImageIndex,
		Manifests: []ocispec.Descriptor{}, Annotations: map[string]string{"name": name},
	})
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPut, srv.URL+"/v2/x/manifests/t", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", ocispec.MediaTypeImageIndex)
	if header != "" {
		req.Header.Set(header, value)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}
