package fake

import (
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	"github.com/stretchr/testify/require"
)

// TestProfileSerial holds a request's body open: a second request is not
// answered until that body is read and the first is answered; without the
// profile it is answered at once.
func TestProfileSerial(t *testing.T) {
	t.Parallel()
	for _, serial := range []bool{false, true} {
		t.Run(map[bool]string{false: "plain", true: "Serial"}[serial], func(t *testing.T) {
			t.Parallel()
			var opts []ServerOption
			if serial {
				opts = append(opts, WithProfile(ProfileSerial))
			}
			srv := Serve(t, opts...)
			pr, pw := io.Pipe()
			t.Cleanup(func() { pw.Close() })
			first := make(chan error, 1)
			go func() {
				resp, err := http.Post(srv.URL+"/v2/app/blobs/uploads/?digest="+digest.FromString("x").String(), "application/octet-stream", pr)
				if err == nil {
					resp.Body.Close()
				}
				first <- err
			}()
			_, err := pw.Write([]byte("x")) // the first request's body is being read
			require.NoError(t, err)
			if serial {
				// The byte left the pipe when the client took it, which may
				// be before the server let the request in: wait for that.
				for deadline := time.Now().Add(10 * time.Second); len(srv.serial) == 0; time.Sleep(time.Millisecond) {
					require.True(t, time.Now().Before(deadline), "the first request never entered the server")
				}
			}

			second := make(chan error, 1)
			go func() {
				resp, err := http.Get(srv.URL + "/v2/")
				if err == nil {
					resp.Body.Close()
				}
				second <- err
			}()
			select {
			case err := <-second:
				require.False(t, serial, "answered while another request's body was being read")
				require.NoError(t, err)
			case <-time.After(300 * time.Millisecond):
				require.True(t, serial, "not answered while another request's body was being read")
			}
			require.NoError(t, pw.Close())
			require.NoError(t, <-first)
			if serial {
				require.NoError(t, <-second)
			}
		})
	}
	require.Equal(t, "Serial", ProfileSerial.String())
}
