package fake

import "hash"

// hasher hashes bytes on a goroutine of its own, so that a body is hashed
// while its next bytes are read: with two cores, receiving a blob costs
// the longer of the two, not their sum. A nil *hasher hashes nothing.
type hasher struct {
	q    chan []byte
	done chan struct{}
}

// startHasher starts hashing into h what [hasher.write] is given, until
// [hasher.wait].
func startHasher(h hash.Hash) *hasher {
	hs := &hasher{q: make(chan []byte, 16), done: make(chan struct{})}
	go func() {
		defer close(hs.done)
		for p := range hs.q {
			h.Write(p)
		}
	}()
	return hs
}

// write queues p to be hashed. p must not change until [hasher.wait]
// returns.
func (hs *hasher) write(p []byte) {
	if hs != nil {
		hs.q <- p
	}
}

// wait returns once everything written is hashed, and ends the hashing.
func (hs *hasher) wait() {
	if hs != nil {
		close(hs.q)
		<-hs.done
	}
}
