//go:build embedui

package main

import (
	"embed"
	"io/fs"
)

//go:embed all:web/dist
var embeddedUI embed.FS

// uiFS is the UI embedded at build time (go build -tags embedui, after the UI is built).
func uiFS(string) fs.FS {
	sub, err := fs.Sub(embeddedUI, "web/dist")
	if err != nil {
		panic("embedded UI: " + err.Error()) // the embed directive guarantees the directory
	}
	return sub
}
