// Package contention pushes referrers of one subject from many concurrent
// clients and counts those that end up missing from the subject's
// referrers list: the measurement behind the referrers fallback's
// concurrency guarantee, shared by the in-process tests and the end-to-end
// tests against real registries.
package contention

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"sync"

	"github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/regkit/regkit/transport"
)

// Result counts what a run of [PushReferrers] left behind.
type Result struct {
	// Pushed is how many referrer pushes reported success.
	Pushed int
	// Errors is how many referrer pushes reported an error.
	Errors int
	// Listed is how many referrers the subject lists at the end.
	Listed int
	// Lost is how many referrers whose push reported success are not
	// listed at the end: the ones lost silently.
	Lost int
	// FirstErr is the first error a push reported, if any.
	FirstErr error
}

// String reports the counts.
func (r Result) String() string {
	return fmt.Sprintf("pushed %d, errors %d, listed %d, lost %d", r.Pushed, r.Errors, r.Listed, r.Lost)
}

// PushReferrers pushes a subject manifest to repo, then has pushers
// goroutines, each with its own client from newClient (as separate
// processes would), push per referrers of it each, all at once, and lists
// the referrers at the end with a fresh client.
func PushReferrers(ctx context.Context, newClient func() transport.Transport, repo string, pushers, per int) (Result, error) {
	setup := newClient()
	empty := ocispec.DescriptorEmptyJSON
	if err := setup.PutBlob(ctx, repo, empty, bytes.NewReader(empty.Data)); err != nil {
		return Result{}, fmt.Errorf("push the empty config: %w", err)
	}
	subjectBody, err := manifest("subject", nil)
	if err != nil {
		return Result{}, err
	}
	subject, err := setup.PutManifest(ctx, repo, "subject", ocispec.MediaTypeImageManifest, subjectBody, nil)
	if err != nil {
		return Result{}, fmt.Errorf("push the subject: %w", err)
	}
	var (
		mu     sync.Mutex
		res    Result
		pushed = map[digest.Digest]bool{}
		wg     sync.WaitGroup
	)
	for p := range pushers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := newClient()
			for i := range per {
				body, err := manifest(fmt.Sprintf("referrer %d/%d", p, i), &subject)
				if err == nil {
					_, err = c.PutManifest(ctx, repo, digest.FromBytes(body).String(), ocispec.MediaTypeImageManifest, body, nil)
				}
				mu.Lock()
				if err != nil {
					res.Errors++
					if res.FirstErr == nil {
						res.FirstErr = err
					}
				} else {
					res.Pushed++
					pushed[digest.FromBytes(body)] = true
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	lister := newClient()
	req := transport.PageRequest{}
	for {
		pg, err := lister.ListReferrers(ctx, repo, subject.Digest, "", req)
		if err != nil {
			return res, fmt.Errorf("list the referrers: %w", err)
		}
		res.Listed += len(pg.Items)
		for _, d := range pg.Items {
			delete(pushed, d.Digest)
		}
		if pg.Next == "" {
			break
		}
		req = transport.PageRequest{Next: pg.Next}
	}
	res.Lost = len(pushed)
	return res, nil
}

// manifest returns an artifact manifest with an empty config, annotated
// with name so that each is different, and subject if not nil.
func manifest(name string, subject *ocispec.Descriptor) ([]byte, error) {
	return json.Marshal(ocispec.Manifest{
		Versioned:    specs.Versioned{SchemaVersion: 2},
		MediaType:    ocispec.MediaTypeImageManifest,
		ArtifactType: "application/vnd.example.contention",
		Config:       ocispec.DescriptorEmptyJSON,
		Layers:       []ocispec.Descriptor{ocispec.DescriptorEmptyJSON},
		Subject:      subject,
		Annotations:  map[string]string{"name": name},
	})
}
