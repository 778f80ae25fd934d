package server_test

import (
	"errors"
	"testing"

	"github.com/regkit/regkit/transport"
)

// TestErrorBodies checks the JSON body of a backend's coded errors: a bare
// sentinel, an error with a message, and one with a cause, whose text is
// the message (the cause itself never goes on the wire).
func TestErrorBodies(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"bare sentinel", transport.ErrDenied, `{"errors":[{"code":"DENIED","message":"denied"}]}`},
		{"message", transport.Errorf(transport.CodeDenied, "not you"), `{"errors":[{"code":"DENIED","message":"not you"}]}`},
		{"cause", transport.Wrap(transport.CodeDenied, errors.New("policy says no")), `{"errors":[{"code":"DENIED","message":"policy says no"}]}`},
		{"message and cause", &transport.Error{Code: transport.CodeDenied, Message: "tags", Err: errors.New("policy says no")}, `{"errors":[{"code":"DENIED","message":"tags: policy says no"}]}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, rep, srv, _ := newSrvStub(t, false, func(s *stubBackend) { s.listTagsErr = tc.err })
			resp := doRequest(t, srv, "GET", rep.Replace("/v2/demo/tags/list"), nil, "")
			if resp.StatusCode != 403 || string(resp.body) != tc.want {
				t.Errorf("GET tags = %d %s, want 403 %s", resp.StatusCode, resp.body, tc.want)
			}
		})
	}
}
