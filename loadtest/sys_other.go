//go:build !linux

package main

import (
	"context"
	"errors"
	"syscall"
	"time"
)

var errUnsupported = errors.New("not supported on this OS")

func dialControl(string, string, syscall.RawConn) error { return nil }

func raiseFileLimit(uint64) (uint64, error) { return 0, errUnsupported }

func readRSS(int) (int64, error) { return 0, errUnsupported }

func cpuBusy(context.Context, time.Duration) (float64, error) { return 0, errUnsupported }

func readCPU(int) (time.Duration, error) { return 0, errUnsupported }
