// Command serve runs regkit's in-memory fake registry over HTTP until it is
// interrupted, logging each request, so any client (docker, skopeo, crane,
// oras, a test suite in another language) can be pointed at it:
//
//	go run ./examples/serve -addr 127.0.0.1:5000
//	skopeo copy --dest-tls-verify=false oci:./layout:1.0 docker://127.0.0.1:5000/myapp:1.0
//
// Everything is kept in memory and lost when the server stops.
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
	"github.com/regkit/regkit/transport"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:5000", "address to listen on")
	flag.Parse()
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	l, err := net.Listen("tcp", *addr)
	if err != nil {
		logger.Error("listen", "err", err)
		os.Exit(1)
	}
	if err := serve(ctx, l, logger); err != nil {
		logger.Error("serve", "err", err)
		os.Exit(1)
	}
}

// serve serves a new in-memory registry on l until ctx is done.
func serve(ctx context.Context, l net.Listener, logger *slog.Logger) error {
	srv := &http.Server{
		Handler:           transport.NewHandler(fake.NewStore(), transport.WithHandlerLogger(logger)),
		ReadHeaderTimeout: 10 * time.Second,
	}
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		<-ctx.Done()
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
