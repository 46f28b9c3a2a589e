package main

import (
	"net"
	"os"
	"sync"
	"time"

	"github.com/gofiber/contrib/websocket"
	"github.com/gofiber/fiber/v2"
)

// runBaselineServer is the naive WebSocket server BenchmarkSockets compares
// Pulso with: contrib/websocket, one goroutine reading and one writing per
// socket, and POST /fire pushing one pre-rendered message to every socket.
func runBaselineServer(addr string) {
	msg := []byte(os.Getenv("PULSO_BENCH_MESSAGE"))
	if len(msg) == 0 {
		msg = []byte(`<a id="bell" hx-swap-oob="true">bench</a>`)
	}
	var mu sync.Mutex
	clients := map[chan []byte]struct{}{}
	app := fiber.New(fiber.Config{DisableStartupMessage: true})
	app.Get("/ws", websocket.New(func(c *websocket.Conn) {
		send := make(chan []byte, 16)
		mu.Lock()
		clients[send] = struct{}{}
		mu.Unlock()
		done := make(chan struct{})
		go func() {
			defer close(done)
			for m := range send {
				_ = c.SetWriteDeadline(time.Now().Add(5 * time.Second))
				if c.WriteMessage(websocket.TextMessage, m) != nil {
					return
				}
			}
		}()
		for {
			if _, _, err := c.ReadMessage(); err != nil {
				break
			}
		}
		mu.Lock()
		delete(clients, send)
		mu.Unlock()
		close(send)
		<-done
	}))
	app.Post("/fire", func(c *fiber.Ctx) error {
		mu.Lock()
		for ch := range clients {
			select {
			case ch <- msg:
			default:
			}
		}
		mu.Unlock()
		return c.SendStatus(fiber.StatusNoContent)
	})
	_ = app.Listen(addr)
}

func netListen() (net.Listener, error) { return net.Listen("tcp", "127.0.0.1:0") }

func netDial(addr string) (net.Conn, error) { return net.Dial("tcp", addr) }
