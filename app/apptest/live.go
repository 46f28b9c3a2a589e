package apptest

import (
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/fasthttp/websocket"
)

// Serve runs the app on a real listener on 127.0.0.1 (WebSockets need one)
// and returns its host:port. It stops when the test ends.
func (e *Env) Serve() string {
	e.T.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		e.T.Fatal(err)
	}
	go func() { _ = e.App.Listener(ln) }()
	e.T.Cleanup(func() { _ = e.App.ShutdownWithTimeout(5 * time.Second) })
	return ln.Addr().String()
}

// Dial opens the live socket at addr as this browser, sending its cookies
// and the given Origin (the app's own when empty).
func (c *Client) Dial(addr, origin string) (*websocket.Conn, *http.Response, error) {
	if origin == "" {
		origin = c.env.Deps.Cfg.Origin()
	}
	var cookies []string
	for k, v := range c.cookies {
		cookies = append(cookies, k+"="+v)
	}
	h := http.Header{}
	h.Set("Origin", origin)
	if len(cookies) > 0 {
		h.Set("Cookie", strings.Join(cookies, "; "))
	}
	d := websocket.Dialer{HandshakeTimeout: 5 * time.Second}
	return d.Dial("ws://"+addr+"/ws", h)
}
