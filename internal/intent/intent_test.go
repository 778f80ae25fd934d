package intent_test

import (
	"context"
	"reflect"
	"testing"

	"github.com/regkit/regkit/internal/intent"
	"github.com/regkit/regkit/registry/fake"
	"github.com/regkit/regkit/transport"
	"github.com/regkit/regkit/transport/remote"
)

func TestPushAndPull(t *testing.T) {
	t.Parallel()
	cl, err := remote.New("Reg.Example:443")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		t    transport.Transport
		want []intent.Hint
	}{
		{"HTTP client: keyed by its origin", cl, []intent.Hint{
			{Origin: "https://reg.example", Scope: intent.Scope{Resource: "repository:team/app", Actions: []string{"pull", "push"}}},
			{Origin: "https://reg.example", Scope: intent.Scope{Resource: "repository:lib/base", Actions: []string{"pull"}}},
		}},
		{"in memory: no token server, no hints", fake.NewStore(), nil},
		{"nil", nil, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := intent.Pull(intent.Push(context.Background(), tc.t, "team/app"), tc.t, "lib/base")
			if got := intent.Hints(ctx); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("hints = %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestWithCopiesAndAddsUp(t *testing.T) {
	t.Parallel()
	acts := []string{"pull"}
	parent := intent.With(context.Background(), intent.Hint{Scope: intent.Scope{Resource: "repository:a", Actions: acts}})
	child := intent.With(parent, intent.Hint{Scope: intent.Scope{Resource: "repository:b", Actions: []string{"push"}}})
	acts[0] = "delete"
	want := []intent.Hint{
		{Scope: intent.Scope{Resource: "repository:a", Actions: []string{"pull"}}},
		{Scope: intent.Scope{Resource: "repository:b", Actions: []string{"push"}}},
	}
	if got := intent.Hints(child); !reflect.DeepEqual(got, want) {
		t.Errorf("hints = %+v, want %+v", got, want)
	}
	if got := intent.Hints(parent); len(got) != 1 {
		t.Errorf("the parent has %d hints, want 1", len(got))
	}
}
