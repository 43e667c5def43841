//go:build !embedui

package main

import (
	"github.com/go-megle/go-megle/internal/web"
	"io/fs"
)

// uiFS is the UI read from WEB_DIR at start-up; a plain go build needs no built UI.
func uiFS(dir string) fs.FS { return web.UIFromDisk(dir) }
