package mutate

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"reflect"
	"strings"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/regkit/regkit/image"
)

// maxConfigSize bounds the config read: 8 MiB, as [image.Image.ConfigFile].
const maxConfigSize = 8 << 20

// config is an image config being changed: its decoded form, and the
// original bytes decoded as raw JSON objects, so that keys ocispec.Image
// does not model survive.
type config struct {
	mediaType string
	typed     ocispec.Image
	top       map[string]json.RawMessage // the original's top-level keys
	inner     map[string]json.RawMessage // the keys of its "config" object
}

// readConfig reads and decodes img's config, checked against its
// descriptor.
func readConfig(ctx context.Context, img *image.Image) (config, error) {
	if at := img.ArtifactType(); at != "" {
		return config{}, fmt.Errorf("%w: %q is an artifact, not a container image", image.ErrUnsupportedMediaType, at)
	}
	b := img.Config()
	d := b.Descriptor()
	if d.Size > maxConfigSize {
		return config{}, fmt.Errorf("read config: %w: %d bytes is over the %d byte limit", image.ErrInvalid, d.Size, maxConfigSize)
	}
	rc, err := b.Open(ctx)
	if err != nil {
		return config{}, fmt.Errorf("read config: %w", err)
	}
	defer rc.Close()
	p, err := io.ReadAll(io.LimitReader(rc, d.Size+1))
	if err != nil {
		return config{}, fmt.Errorf("read config %s: %w", d.Digest, err)
	}
	if int64(len(p)) != d.Size || d.Digest.Algorithm().FromBytes(p) != d.Digest {
		return config{}, fmt.Errorf("read config %s: %w: content does not match the descriptor", d.Digest, image.ErrInvalid)
	}
	c := config{mediaType: d.MediaType}
	if err := json.Unmarshal(p, &c.typed); err != nil {
		return config{}, fmt.Errorf("read config %s: %w: %w", d.Digest, image.ErrInvalid, err)
	}
	if err := json.Unmarshal(p, &c.top); err != nil {
		return config{}, fmt.Errorf("read config %s: %w: %w", d.Digest, image.ErrInvalid, err)
	}
	if raw, ok := c.top["config"]; ok && string(raw) != "null" {
		if err := json.Unmarshal(raw, &c.inner); err != nil {
			return config{}, fmt.Errorf("read config %s: %w: config: %w", d.Digest, image.ErrInvalid, err)
		}
	}
	return c, nil
}

// blob marshals the config: the decoded form, over the keys of the
// original that it does not model.
func (c config) blob() (image.Blob, error) {
	p, err := json.Marshal(c.typed)
	if err != nil {
		return image.Blob{}, fmt.Errorf("%w: config: %w", image.ErrInvalid, err)
	}
	var top, inner map[string]json.RawMessage
	if err := json.Unmarshal(p, &top); err != nil {
		return image.Blob{}, err
	}
	if raw, ok := top["config"]; ok {
		if err := json.Unmarshal(raw, &inner); err != nil {
			return image.Blob{}, err
		}
	}
	top = merge(c.top, top, reflect.TypeFor[ocispec.Image]())
	if inner = merge(c.inner, inner, reflect.TypeFor[ocispec.ImageConfig]()); len(inner) > 0 {
		if top["config"], err = json.Marshal(inner); err != nil {
			return image.Blob{}, err
		}
	} else {
		delete(top, "config")
	}
	if p, err = json.Marshal(top); err != nil {
		return image.Blob{}, err
	}
	return image.BytesBlob(c.mediaType, p), nil
}

// merge returns the keys of next, and those of prev that no field of t
// (a struct type) decodes, which next therefore cannot hold.
func merge(prev, next map[string]json.RawMessage, t reflect.Type) map[string]json.RawMessage {
	out := make(map[string]json.RawMessage, len(prev)+len(next))
	for k, v := range prev {
		if !modelled(t, k) {
			out[k] = v
		}
	}
	for k, v := range next {
		out[k] = v
	}
	return out
}

// modelled reports whether encoding/json decodes the key k into a field
// of the struct type t (it matches names without regard to case).
func modelled(t reflect.Type, k string) bool {
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "" {
			name = f.Name
		}
		if f.Anonymous && f.Type.Kind() == reflect.Struct && f.Tag.Get("json") == "" {
			if modelled(f.Type, k) {
				return true
			}
			continue
		}
		if name != "-" && strings.EqualFold(name, k) {
			return true
		}
	}
	return false
}
