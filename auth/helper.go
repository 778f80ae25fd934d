package auth

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"time"
	"unicode/utf8"
)

// HelperError is a credential helper that failed: it could not be started,
// it exited with an error, or its answer could not be parsed. It never holds
// a secret. When the helper program is not installed, Err matches
// [exec.ErrNotFound] with [errors.Is].
type HelperError struct {
	// Program is the helper program, as in "docker-credential-pass".
	Program string
	// Action is the helper command: "get", "store" or "erase".
	Action string
	// ServerURL is what the helper was asked about.
	ServerURL string
	// Output is what the helper printed, trimmed, with every secret regkit
	// knows of blanked out in any encoding (see below), and cut to 512
	// bytes. For "store" and "erase" it is the standard error, else the
	// standard output. For "get" it is the standard error only: a helper's
	// standard output is where it writes the secret, so it is never shown,
	// and a secret it printed there is blanked out of the standard error
	// too. It is empty when the helper succeeded but its answer could not
	// be parsed.
	Output string
	// Err is the fault.
	Err error
}

// Error names the helper, the action, the server URL, the fault and the
// helper's output.
func (e *HelperError) Error() string {
	s := fmt.Sprintf("auth: credential helper %s: %s %s: %v", e.Program, e.Action, e.ServerURL, e.Err)
	if e.Output != "" {
		s += ": " + e.Output
	}
	return s
}

// Unwrap returns the fault.
func (e *HelperError) Unwrap() error { return e.Err }

// helperNotFound is what helpers print when they have no credential for a
// server URL.
const helperNotFound = "credentials not found in native keychain"

// helperTokenUser is the Username of a helper answer whose Secret is an
// identity token.
const helperTokenUser = "<token>"

// helperMaxOutput bounds what is read of a helper's output.
const helperMaxOutput = 1 << 20

// helperMaxShown bounds the output an error shows.
const helperMaxShown = 512

// HelperStore is a [CredentialStore] backed by a Docker credential helper, the program
// docker-credential-<name> found on $PATH
// (https://github.com/docker/docker-credential-helpers). It is safe for
// concurrent use.
//
// For a host it runs `docker-credential-<name> get` with the server URL on
// standard input: "https://index.docker.io/v1/" for Docker Hub, else the host
// ("ghcr.io", "localhost:5000"). The answer {"ServerURL", "Username",
// "Secret"} is a username and password, or an identity token when Username
// is "<token>". A helper that answers "credentials not found in native
// keychain" means anonymous. Any other failure is a [*HelperError]. The
// helper runs until it answers or ctx is done.
type HelperStore struct {
	name string
}

var _ CredentialStore = (*HelperStore)(nil)

// Helper returns the store of the credential helper docker-credential-<name>
// ("pass", "secretservice", "osxkeychain", "ecr-login"). It does no I/O: a
// missing program is reported when it is first used. A name holding a path
// separator is refused then too.
func Helper(name string) *HelperStore { return &HelperStore{name: name} }

// String describes the store.
func (h *HelperStore) String() string { return "auth.Helper(" + h.name + ")" }

// Program returns the helper program, as in "docker-credential-pass".
func (h *HelperStore) Program() string { return "docker-credential-" + h.name }

// Credential asks the helper for the credential of host.
func (h *HelperStore) Credential(ctx context.Context, host string) (Credential, error) {
	if credHost(host) == "" {
		return Credential{}, nil
	}
	url := credServerURL(host)
	out, err := h.run(ctx, "get", url, []byte(url), Credential{})
	if errors.Is(err, errHelperNotFound) {
		return Credential{}, nil
	}
	if err != nil {
		return Credential{}, err
	}
	var ans struct {
		ServerURL string
		Username  string
		Secret    string
	}
	if err := json.Unmarshal(out, &ans); err != nil {
		return Credential{}, &HelperError{Program: h.Program(), Action: "get", ServerURL: url,
			Err: fmt.Errorf("answer is not the JSON of a credential (%d bytes)", len(out))}
	}
	if ans.Username == helperTokenUser {
		return Credential{IdentityToken: ans.Secret}, nil
	}
	return Credential{Username: ans.Username, Password: ans.Secret}, nil
}

// Save stores c as the credential of host in the helper (`store`), or
// erases the host's credential (`erase`) when c is zero; erasing a host the
// helper does not know is no error. An identity token is stored as docker
// does, with the Username "<token>". A RegistryToken cannot be stored in a
// helper.
func (h *HelperStore) Save(ctx context.Context, host string, c Credential) error {
	url := credServerURL(host)
	if credHost(host) == "" {
		return fmt.Errorf("auth: credential helper %s: save: empty host", h.Program())
	}
	if c.IsZero() {
		_, err := h.run(ctx, "erase", url, []byte(url), Credential{})
		if errors.Is(err, errHelperNotFound) {
			return nil
		}
		return err
	}
	if c.RegistryToken != "" {
		return &HelperError{Program: h.Program(), Action: "store", ServerURL: url,
			Err: errors.New("a registry token cannot be stored in a credential helper")}
	}
	msg := struct {
		ServerURL string
		Username  string
		Secret    string
	}{url, c.Username, c.Password}
	if c.IdentityToken != "" {
		msg.Username, msg.Secret = helperTokenUser, c.IdentityToken
	}
	if msg.Username == "" {
		return &HelperError{Program: h.Program(), Action: "store", ServerURL: url,
			Err: errors.New("a credential helper needs a username")}
	}
	in, err := json.Marshal(msg)
	if err != nil {
		return err
	}
	_, err = h.run(ctx, "store", url, in, c)
	return err
}

// errHelperNotFound is a helper's "credentials not found" answer.
var errHelperNotFound = errors.New(helperNotFound)

// run runs the helper with action and input on standard input, and returns
// its standard output. The helper's "credentials not found" answer is
// errHelperNotFound. The secrets of sent (what was given to the helper) are
// blanked out, in any encoding, of any output an error shows; so is the
// secret of a credential the helper printed on a failed "get", whose
// standard output is never shown.
func (h *HelperStore) run(ctx context.Context, action, url string, input []byte, sent Credential) ([]byte, error) {
	fail := func(err error, output string) error {
		return &HelperError{Program: h.Program(), Action: action, ServerURL: url, Output: output, Err: err}
	}
	if h.name == "" || strings.ContainsAny(h.name, `/\`+"\x00") {
		return nil, fail(fmt.Errorf("invalid helper name %q", h.name), "")
	}
	if err := ctx.Err(); err != nil {
		return nil, fail(err, "")
	}
	cmd := exec.CommandContext(ctx, h.Program(), action)
	cmd.Stdin = bytes.NewReader(input)
	var stdout, stderr helperBuffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.WaitDelay = time.Second
	err := cmd.Run()
	if err == nil {
		return stdout.Bytes(), nil
	}
	outText := strings.TrimSpace(stdout.String())
	errText := strings.TrimSpace(stderr.String())
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) && (outText == helperNotFound || errText == helperNotFound) {
		return nil, errHelperNotFound
	}
	if ctxErr := ctx.Err(); ctxErr != nil {
		err = ctxErr
	}
	shown := errText
	if shown == "" && action != "get" {
		shown = outText
	}
	secrets := sent.secretForms()
	if action == "get" {
		secrets = append(helperPrinted(stdout.Bytes()).secretForms(), secrets...)
	}
	return nil, fail(err, helperShow(shown, secrets))
}

// helperPrinted returns the credential a helper printed, as far as out
// can be read as an answer, for blanking it out of what is shown.
func helperPrinted(out []byte) Credential {
	var ans struct{ Username, Secret string }
	if json.Unmarshal(out, &ans) != nil {
		return Credential{}
	}
	return Credential{Username: ans.Username, Password: ans.Secret}
}

// helperShow returns s with forms (see [Credential.secretForms]) blanked
// out, cut to helperMaxShown bytes.
func helperShow(s string, forms []string) string {
	s = redactSecrets(s, forms)
	if len(s) <= helperMaxShown {
		return s
	}
	s = s[:helperMaxShown]
	for !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s + "…"
}

// helperBuffer is a buffer that keeps at most helperMaxOutput bytes and
// drops the rest.
type helperBuffer struct{ bytes.Buffer }

// Write keeps what fits and reports all of p written, so that a chatty
// helper is not killed by a broken pipe.
func (b *helperBuffer) Write(p []byte) (int, error) {
	if room := helperMaxOutput - b.Len(); room > 0 {
		b.Buffer.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

var _ io.Writer = (*helperBuffer)(nil)
