package fake

import "hash"

// hasher hashes bytes on a goroutine of its own, so that a body is hashed
// while its next bytes are read: with two cores, receiving a blob costs
// the longer of the two, not their sum. A nil *hasher hashes nothing.
type hasher struct {
	q    chan piece
	done chan struct{}
}

// piece is bytes to hash, and where to give them back once hashed (nil:
// nowhere).
type piece struct {
	p    []byte
	back chan<- []byte
}

// startHasher starts hashing into h what [hasher.write] and [hasher.lend]
// are given, until [hasher.wait].
func startHasher(h hash.Hash) *hasher {
	hs := &hasher{q: make(chan piece, 16), done: make(chan struct{})}
	go func() {
		defer close(hs.done)
		for pc := range hs.q {
			h.Write(pc.p)
			if pc.back != nil {
				pc.back <- pc.p
			}
		}
	}()
	return hs
}

// write queues p to be hashed. p must not change until [hasher.wait]
// returns.
func (hs *hasher) write(p []byte) {
	if hs != nil {
		hs.q <- piece{p: p}
	}
}

// lend queues p to be hashed, and sent to back once hashed, after which it
// may change. back must have room for it.
func (hs *hasher) lend(p []byte, back chan<- []byte) {
	if hs == nil {
		back <- p
		return
	}
	hs.q <- piece{p: p, back: back}
}

// wait returns once everything written is hashed, and ends the hashing.
func (hs *hasher) wait() {
	if hs != nil {
		close(hs.q)
		<-hs.done
	}
}
