package transport

import (
	"net/http"
	"strconv"
	"sync/atomic"
)

// clTri is what a Client knows of one capability of its registry.
type clTri int32

const (
	clUnknown clTri = iota
	clYes
	clNo
)

func (t clTri) String() string {
	switch t {
	case clYes:
		return "yes"
	case clNo:
		return "no"
	}
	return "unknown"
}

// clCap is one capability, learned once and then remembered. It is safe for
// concurrent use.
type clCap struct{ v atomic.Int32 }

func (c *clCap) get() clTri  { return clTri(c.v.Load()) }
func (c *clCap) set(t clTri) { c.v.Store(int32(t)) }

// clCaps is what a Client has learned about its registry. Each capability is
// learned from the first response that says it, as a side effect of an
// operation the caller asked for, except DELETE by digest, which
// Client.DeleteTag proves on a manifest of its own before it repoints a
// tag; no operation probes twice.
type clCaps struct {
	// referrers: GET /v2/<name>/referrers/<digest> answers (no: 404).
	referrers clCap
	// tagDelete: DELETE /v2/<name>/manifests/<tag> works (no: 405 or 400).
	tagDelete clCap
	// singlePOST: POST ?digest= with the blob stores it (no: 202).
	singlePOST clCap
	// selfMount: POST ?mount=<d>&from=<name> to the same repository works
	// (no: refused with a 4xx).
	selfMount clCap
	// ifMatch: a manifest PUT honours If-Match (yes: a conditional PUT was
	// answered 412). It is never learned to be no: a registry that ignores
	// the header cannot be told from one where the condition held.
	ifMatch clCap
	// digestDelete: DELETE /v2/<name>/manifests/<digest> works (no: 405 or
	// UNSUPPORTED, as registries with deletes disabled answer).
	digestDelete clCap
	// rangeReq: blob GETs honour Range (no: 200 to a Range request).
	rangeReq clCap
	// chunkMin is the largest OCI-Chunk-Min-Length the registry sent.
	chunkMin atomic.Int64
}

// noteChunkMin remembers a chunk minimum the registry sent.
func (c *clCaps) noteChunkMin(n int64) {
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
