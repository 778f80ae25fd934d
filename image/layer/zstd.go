package layer

import "errors"

// errZstd is returned until zstd decompression lands.
var errZstd = errors.New("zstd layers are not readable yet")
