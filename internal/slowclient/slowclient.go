// Package slowclient plays the slow clients that hold a server's
// connections: one that drips its request headers, one that stalls in the
// middle of a request body, and one that keeps an idle keep-alive
// connection. The tests of every server regkit runs, and the flood-budget
// tool, use it to check that the server cuts them off.
package slowclient

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"time"
)

// Kind is the way a [Conn] is slow.
type Kind int

const (
	// Header sends the first bytes of a request line and then one byte at
	// each Drip: the request never reaches its end of headers.
	Header Kind = iota
	// Body sends the headers of a PATCH announcing a 1 MiB body and its
	// first byte, and then one byte at each Drip.
	Body
	// Idle sends a GET /v2/, reads its response and then keeps the
	// connection open without sending anything; Drip does nothing.
	Idle
)

func (k Kind) String() string {
	switch k {
	case Header:
		return "header"
	case Body:
		return "body"
	case Idle:
		return "idle"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// Conn is one slow client connection.
type Conn struct {
	Kind Kind
	c    net.Conn
	rest []byte // what Drip sends next, one byte at a time
}

// bodySize is the Content-Length a Body connection announces.
const bodySize = 1 << 20

// Open dials addr and starts a slow request of kind k. path is the target
// of a Body connection's PATCH (an upload session's Location); the other
// kinds ignore it.
func Open(addr string, k Kind, path string) (*Conn, error) {
	c, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		return nil, err
	}
	sc := &Conn{Kind: k, c: c}
	switch k {
	case Header:
		req := "GET /v2/ HTTP/1.1\r\nHost: " + addr + "\r\nX-Slow: " + strings.Repeat("a", 4096)
		_, err = io.WriteString(c, req[:8])
		sc.rest = []byte(req[8:])
	case Body:
		_, err = fmt.Fprintf(c, "PATCH %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/octet-stream\r\nContent-Length: %d\r\n\r\nx",
			path, addr, bodySize)
		sc.rest = []byte(strings.Repeat("x", bodySize-1))
	case Idle:
		err = sc.idle(addr)
	}
	if err != nil {
		c.Close()
		return nil, err
	}
	return sc, nil
}

// idle sends one GET /v2/ and reads its response.
func (sc *Conn) idle(addr string) error {
	if _, err := fmt.Fprintf(sc.c, "GET /v2/ HTTP/1.1\r\nHost: %s\r\n\r\n", addr); err != nil {
		return err
	}
	_ = sc.c.SetReadDeadline(time.Now().Add(10 * time.Second))
	defer sc.c.SetReadDeadline(time.Time{})
	resp, err := http.ReadResponse(bufio.NewReader(sc.c), nil)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.Body.Close()
}

// Drip sends one more byte. It fails once the server has closed the
// connection (or soon after: TCP may accept a byte or two first).
func (sc *Conn) Drip() error {
	if len(sc.rest) == 0 {
		return nil
	}
	_ = sc.c.SetWriteDeadline(time.Now().Add(10 * time.Second))
	_, err := sc.c.Write(sc.rest[:1])
	sc.rest = sc.rest[1:]
	return err
}

// Closed reports whether the server has closed the connection, waiting
// at most wait for it, and returns what the server sent before closing:
// an error response, or nothing.
func (sc *Conn) Closed(wait time.Duration) (closed bool, sent string) {
	_ = sc.c.SetReadDeadline(time.Now().Add(wait))
	b, err := io.ReadAll(sc.c)
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return false, string(b)
	}
	return true, string(b) // EOF, or a reset
}

// Close closes the connection.
func (sc *Conn) Close() error { return sc.c.Close() }
