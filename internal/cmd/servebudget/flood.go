package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/regkit/regkit/internal/slowclient"
)

// flood sends requests to the server at addr.
type flood struct {
	base   string
	client *http.Client
	probe  *http.Client // its own connections, so probes never queue behind the flood's
	conc   int
}

func newFlood(addr string, conc int) *flood {
	return &flood{
		base:   "http://" + addr,
		client: &http.Client{Timeout: time.Minute, Transport: &http.Transport{MaxIdleConnsPerHost: conc}},
		probe:  &http.Client{Timeout: time.Minute, Transport: &http.Transport{}},
		conc:   conc,
	}
}

// do sends one request and returns its status and Location.
func (f *flood) do(ctx context.Context, c *http.Client, method, path, ctype string, body []byte) (int, string, error) {
	req, err := http.NewRequestWithContext(ctx, method, f.base+path, bytes.NewReader(body))
	if err != nil {
		return 0, "", err
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, "", err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, resp.Header.Get("Location"), nil
}

// manifestPath is the manifest the probes GET.
const manifestPath = "/v2/probe/manifests/v1"

// seed pushes the manifest the probes GET: an empty config and no layers.
func (f *flood) seed(ctx context.Context) error {
	config := []byte("{}")
	cd := digest.FromBytes(config)
	if st, _, err := f.do(ctx, f.client, "POST", "/v2/probe/blobs/uploads/?digest="+cd.String(), "application/octet-stream", config); err != nil || st != http.StatusCreated {
		return fmt.Errorf("push the probe's config: %d %v", st, err)
	}
	m := fmt.Sprintf(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":%q,"size":%d},"layers":[]}`, cd, len(config))
	if st, _, err := f.do(ctx, f.client, "PUT", manifestPath, "application/vnd.oci.image.manifest.v1+json", []byte(m)); err != nil || st != http.StatusCreated {
		return fmt.Errorf("push the probe's manifest: %d %v", st, err)
	}
	return nil
}

// session opens an upload session in a repository of its own and sends
// one byte to it, and returns the session's path.
func (f *flood) session(ctx context.Context, i int) (string, error) {
	st, loc, err := f.do(ctx, f.client, "POST", fmt.Sprintf("/v2/flood/r%d/blobs/uploads/", i%100), "", nil)
	if err != nil || st != http.StatusAccepted {
		return "", fmt.Errorf("POST: %d %v", st, err)
	}
	if st, _, err = f.do(ctx, f.client, "PATCH", loc, "application/octet-stream", []byte("x")); err != nil || st != http.StatusAccepted {
		return "", fmt.Errorf("PATCH: %d %v", st, err)
	}
	return loc, nil
}

// sessions opens n abandoned sessions, f.conc at a time, and returns how
// many it opened and how many failed.
func (f *flood) sessions(ctx context.Context, n int) (opened, failed int) {
	var next, ok, bad atomic.Int64
	var wg sync.WaitGroup
	for range f.conc {
		wg.Go(func() {
			for i := next.Add(1) - 1; i < int64(n); i = next.Add(1) - 1 {
				if _, err := f.session(ctx, int(i)); err != nil {
					if bad.Add(1) <= 3 {
						fmt.Println("flood:", err)
					}
					continue
				}
				ok.Add(1)
			}
		})
	}
	wg.Wait()
	return int(ok.Load()), int(bad.Load())
}

// probes GETs /v2/ and the seeded manifest at an interval.
type probes struct {
	quit chan struct{}
	done chan struct{}
	lat  map[string][]time.Duration
	errs map[string]int
}

func startProbes(f *flood, every time.Duration) *probes {
	p := &probes{quit: make(chan struct{}), done: make(chan struct{}),
		lat: map[string][]time.Duration{}, errs: map[string]int{}}
	go func() {
		defer close(p.done)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			for _, path := range []string{"/v2/", manifestPath} {
				start := time.Now()
				st, _, err := f.do(context.Background(), f.probe, "GET", path, "", nil)
				if err != nil || st != http.StatusOK {
					p.errs[path]++
					continue
				}
				p.lat[path] = append(p.lat[path], time.Since(start))
			}
			select {
			case <-p.quit:
				return
			case <-t.C:
			}
		}
	}()
	return p
}

func (p *probes) stop() *probes {
	close(p.quit)
	<-p.done
	return p
}

func (p *probes) print(when string) {
	for _, path := range []string{"/v2/", manifestPath} {
		l := slices.Clone(p.lat[path])
		slices.Sort(l)
		q := func(f float64) float64 {
			if len(l) == 0 {
				return 0
			}
			return float64(l[min(len(l)-1, int(f*float64(len(l))))].Microseconds()) / 1000
		}
		fmt.Printf("%-20s %6d %6.1f %6.1f %6.1f %6.1f %7d  %s\n", when, len(l), q(0.5), q(0.9), q(0.99), q(1), p.errs[path], path)
	}
}

// slowConns are the slow connections, a third of each kind.
type slowConns struct {
	conns []*slowclient.Conn
	open  []atomic.Bool
	quit  chan struct{}
	wg    sync.WaitGroup
}

// openSlow opens n slow connections, and drips a byte into each every
// drip, if drip > 0.
func openSlow(ctx context.Context, f *flood, n int, drip time.Duration) (*slowConns, error) {
	s := &slowConns{quit: make(chan struct{}), open: make([]atomic.Bool, n)}
	addr := strings.TrimPrefix(f.base, "http://")
	for i := range n {
		k := slowclient.Kind(i % 3)
		path := ""
		if k == slowclient.Body {
			p, err := f.session(ctx, i)
			if err != nil {
				return nil, err
			}
			path = p
		}
		c, err := slowclient.Open(addr, k, path)
		if err != nil {
			return nil, fmt.Errorf("slow connection %d (%v): %w", i, k, err)
		}
		s.conns = append(s.conns, c)
		s.open[i].Store(true)
		s.wg.Go(func() { s.watch(i, drip) })
	}
	return s, nil
}

// watch drips into connection i until the server closes it.
func (s *slowConns) watch(i int, drip time.Duration) {
	c := s.conns[i]
	for {
		if closed, _ := c.Closed(max(drip, 100*time.Millisecond)); closed {
			s.open[i].Store(false)
			return
		}
		select {
		case <-s.quit:
			return
		default:
		}
		if drip > 0 && c.Drip() != nil {
			s.open[i].Store(false)
			return
		}
	}
}

func (s *slowConns) report() {
	var open [3]int
	var all [3]int
	for i, c := range s.conns {
		all[c.Kind]++
		if s.open[i].Load() {
			open[c.Kind]++
		}
	}
	for k := range 3 {
		fmt.Printf("  %-7v %4d of %d\n", slowclient.Kind(k), open[k], all[k])
	}
}

func (s *slowConns) close() {
	close(s.quit)
	s.wg.Wait()
	for _, c := range s.conns {
		c.Close()
	}
}
