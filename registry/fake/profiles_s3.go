package fake

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/regkit/regkit/internal/route"
)

const (
	// blobBucket is the first path segment of the blob host's URLs.
	blobBucket = "regkit-fake-blobs"
	// blobURLTTL is how long a signed blob URL stays valid.
	blobURLTTL = 15 * time.Minute
	// amzDateFormat is the format of X-Amz-Date.
	amzDateFormat = "20060102T150405Z"
)

// blobHost is the object storage of ProfileS3: a second loopback server
// that serves the blobs of a server's store to signed URLs only.
type blobHost struct {
	srv   *httptest.Server
	store *Store
	key   []byte // signs URLs
	now   func() time.Time
}

// startBlobHost starts the blob host of s, whose requests go through s's
// faults and request log.
func startBlobHost(s *Server, now func() time.Time, t Timeouts) *blobHost {
	h := &blobHost{store: s.Store, key: make([]byte, 32), now: now}
	_, _ = rand.Read(h.key) // never fails
	h.srv = t.newHTTPServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name, _, _ := parseBlobPath(r.URL.EscapedPath())
		s.record(w, r, target{rt: RouteBlobHost, repo: name}, h.serve)
	}))
	h.srv.Start()
	return h
}

// redirect answers a GET of a blob that the repository t names holds
// with a 307 to a signed URL on the blob host. It answers nothing and
// returns false for blobs the repository lacks, which the API handler then
// refuses.
func (h *blobHost) redirect(w http.ResponseWriter, r *http.Request, t route.Target) bool {
	d, err := digest.Parse(t.Ref)
	if err != nil {
		return false
	}
	if _, err := h.store.StatBlob(r.Context(), t.Name, d); err != nil {
		return false
	}
	w.Header().Set("Location", h.sign(t.Name, d))
	w.Header().Set("Docker-Distribution-API-Version", "registry/2.0")
	w.WriteHeader(http.StatusTemporaryRedirect)
	return true
}

// sign returns the presigned URL of blob d of repository name.
func (h *blobHost) sign(name string, d digest.Digest) string {
	p := "/" + blobBucket + "/" + name + "/" + d.String()
	date := h.now().UTC().Format(amzDateFormat)
	expires := strconv.Itoa(int(blobURLTTL / time.Second))
	q := url.Values{
		"X-Amz-Algorithm":     {"AWS4-HMAC-SHA256"},
		"X-Amz-Credential":    {"AKIAREGKITFAKE/" + date[:8] + "/us-east-1/s3/aws4_request"},
		"X-Amz-Date":          {date},
		"X-Amz-Expires":       {expires},
		"X-Amz-SignedHeaders": {"host"},
		"X-Amz-Signature":     {h.mac(p, date, expires)},
	}
	return h.srv.URL + p + "?" + q.Encode()
}

func (h *blobHost) mac(p, date, expires string) string {
	m := hmac.New(sha256.New, h.key)
	m.Write([]byte(p + "\n" + date + "\n" + expires))
	return hex.EncodeToString(m.Sum(nil))
}

// parseBlobPath reads the repository and digest of a blob host path,
// /<bucket>/<name>/<digest>.
func parseBlobPath(escaped string) (name string, d digest.Digest, ok bool) {
	rest, found := strings.CutPrefix(escaped, "/"+blobBucket+"/")
	i := strings.LastIndex(rest, "/")
	if !found || i <= 0 {
		return "", "", false
	}
	d, err := digest.Parse(rest[i+1:])
	if err != nil {
		return "", "", false
	}
	return rest[:i], d, true
}

// serve serves a request to the blob host as S3 serves a presigned URL.
func (h *blobHost) serve(w http.ResponseWriter, r *http.Request, x *exchange) {
	x.self = true
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		writeS3Error(w, r, http.StatusMethodNotAllowed, "MethodNotAllowed", "The specified method is not allowed against this resource.")
		return
	}
	if r.Header.Get("Authorization") != "" {
		writeS3Error(w, r, http.StatusBadRequest, "InvalidArgument",
			"Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization header should be specified")
		return
	}
	name, d, ok := parseBlobPath(r.URL.EscapedPath())
	if !ok {
		writeS3Error(w, r, http.StatusNotFound, "NoSuchKey", "The specified key does not exist.")
		return
	}
	q := r.URL.Query()
	date, derr := time.Parse(amzDateFormat, q.Get("X-Amz-Date"))
	expires, eerr := strconv.Atoi(q.Get("X-Amz-Expires"))
	want := h.mac(r.URL.EscapedPath(), q.Get("X-Amz-Date"), q.Get("X-Amz-Expires"))
	switch {
	case derr != nil || eerr != nil || !hmac.Equal([]byte(q.Get("X-Amz-Signature")), []byte(want)):
		writeS3Error(w, r, http.StatusForbidden, "SignatureDoesNotMatch",
			"The request signature we calculated does not match the signature you provided.")
		return
	case !h.now().Before(date.Add(time.Duration(expires) * time.Second)):
		writeS3Error(w, r, http.StatusForbidden, "AccessDenied", "Request has expired")
		return
	}
	rc, _, err := h.store.GetBlob(r.Context(), name, d)
	if err != nil {
		writeS3Error(w, r, http.StatusNotFound, "NoSuchKey", "The specified key does not exist.")
		return
	}
	defer rc.Close()
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("ETag", `"`+d.Encoded()+`"`)
	http.ServeContent(w, r, "", time.Time{}, rc.(io.ReadSeeker)) // ranges, If-Range, HEAD
}

// writeS3Error writes an S3 error: an XML body with its code and message.
func writeS3Error(w http.ResponseWriter, r *http.Request, status int, code, msg string) {
	body, _ := xml.Marshal(struct {
		XMLName xml.Name `xml:"Error"`
		Code    string
		Message string
	}{Code: code, Message: msg}) // strings only: cannot fail
	body = append([]byte(xml.Header), body...)
	w.Header().Set("Content-Type", "application/xml")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
}
