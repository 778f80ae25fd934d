// Command servebudget measures what examples/serve costs under a flood:
// it builds examples/serve, runs it as a child process, opens slow
// connections (dripped headers, stalled or dripped PATCH bodies, idle
// keep-alive connections), floods it with abandoned upload sessions (a
// POST and a one-byte PATCH each, never finished), and reports the
// child's RSS and open file descriptors (from /proc, so Linux only) and
// the latency of a GET /v2/ and a manifest GET sent throughout.
//
// It exits with status 1 when the peak RSS or the peak number of open file
// descriptors goes past the budget (-max-rss, -max-fds: 64 MiB and 400 for
// the default flood), or when a probe GET failed; latency it only reports,
// since it depends on the machine.
//
//	go run ./internal/cmd/servebudget                       # 20,000 sessions, 300 slow connections
//	go run ./internal/cmd/servebudget -hold 2m -drip 5s     # watch the slow connections longer
//	go run ./internal/cmd/servebudget -server-args='-idle-timeout=10s'
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

type flags struct {
	sessions    int
	slow        int
	concurrency int
	drip        time.Duration
	hold        time.Duration
	probe       time.Duration
	sample      time.Duration
	bin         string
	serverArgs  string
	maxRSS      int64 // MiB
	maxFDs      int
}

func main() {
	var f flags
	flag.IntVar(&f.sessions, "sessions", 20000, "abandoned upload sessions to open")
	flag.IntVar(&f.slow, "slow", 300, "slow connections to open, a third each dripping headers, stalling a PATCH body and idling")
	flag.IntVar(&f.concurrency, "concurrency", 32, "concurrent flood requests")
	flag.DurationVar(&f.drip, "drip", 0, "interval at which slow connections send one more byte (0: they send their first bytes, then nothing)")
	flag.DurationVar(&f.hold, "hold", 30*time.Second, "how long to keep watching after the flood")
	flag.DurationVar(&f.probe, "probe", 200*time.Millisecond, "interval between probe GETs")
	flag.DurationVar(&f.sample, "sample", 500*time.Millisecond, "interval between RSS and fd samples")
	flag.StringVar(&f.bin, "bin", "", "a built examples/serve to run (default: build it)")
	flag.StringVar(&f.serverArgs, "server-args", "", "extra flags for examples/serve, space-separated")
	flag.Int64Var(&f.maxRSS, "max-rss", 64, "budget: the server's peak RSS, in MiB")
	flag.IntVar(&f.maxFDs, "max-fds", 400, "budget: the server's peak number of open file descriptors")
	flag.Parse()
	log.SetFlags(0)
	if err := run(context.Background(), f); err != nil {
		log.Fatal("servebudget: ", err)
	}
}

func run(ctx context.Context, f flags) error {
	bin := f.bin
	if bin == "" {
		dir, err := os.MkdirTemp("", "servebudget")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		bin = filepath.Join(dir, "serve")
		root, err := moduleRoot()
		if err != nil {
			return err
		}
		cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./examples/serve")
		cmd.Dir, cmd.Stderr = root, os.Stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("build examples/serve: %w", err)
		}
	}
	child, err := startChild(ctx, bin, strings.Fields(f.serverArgs))
	if err != nil {
		return err
	}
	defer child.stop()
	fmt.Printf("examples/serve pid %d on %s %s\n", child.cmd.Process.Pid, child.addr, f.serverArgs)

	mon := newMonitor(child.cmd.Process.Pid)
	go mon.run(f.sample)
	defer mon.close()
	fl := newFlood(child.addr, f.concurrency)
	if err := fl.seed(ctx); err != nil {
		return err
	}
	time.Sleep(f.sample)
	base := mon.now("baseline")

	slow, err := openSlow(ctx, fl, f.slow, f.drip)
	if err != nil {
		return err
	}
	defer slow.close()
	withSlow := mon.now("slow connections open")

	probes := startProbes(fl, f.probe)
	start := time.Now()
	n, failed := fl.sessions(ctx, f.sessions)
	floodTime := time.Since(start)
	during := probes.stop()
	flooded := mon.now("flood done")

	probes = startProbes(fl, f.probe)
	time.Sleep(f.hold)
	held := probes.stop()
	after := mon.now(fmt.Sprintf("%v after the flood", f.hold))

	fmt.Printf("\nflood: %d sessions opened (%d requests failed) in %v, %.0f sessions/s\n",
		n, failed, floodTime.Round(time.Millisecond), float64(n)/floodTime.Seconds())
	fmt.Printf("\n%-28s %10s %10s %6s\n", "", "RSS MiB", "HWM MiB", "fds")
	for _, s := range []sample{base, withSlow, flooded, after, mon.peak()} {
		fmt.Printf("%-28s %10.1f %10.1f %6d\n", s.label, mib(s.rss), mib(s.hwm), s.fds)
	}
	fmt.Printf("\nprobe latency (ms)   %6s %6s %6s %6s %6s %7s\n", "n", "p50", "p90", "p99", "max", "errors")
	during.print("during the flood")
	held.print("after the flood")
	fmt.Printf("\nslow connections still open at the end (the server closed the others):\n")
	slow.report()
	return checkBudget(f, mon.peak(), during, held)
}

// checkBudget fails when the peak went past the budget or a probe failed.
func checkBudget(f flags, peak sample, all ...*probes) error {
	var over []string
	if mib(peak.rss) > float64(f.maxRSS) {
		over = append(over, fmt.Sprintf("peak RSS %.1f MiB > %d MiB", mib(peak.rss), f.maxRSS))
	}
	if peak.fds > f.maxFDs {
		over = append(over, fmt.Sprintf("peak fds %d > %d", peak.fds, f.maxFDs))
	}
	for _, p := range all {
		for path, n := range p.errs {
			over = append(over, fmt.Sprintf("%d probe GETs of %s failed", n, path))
		}
	}
	if len(over) > 0 {
		return fmt.Errorf("over budget: %s", strings.Join(over, "; "))
	}
	fmt.Printf("\nwithin budget: peak RSS %.1f of %d MiB, peak fds %d of %d, no probe failed\n", mib(peak.rss), f.maxRSS, peak.fds, f.maxFDs)
	return nil
}

func mib(b int64) float64 { return float64(b) / (1 << 20) }

// moduleRoot returns the directory of the main module's go.mod.
func moduleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", fmt.Errorf("run servebudget inside the regkit module")
	}
	return filepath.Dir(gomod), nil
}
