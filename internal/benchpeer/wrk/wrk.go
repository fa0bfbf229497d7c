// Package wrk drives wrk (Debian's HTTP load generator) with GraphQL POST bodies: the load of
// `make bench-peer` and of the W4 benchmark of `make bench`.
package wrk

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Script is wrk's Lua script: POST the bodies in turn with the bearer token, and print a
// summary line that Run reads.
func Script(token string, bodies []string) string {
	var b strings.Builder
	b.WriteString("wrk.method = \"POST\"\nwrk.headers[\"Content-Type\"] = \"application/json\"\n")
	fmt.Fprintf(&b, "wrk.headers[\"Authorization\"] = \"Bearer %s\"\n", token)
	if len(bodies) == 1 {
		fmt.Fprintf(&b, "wrk.body = [==[%s]==]\n", bodies[0])
	} else {
		b.WriteString("local bodies = {\n")
		for _, x := range bodies {
			fmt.Fprintf(&b, "  [==[%s]==],\n", x)
		}
		b.WriteString("}\nlocal i = 0\nrequest = function()\n  i = i + 1\n  return wrk.format(nil, nil, nil, bodies[(i % #bodies) + 1])\nend\n")
	}
	b.WriteString(`done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT %d %d %d %d %d %d\n", summary.requests, summary.duration,
    e.connect + e.read + e.write + e.timeout, e.status, latency:percentile(50), latency:percentile(99)))
end
`)
	return b.String()
}

// Result is what one run of wrk measured.
type Result struct {
	Requests     int64
	Wall         time.Duration
	SocketErrors int64 // connect, read, write and timeout errors
	StatusErrors int64 // answers other than 2xx and 3xx
	P50, P99     time.Duration
}

// RequestsPerSecond is the throughput of the run.
func (r Result) RequestsPerSecond() float64 { return float64(r.Requests) / r.Wall.Seconds() }

var resultLine = regexp.MustCompile(`RESULT (\d+) (\d+) (\d+) (\d+) (\d+) (\d+)`)

// Run runs wrk with two threads (the machine has two cores) and clients connections for d
// against url, with the script file at scriptPath (Script). Socket errors, answers that are
// not 2xx and a run without a completed request are errors.
func Run(ctx context.Context, url string, clients int, scriptPath string, d time.Duration) (Result, error) {
	secs := max(1, int(d.Round(time.Second)/time.Second))
	cmd := exec.CommandContext(ctx, "wrk", "-t2", "-c"+strconv.Itoa(clients), "-d"+strconv.Itoa(secs)+"s",
		"--timeout", "10s", "-s", scriptPath, url)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return Result{}, fmt.Errorf("wrk: %w: %s", err, out)
	}
	m := resultLine.FindSubmatch(out)
	if m == nil {
		return Result{}, fmt.Errorf("wrk printed no result: %s", out)
	}
	n := func(i int) int64 { v, _ := strconv.ParseInt(string(m[i]), 10, 64); return v }
	r := Result{Requests: n(1), Wall: time.Duration(n(2)) * time.Microsecond, SocketErrors: n(3), StatusErrors: n(4),
		P50: time.Duration(n(5)) * time.Microsecond, P99: time.Duration(n(6)) * time.Microsecond}
	if r.SocketErrors > 0 || r.StatusErrors > 0 {
		return r, fmt.Errorf("%d socket errors, %d non-2xx answers", r.SocketErrors, r.StatusErrors)
	}
	if r.Requests == 0 {
		return r, errors.New("no request completed")
	}
	return r, nil
}
