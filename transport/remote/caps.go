package remote

import (
	"net/http"
	"strconv"
	"sync"
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

// learn sets the capability to t unless it is already known.
func (c *capability) learn(t tri) { c.v.CompareAndSwap(int32(triUnknown), int32(t)) }

// probe lets one caller at a time send the request that settles a
// capability, and the others wait for it. It is safe for concurrent use.
type probe struct {
	mu   sync.Mutex
	busy chan struct{} // closed when the probe under way ends; nil when none is
}

// claim returns a channel closed when the probe under way ends, if one
// is; otherwise it makes the caller the prober, who calls release when
// done, and returns nil.
func (p *probe) claim() (wait <-chan struct{}) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.busy != nil {
		return p.busy
	}
	p.busy = make(chan struct{})
	return nil
}

// release ends the probe under way, waking those waiting for it.
func (p *probe) release() {
	p.mu.Lock()
	defer p.mu.Unlock()
	close(p.busy)
	p.busy = nil
}

// capabilities is what a Client has learned about its registry. Each capability is
// learned from the first response that says it, as a side effect of an
// operation the caller asked for, except DELETE by digest, which
// Client.DeleteTag proves on a manifest of its own before it repoints a
// tag, and selfMount, which one HEAD settles after the first ambiguous
// 202; no operation probes twice.
type capabilities struct {
	// referrers: GET /v2/<name>/referrers/<digest> answers (no: 404).
	referrers capability
	// tagDelete: DELETE /v2/<name>/manifests/<tag> works (no: 405 or 400).
	tagDelete capability
	// singlePOST: POST ?digest= with the blob stores it (no: 202).
	singlePOST capability
	// selfMount: POST ?mount=<d>&from=<name> to the same repository tells
	// whether the repository has blob d: 201 yes, 202 no. yes: the
	// registry mounted a blob (201), or the first 202 to a layer was
	// followed by a HEAD of it that answered 404 (a 202 for a blob the
	// repository lacks is the same whether the registry mounts or not, so
	// this takes a registry that ignores mounts for one that mounts when
	// the first layer asked about is missing). no: the registry refused
	// such a mount with a 4xx (not 404, 401, 403 or 429), or the first 202
	// to a layer was followed by a HEAD that answered 200 (it ignores
	// mounts); Client.PutBlob then asks with a HEAD alone. A 202 to an
	// image config settles nothing (configs are almost always new). The
	// one HEAD that settles it after a 202 is the only request a Client
	// spends on learning a capability; mountProbe serialises it.
	selfMount capability
	// mountProbe lets one upload at a time send the HEAD that settles
	// selfMount after a 202; the others wait for its answer.
	mountProbe probe
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
