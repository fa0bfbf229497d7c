package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// halfSent is a GraphQL request whose body is half sent: in flight at the server, which is
// reading it.
type halfSent struct {
	conn net.Conn
	rest []byte
}

func sendHalf(t *testing.T, s *server, credential, query string) *halfSent {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query})
	addr := strings.TrimPrefix(s.url, "http://")
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	fmt.Fprintf(conn, "POST /graphql HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s",
		addr, credential, len(body), body[:len(body)/2])
	return &halfSent{conn: conn, rest: body[len(body)/2:]}
}

// finish sends the rest of the body and reads the answer.
func (h *halfSent) finish(t *testing.T) (*http.Response, []byte) {
	t.Helper()
	if _, err := h.conn.Write(h.rest); err != nil {
		t.Fatalf("the server dropped the request in flight: %v", err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(h.conn), nil)
	if err != nil {
		t.Fatalf("no answer to the request in flight: %v", err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp, raw
}

// refusesConnections waits until the server accepts no new connection.
func refusesConnections(t *testing.T, s *server) {
	t.Helper()
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: time.Second}
	for i := 0; i < 100; i++ {
		resp, err := client.Get(s.url + "/healthz")
		if err != nil {
			return
		}
		resp.Body.Close()
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("the server still accepts connections after SIGTERM")
}

// collector is an OTLP/HTTP endpoint that keeps what it is sent.
type collector struct {
	mu     sync.Mutex
	bodies [][]byte
}

func (c *collector) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	raw, _ := io.ReadAll(r.Body)
	c.mu.Lock()
	c.bodies = append(c.bodies, raw)
	c.mu.Unlock()
	w.Header().Set("Content-Type", "application/x-protobuf")
}

func (c *collector) received(s string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, b := range c.bodies {
		if bytes.Contains(b, []byte(s)) {
			return true
		}
	}
	return false
}

// SIGTERM (main cancels run's context): the server stops accepting, finishes the request in
// flight, closes its WebSockets as going away, flushes its traces and returns nil, so the
// process exits 0.
func TestGracefulShutdown(t *testing.T) {
	col := &collector{}
	otlp := httptest.NewServer(col)
	defer otlp.Close()
	// The exporter reads the standard variables from the process environment.
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", otlp.URL)
	s := startServer(t, map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": otlp.URL, "SHUTDOWN_TIMEOUT": "20s"})
	member := s.token("member@bakkerij-de-vries.example")

	inFlight := sendHalf(t, s, member, `{ customers(first: 5) { edges { node { name } } } }`)
	live := connect(t, s, s.token("admin@bakkerij-de-vries.example"))
	live.subscribe("grants", `subscription { supportAccessGrants { id } }`)
	time.Sleep(300 * time.Millisecond) // the server has read the headers and waits for the body

	stopped := make(chan error, 1)
	go func() { stopped <- s.shutdown() }()
	refusesConnections(t, s)
	select {
	case err := <-stopped:
		t.Fatalf("run returned (%v) while a request was in flight", err)
	default:
	}

	if code, reason := live.closed(5 * time.Second); code != websocket.StatusGoingAway {
		t.Fatalf("the WebSocket was closed with %d %q, not as going away", code, reason)
	}
	resp, raw := inFlight.finish(t)
	if resp.StatusCode != http.StatusOK || !bytes.Contains(raw, []byte(`"name":"Bakkerij De Vries B.V."`)) {
		t.Fatalf("the request in flight: %d %s", resp.StatusCode, raw)
	}
	select {
	case err := <-stopped:
		if err != nil {
			t.Fatalf("run returned %v; the process would exit 1", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("run did not return after the last request")
	}
	if !strings.Contains(s.logs.String(), "stopped: every request finished") {
		t.Fatalf("no orderly stop in the log:\n%s", s.logs.String())
	}
	// Spans are batched every 5 s; those of the last request were sent by the shutdown's flush.
	if !col.received("resolve Query.customers") {
		t.Fatal("the spans of the request in flight were not flushed")
	}
}

// A request that does not finish within SHUTDOWN_TIMEOUT is cut off: the process does not
// hang, and says so.
func TestShutdownIsBounded(t *testing.T) {
	s := startServer(t, map[string]string{"SHUTDOWN_TIMEOUT": "1s"})
	stalled := sendHalf(t, s, s.token("member@bakkerij-de-vries.example"), `{ me { role } }`)
	time.Sleep(300 * time.Millisecond)
	start := time.Now()
	err := s.shutdown()
	if took := time.Since(start); took > 5*time.Second || err == nil || !strings.Contains(err.Error(), "cut off") {
		t.Fatalf("shutdown took %v and returned %v", took, err)
	}
	stalled.conn.SetReadDeadline(time.Now().Add(2 * time.Second))
	if _, err := stalled.conn.Read(make([]byte, 1)); err == nil {
		t.Fatal("the stalled connection is still open")
	}
}
