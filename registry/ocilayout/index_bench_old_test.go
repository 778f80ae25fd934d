package ocilayout

import "testing"

// benchIndexWriter returns a function that writes the index.json of
// benchRepo as it is, as the Store writes it.
func benchIndexWriter(b *testing.B, s *Store) func() error {
	ix, err := s.readIndex(benchRepo)
	if err != nil {
		b.Fatal(err)
	}
	return func() error { return s.writeIndex(benchRepo, ix) }
}
