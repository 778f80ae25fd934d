//go:build race

package remote

// raceEnabled says the race detector is on: it makes big inputs slow, and
// the heap figures of some tests larger.
const raceEnabled = true
