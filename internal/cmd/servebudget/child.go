package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// child is examples/serve, running.
type child struct {
	cmd  *exec.Cmd
	addr string
	done chan struct{} // closed when its log ends
}

var urlRE = regexp.MustCompile(`url=http://([^/\s]+)/v2/`)

// startChild runs bin on a free loopback port, and drains its log.
func startChild(ctx context.Context, bin string, args []string) (*child, error) {
	cmd := exec.CommandContext(ctx, bin, append([]string{"-addr", "127.0.0.1:0"}, args...)...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	c := &child{cmd: cmd, done: make(chan struct{})}
	sc := bufio.NewScanner(stderr)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if m := urlRE.FindStringSubmatch(sc.Text()); m != nil {
			c.addr = m[1]
			break
		}
	}
	if c.addr == "" {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		return nil, fmt.Errorf("examples/serve did not say where it listens")
	}
	go func() { // the request log: read and dropped
		defer close(c.done)
		for sc.Scan() {
		}
	}()
	return c, nil
}

// stop interrupts the child and waits for it.
func (c *child) stop() {
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.done:
	case <-time.After(10 * time.Second):
		_ = c.cmd.Process.Kill()
	}
	_ = c.cmd.Wait()
}

// sample is the child's memory and descriptors at one time.
type sample struct {
	label    string
	rss, hwm int64 // bytes
	fds      int
}

// monitor samples a process.
type monitor struct {
	pid  int
	mu   sync.Mutex
	max  sample
	quit chan struct{}
}

func newMonitor(pid int) *monitor {
	return &monitor{pid: pid, quit: make(chan struct{}), max: sample{label: "peak (sampled)"}}
}

func (m *monitor) run(every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-m.quit:
			return
		case <-t.C:
			m.now("")
		}
	}
}

func (m *monitor) close() { close(m.quit) }

// now samples the process, and keeps the peak.
func (m *monitor) now(label string) sample {
	s := sample{label: label, fds: -1}
	if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", m.pid)); err == nil {
		for line := range strings.SplitSeq(string(b), "\n") {
			k, v, _ := strings.Cut(line, ":")
			f := strings.Fields(v)
			if len(f) == 0 {
				continue
			}
			kb, _ := strconv.ParseInt(f[0], 10, 64)
			switch k {
			case "VmRSS":
				s.rss = kb << 10
			case "VmHWM":
				s.hwm = kb << 10
			}
		}
	}
	if ents, err := os.ReadDir(filepath.Join("/proc", strconv.Itoa(m.pid), "fd")); err == nil {
		s.fds = len(ents)
	}
	m.mu.Lock()
	m.max.rss, m.max.hwm, m.max.fds = max(m.max.rss, s.rss), max(m.max.hwm, s.hwm), max(m.max.fds, s.fds)
	m.mu.Unlock()
	return s
}

func (m *monitor) peak() sample {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.max
}
