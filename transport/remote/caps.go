package remote

import (
	"net/http"
	"strconv"
	"sync/atomic"
)

// tri is what a Client knows of one capability of its registry.
type tri int32

const (
	triUnknown tri = iota
	triYes
	triNo
)

func (t tri) String() string {
	switch t {
	case triYes:
		return "yes"
	case triNo:
		return "no"
	}
	return "unknown"
}

// capability is one capability, learned once and then remembered. It is safe for
// concurrent use.
type capability struct{ v atomic.Int32 }

func (c *capability) get() tri  { return tri(c.v.Load()) }
func (c *capability) set(t tri) { c.v.Store(int32(t)) }

// capabilities is what a Client has learned about its registry. Each capability is
// learned from the first response that says it, as a side effect of an
// operation the caller asked for, except DELETE by digest, which
// Client.DeleteTag proves on a manifest of its own before it repoints a
// tag; no operation probes twice.
type capabilities struct {
	// referrers: GET /v2/<name>/referrers/<digest> answers (no: 404).
	referrers capability
	// tagDelete: DELETE /v2/<name>/manifests/<tag> works (no: 405 or 400).
	tagDelete capability
	// singlePOST: POST ?digest= with the blob stores it (no: 202).
	singlePOST capability
	// selfMount: POST ?mount=<d>&from=<name> to the same repository works
	// (no: refused with a 4xx).
	selfMount capability
	// ifMatch: a manifest PUT honours If-Match (yes: a conditional PUT was
	// answered 412). It is never learned to be no: a registry that ignores
	// the header cannot be told from one where the condition held.
	ifMatch capability
	// digestDelete: DELETE /v2/<name>/manifests/<digest> works (no: 405 or
	// UNSUPPORTED, as registries with deletes disabled answer).
	digestDelete capability
	// rangeReq: blob GETs honour Range (no: 200 to a Range request).
	rangeReq capability
	// chunkMin is the largest OCI-Chunk-Min-Length the registry sent.
	chunkMin atomic.Int64
}

// noteChunkMin remembers a chunk minimum the registry sent.
func (c *capabilities) noteChunkMin(n int64) {
	for {
		cur := c.chunkMin.Load()
		if n <= cur || c.chunkMin.CompareAndSwap(cur, n) {
			return
		}
	}
}

// chunkMinOf returns the chunk minimum a session started with resp must
// honour: the OCI-Chunk-Min-Length resp sends, or the largest the registry
// sent before. Only a minimum within the client's limit is remembered, so
// one absurd answer fails its own session, not every later one.
func (c *Client) chunkMinOf(resp *http.Response) int64 {
	known := c.caps.chunkMin.Load()
	n, err := strconv.ParseInt(resp.Header.Get("OCI-Chunk-Min-Length"), 10, 64)
	if err != nil || n <= 0 {
		return known
	}
	if n <= c.maxChunkMin {
		c.caps.noteChunkMin(n)
	}
	return max(known, n)
}
