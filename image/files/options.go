package files

// Option changes a limit of [Walk], [Flatten], [ReadFile] or [Lstat].
type Option func(*options)

type options struct {
	maxEntries   int
	maxLayerSize int64
	maxFileSize  int64
}

// Defaults of the limits.
const (
	// DefaultMaxEntries is the default of [WithMaxEntries].
	DefaultMaxEntries = 1 << 20
	// DefaultMaxFileSize is the default of [WithMaxFileSize]: 64 MiB.
	DefaultMaxFileSize = 64 << 20
)

func makeOptions(opts []Option) options {
	o := options{maxEntries: DefaultMaxEntries, maxFileSize: DefaultMaxFileSize}
	for _, opt := range opts {
		if opt != nil {
			opt(&o)
		}
	}
	return o
}

// WithMaxEntries bounds what [Walk] and [Flatten] remember: the paths they
// reported and those deleted by whiteouts. Past n paths, or past n*128
// bytes for their names and records (names can be long), they stop with a
// [*LimitError]. n <= 0 means [DefaultMaxEntries]: a million paths, 128 MiB.
func WithMaxEntries(n int) Option {
	return func(o *options) {
		if n <= 0 {
			n = DefaultMaxEntries
		}
		o.maxEntries = n
	}
}

// WithMaxLayerSize bounds the uncompressed size of each layer read: a layer
// whose tar is longer than n bytes stops the read with a [*LimitError]
// (inside a [*LayerError]). It guards against gzip bombs; reading streams,
// so without it a bomb costs time (bounded by the context) and not memory.
// n <= 0 means no limit, the default.
func WithMaxLayerSize(n int64) Option {
	return func(o *options) { o.maxLayerSize = n }
}

// WithMaxFileSize bounds the size of the file [ReadFile] returns: a larger
// one gives a [*LimitError] before anything is read into memory. n <= 0
// means [DefaultMaxFileSize]. Read larger files as a stream with [Walk].
func WithMaxFileSize(n int64) Option {
	return func(o *options) {
		if n <= 0 {
			n = DefaultMaxFileSize
		}
		o.maxFileSize = n
	}
}
