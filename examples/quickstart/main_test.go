package main

import "testing"

// TestRun runs the quickstart end to end on the in-memory registry.
func TestRun(t *testing.T) {
	if err := run(t.Context()); err != nil {
		t.Fatalf("quickstart: %v", err)
	}
}
