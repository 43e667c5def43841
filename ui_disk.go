//go:build !embedui

package main

import "io/fs"

// uiFS is the UI read from WEB_DIR at start-up; a plain go build needs no built UI.
func uiFS(dir string) fs.FS { return uiFromDisk(dir) }
