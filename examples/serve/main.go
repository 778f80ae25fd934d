// Command serve runs regkit's in-memory fake registry over HTTP until it is
// interrupted, logging each request, so any client (docker, skopeo, crane,
// oras, a test suite in another language) can be pointed at it:
//
//	go run ./examples/serve -addr 127.0.0.1:5000
//	skopeo copy --dest-tls-verify=false oci:./layout:1.0 docker://127.0.0.1:5000/myapp:1.0
//
// Everything is kept in memory and lost when the server stops.
//
// The server cuts off clients that hold a connection without making
// progress: one that takes longer than -header-timeout to send its headers,
// one whose request body delivers less than 1 KiB a minute's worth of bytes
// in a window of -body-timeout (1 KiB in the default minute; an upload that
// keeps sending is never cut, one that drips a byte now and then is), and a
// keep-alive connection idle for -idle-timeout. Zero means regkit's
// defaults (server.New and server.WithBodyTimeout).
package main

import (
	"context"
	"errors"
	"flag"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/regkit/regkit/registry/fake"
	"github.com/regkit/regkit/transport/server"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:5000", "address to listen on")
	var cfg config
	flag.DurationVar(&cfg.headerTimeout, "header-timeout", 0, "longest time a client may take to send a request's headers (0: 10s)")
	flag.DurationVar(&cfg.bodyTimeout, "body-timeout", 0, "window in which a request body must deliver 1 KiB a minute's worth of bytes, or end (0: 1m)")
	flag.DurationVar(&cfg.idleTimeout, "idle-timeout", 0, "longest time a keep-alive connection may wait for its next request (0: 2m)")
	flag.DurationVar(&cfg.uploadExpiry, "upload-expiry", 0, "how long an upload session may stay idle before it is dropped (0: 1h; negative: never)")
	flag.IntVar(&cfg.maxUploads, "max-uploads", 0, "upload sessions open at once; more get 429 (0: 1000; negative: no bound)")
	flag.Int64Var(&cfg.maxUploadBytes, "max-upload-bytes", 1<<30, "bytes all open upload sessions may hold together; more get 429 (0 or negative: no bound)")
	flag.Parse()
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	l, err := net.Listen("tcp", *addr)
	if err != nil {
		logger.Error("listen", "err", err)
		os.Exit(1)
	}
	if err := serve(ctx, l, logger, cfg); err != nil {
		logger.Error("serve", "err", err)
		os.Exit(1)
	}
}

// config holds the server's timeouts and upload bounds; a zero one means
// regkit's default.
type config struct {
	headerTimeout  time.Duration // the request line and headers
	bodyTimeout    time.Duration // the window of a request body's minimum progress
	idleTimeout    time.Duration // between two requests on a connection
	uploadExpiry   time.Duration // an upload session's idle time
	maxUploads     int           // upload sessions open at once
	maxUploadBytes int64         // bytes the open sessions hold together
}

// storeOptions are the options of the in-memory store cfg asks for.
func (cfg config) storeOptions() []fake.Option {
	// Zero is each option's default, negative turns it off.
	return []fake.Option{
		fake.WithUploadExpiry(cfg.uploadExpiry),
		fake.WithMaxUploads(cfg.maxUploads),
		fake.WithMaxUploadBytes(cfg.maxUploadBytes),
	}
}

// newServer returns the server of a new in-memory registry, and its store.
func newServer(logger *slog.Logger, cfg config) (*http.Server, *fake.Store) {
	store := fake.NewStore(cfg.storeOptions()...)
	h := server.NewHandler(store,
		server.WithLogger(logger),
		server.WithBodyTimeout(cfg.bodyTimeout))
	srv := server.New(h)
	if cfg.headerTimeout != 0 {
		srv.ReadHeaderTimeout = cfg.headerTimeout
	}
	if cfg.idleTimeout != 0 {
		srv.IdleTimeout = cfg.idleTimeout
	}
	return srv, store
}

// serve serves a new in-memory registry on l until ctx is done.
func serve(ctx context.Context, l net.Listener, logger *slog.Logger, cfg config) error {
	srv, store := newServer(logger, cfg)
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		// Expired upload sessions are released when the next one starts;
		// this releases them even when none does.
		tick := time.NewTicker(time.Minute)
		defer tick.Stop()
		for ctx.Err() == nil {
			select {
			case <-tick.C:
				store.Uploads()
			case <-ctx.Done():
			}
		}
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdown)
	}()
	logger.Info("serving the in-memory registry; Ctrl-C stops it", "url", "http://"+l.Addr().String()+"/v2/")
	err := srv.Serve(l)
	if errors.Is(err, http.ErrServerClosed) {
		<-stopped
		return nil
	}
	return err
}
