// Package playground serves a self-hosted GraphiQL page for the GraphQL API.
//
// The page is built from web/ (npm ci && npm run build, see web/build.mjs)
// into dist/, which is committed and embedded here: a Go-only build needs no
// Node, and the page loads nothing from any host but the one serving it.
package playground

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"
)

// Prefix is the URL path the playground lives under. The built index.html
// refers to its assets by absolute paths below it, so it cannot move without
// rebuilding.
const Prefix = "/playground/"

//go:embed dist
var dist embed.FS

type file struct {
	body        []byte
	contentType string
	etag        string
}

// Handler serves index.html at /playground/ and the script, stylesheet, fonts
// and images below it. Register it for Prefix; /playground without the slash
// is a redirect (the page's relative references need the slash), for example
//
//	mux.Handle(playground.Prefix, playground.Handler())
//	mux.Handle("/playground", http.RedirectHandler(playground.Prefix, http.StatusMovedPermanently))
func Handler() http.Handler {
	files := make(map[string]file)
	err := fs.WalkDir(dist, "dist", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := dist.ReadFile(name)
		if err != nil {
			return err
		}
		// Embedded files have no modification time, so a content hash is the
		// only validator browsers can revalidate against.
		sum := sha256.Sum256(body)
		files[strings.TrimPrefix(name, "dist/")] = file{
			body:        body,
			contentType: contentType(name),
			etag:        `"` + base64.RawURLEncoding.EncodeToString(sum[:16]) + `"`,
		}
		return nil
	})
	if err != nil {
		// Unreachable: the files are compiled into the binary.
		panic("playground: reading embedded files: " + err.Error())
	}

	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, http.StatusText(http.StatusMethodNotAllowed), http.StatusMethodNotAllowed)
			return
		}
		name, ok := strings.CutPrefix(r.URL.Path, Prefix)
		if !ok {
			http.NotFound(w, r)
			return
		}
		if name == "" {
			name = "index.html"
		}
		f, ok := files[name]
		if !ok {
			http.NotFound(w, r)
			return
		}
		h := w.Header()
		h.Set("Content-Type", f.contentType)
		h.Set("X-Content-Type-Options", "nosniff")
		// no-store, as on every answer of the server (README, Headers): the
		// assets are embedded and small, and a browser must never run those of
		// an older binary. The ETag still spares a body to a client that asks.
		h.Set("Cache-Control", "no-store")
		h.Set("ETag", f.etag)
		http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(f.body))
	})
}

// contentType is explicit rather than mime.TypeByExtension, whose answer
// depends on the host's MIME tables (some map .js to text/plain, which
// nosniff would then refuse to run).
func contentType(name string) string {
	switch path.Ext(name) {
	case ".html":
		return "text/html; charset=utf-8"
	case ".js":
		return "text/javascript; charset=utf-8"
	case ".css":
		return "text/css; charset=utf-8"
	case ".woff2":
		return "font/woff2"
	case ".woff":
		return "font/woff"
	case ".png":
		return "image/png"
	default:
		return "application/octet-stream"
	}
}
