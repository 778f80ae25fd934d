//go:build race

package verify

// raceEnabled says the race detector is on: sync.Pool then drops a share
// of what is put back, on purpose.
const raceEnabled = true
