//go:build !linux

package redistest

import "os/exec"

// DieWithParent is a no-op where the kernel offers no parent-death signal.
func DieWithParent(*exec.Cmd) {}
