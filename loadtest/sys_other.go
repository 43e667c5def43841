//go:build !linux

package main

import (
	"errors"
	"syscall"
)

var errUnsupported = errors.New("not supported on this OS")

func dialControl(string, string, syscall.RawConn) error { return nil }

func raiseFileLimit(uint64) (uint64, error) { return 0, errUnsupported }

func readRSS(int) (int64, error) { return 0, errUnsupported }

func loadAverage() (float64, error) { return 0, errUnsupported }
