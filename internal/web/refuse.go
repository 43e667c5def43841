package web

import (
	"log/slog"
	"time"

	"github.com/go-megle/go-megle/internal/safety"
	"github.com/gorilla/websocket"
)

// refuseWait is the longest the last frame and the close frame to a refused connection take.
const refuseWait = time.Second

// Refuse sends a connection that is not let in a last frame (if any) and a close code.
func Refuse(conn *websocket.Conn, frame []byte, code int, text string, log *slog.Logger) {
	deadline := time.Now().Add(refuseWait)
	if frame != nil {
		if err := conn.SetWriteDeadline(deadline); err == nil {
			if err := conn.WriteMessage(websocket.TextMessage, frame); err != nil {
				log.Debug("last frame to a connection not let in", "err", safety.PeerErr(err))
			}
		}
	}
	if err := conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, text), deadline); err != nil {
		log.Debug("close frame to a connection not let in", "err", safety.PeerErr(err))
	}
	if err := conn.Close(); err != nil {
		log.Debug("close a connection not let in", "err", safety.PeerErr(err))
	}
}
