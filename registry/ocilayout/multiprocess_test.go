package ocilayout_test

import (
	"fmt"
	"os"
	"os/exec"
	"testing"

	"github.com/regkit/regkit/registry/ocilayout"
	"github.com/regkit/regkit/transport"
)

// The environment variables by which TestTwoProcessesTag asks the test
// binary it runs to be one of its writers.
const (
	writerDirEnv  = "REGKIT_OCILAYOUT_WRITER_DIR"
	writerNameEnv = "REGKIT_OCILAYOUT_WRITER_NAME"
)

// tagsPerWriter is how many tags each writer process pushes.
const tagsPerWriter = 200

// TestTwoProcessesTag runs two processes (this test binary, run again) that
// each push 200 tags into one repository of one directory at the same time,
// and checks that all 400 tags are there: writers in different processes do
// not lose one another's index.json updates.
func TestTwoProcessesTag(t *testing.T) {
	if dir := os.Getenv(writerDirEnv); dir != "" {
		writeTags(t, dir, os.Getenv(writerNameEnv))
		return
	}
	if testing.Short() {
		t.Skip("runs two processes")
	}
	if !ocilayout.FileLocking {
		t.Skip("no file locking on this system")
	}
	t.Parallel()
	dir := t.TempDir()
	var cmds []*exec.Cmd
	for _, name := range []string{"a", "b"} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestTwoProcessesTag$", "-test.count=1")
		cmd.Env = append(os.Environ(), writerDirEnv+"="+dir, writerNameEnv+"="+name)
		cmds = append(cmds, cmd)
	}
	outs := make([]chan []byte, len(cmds))
	for i, cmd := range cmds {
		outs[i] = make(chan []byte, 1)
		go func() {
			out, err := cmd.CombinedOutput()
			if err != nil {
				out = fmt.Appendf(out, "\n%v", err)
			}
			outs[i] <- out
		}()
	}
	for i := range cmds {
		if out := <-outs[i]; cmds[i].ProcessState == nil || !cmds[i].ProcessState.Success() {
			t.Fatalf("writer %d failed:\n%s", i, out)
		}
	}
	s, err := ocilayout.NewStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got := listTags(t, s, "app")
	if len(got) != 2*tagsPerWriter {
		t.Errorf("after two processes pushed %d tags each: %d tags kept, want %d", tagsPerWriter, len(got), 2*tagsPerWriter)
	}
}

// writeTags is a writer process of TestTwoProcessesTag: it pushes one image
// under tagsPerWriter tags named after name.
func writeTags(t *testing.T, dir, name string) {
	s, err := ocilayout.NewStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	img := newImage(t, 1, nil)
	for i := range tagsPerWriter {
		push(t, s, "app", img, fmt.Sprintf("%s%d", name, i))
	}
}

// listTags returns every tag of repo.
func listTags(t *testing.T, s *ocilayout.Store, repo string) []string {
	t.Helper()
	page, err := s.ListTags(t.Context(), repo, transport.PageRequest{})
	if err != nil {
		t.Fatalf("ListTags(%s) = %v", repo, err)
	}
	return page.Items
}

// TestTwoStoresTag is TestTwoProcessesTag within one process: two Stores
// over one directory, each pushing tags from its own goroutine, lose none.
func TestTwoStoresTag(t *testing.T) {
	t.Parallel()
	if !ocilayout.FileLocking {
		t.Skip("no file locking on this system")
	}
	dir := t.TempDir()
	const perStore = 50
	errs := make(chan error, 2)
	for _, name := range []string{"a", "b"} {
		img := newImage(t, 1, nil)
		go func() {
			s, err := ocilayout.NewStore(dir)
			if err != nil {
				errs <- err
				return
			}
			defer s.Close()
			for i := range perStore {
				if _, err := pushErr(t.Context(), s, "app", img, fmt.Sprintf("%s%d", name, i)); err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	for range 2 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	s, err := ocilayout.NewStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got := listTags(t, s, "app"); len(got) != 2*perStore {
		t.Errorf("after two Stores pushed %d tags each: %d tags kept, want %d", perStore, len(got), 2*perStore)
	}
}
