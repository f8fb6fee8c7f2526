// Package ui is the shifter's web UI: a page of plain JavaScript modules and
// CSS, embedded in the binary, that reads the API v1 from the browser. There
// is no build step and nothing is loaded from another origin.
//
// Pages are served at / and under /endpoints/, so a link to an endpoint's
// page works when pasted; assets are served under /ui/{version}/, where the
// version is a hash of every asset, so they can be cached for good and a new
// shifter is never mixed with an old script. Every URL the page uses is
// relative to where it is served, so the UI works behind a proxy that mounts
// the shifter under a path prefix.
package ui

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"
)

//go:embed index.html assets
var files embed.FS

// contentTypes are the media types of the assets, by extension. They are
// fixed here rather than taken from the host's MIME table, which may lack
// them or call JavaScript something a browser refuses for a module.
var contentTypes = map[string]string{
	".css": "text/css; charset=utf-8",
	".js":  "text/javascript; charset=utf-8",
	".svg": "image/svg+xml",
}

// Response headers of the UI.
const (
	// assetCaching lets browsers keep an asset for a year: its URL
	// changes with its content.
	assetCaching = "public, max-age=31536000, immutable"
	// pageCaching makes browsers ask again for the page, which names the
	// current assets.
	pageCaching = "no-cache"
	// pagePolicy allows only the page's own scripts, styles and API, so
	// that nothing injected into it could run or send a token elsewhere.
	pagePolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; " +
		"connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)

// handler serves the page and the assets of one build of the UI.
type handler struct {
	page    *template.Template
	assets  map[string]asset
	version string
}

type asset struct {
	data        []byte
	contentType string
}

// Register adds the UI's routes to mux: the page at / and at every path
// under /endpoints/ (the page's router tells which endpoint), and the assets
// under /ui/.
func Register(mux *http.ServeMux) {
	h := newHandler()
	mux.HandleFunc("GET /{$}", h.servePage)
	mux.HandleFunc("GET /endpoints/", h.servePage)
	mux.HandleFunc("GET /ui/{version}/{file...}", h.serveAsset)
}

// newHandler reads the embedded files. It panics if they are broken, which
// only a change to this package can cause and its tests catch.
func newHandler() *handler {
	h := &handler{
		page:   template.Must(template.ParseFS(files, "index.html")),
		assets: map[string]asset{},
	}
	sum := sha256.New()
	err := fs.WalkDir(files, "assets", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := files.ReadFile(name)
		if err != nil {
			return err
		}
		file := strings.TrimPrefix(name, "assets/")
		h.assets[file] = asset{data: data, contentType: contentTypes[path.Ext(name)]}
		// The name and length go in too, so that moving bytes from
		// one file to another changes the version.
		sum.Write([]byte(file + "\x00" + strconv.Itoa(len(data)) + "\x00"))
		sum.Write(data)
		return nil
	})
	if err != nil {
		panic("ui: reading the embedded assets: " + err.Error())
	}
	h.version = hex.EncodeToString(sum.Sum(nil))[:12]
	return h
}

// servePage serves the page with the relative path from r's URL back to
// the UI's root, which the page's links and scripts start from.
func (h *handler) servePage(w http.ResponseWriter, r *http.Request) {
	root := strings.Repeat("../", strings.Count(r.URL.EscapedPath(), "/")-1)
	if root == "" {
		root = "./"
	}
	var page bytes.Buffer
	err := h.page.Execute(&page, struct{ Root, Assets string }{root, root + "ui/" + h.version + "/"})
	if err != nil {
		http.Error(w, "the web UI could not be rendered", http.StatusInternalServerError)
		return
	}
	header := w.Header()
	header.Set("Content-Type", "text/html; charset=utf-8")
	header.Set("Cache-Control", pageCaching)
	header.Set("Content-Security-Policy", pagePolicy)
	header.Set("Referrer-Policy", "no-referrer")
	header.Set("X-Content-Type-Options", "nosniff")
	http.ServeContent(w, r, "index.html", time.Time{}, bytes.NewReader(page.Bytes()))
}

// serveAsset serves an asset of the current version. Another version is not
// found rather than answered with today's file under yesterday's URL, which
// a browser would then cache for a year.
func (h *handler) serveAsset(w http.ResponseWriter, r *http.Request) {
	a, ok := h.assets[r.PathValue("file")]
	if !ok || r.PathValue("version") != h.version {
		http.NotFound(w, r)
		return
	}
	header := w.Header()
	header.Set("Content-Type", a.contentType)
	header.Set("Cache-Control", assetCaching)
	header.Set("ETag", strconv.Quote(h.version))
	header.Set("X-Content-Type-Options", "nosniff")
	http.ServeContent(w, r, r.PathValue("file"), time.Time{}, bytes.NewReader(a.data))
}
