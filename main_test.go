package main

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the run if any test leaves a goroutine behind: client pumps, bus loops,
// timers' callbacks and Redis connections must all end with their owners.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
