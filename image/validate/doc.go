// Package validate checks images end to end: that a manifest, its config
// and its layers agree, reading every byte.
//
// [Image] reads each layer once, as a stream (memory stays flat in the
// layer's size): it checks the layer's size and digest against the
// manifest, decompresses it by its media type (image/layer), checks that
// it is a tar, and hashes the tar to compare it with the diff_id the
// config names. [Index] does the same for each image of an index, fetched
// from a [Source] such as a *repository.Repository, and checks that each
// child is what the index's descriptor says.
//
// Errors name what is wrong: a [*LayerError] (which layer, by index and
// digest, and the [Kind] of mismatch), an [*image.DiffIDCountError], a
// [*ChildError] around the error of an index's child.
//
// The package is apart from image because it reads content, which image
// never does, and it needs image/layer to decompress layers.
package validate
