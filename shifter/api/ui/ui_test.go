package ui_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/ionroller/terraform-provider-ionroller/shifter/api/ui"
)

func newServer(t *testing.T) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	ui.Register(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

type answer struct {
	status int
	header http.Header
	body   string
}

func get(t *testing.T, srv *httptest.Server, path string, headers ...string) answer {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return answer{resp.StatusCode, resp.Header, string(body)}
}

// assetRef finds the URLs a page or a module loads: link and script
// elements, and static imports.
var assetRef = regexp.MustCompile(`(?:href|src)="([^"]+\.(?:css|js|svg))"|from '(\./[^']+)'`)

// TestPageIsServedAtRootAndForEveryEndpointPath: a pasted link to an
// endpoint's page loads the page, whose relative URLs lead back to the root.
func TestPageIsServedAtRootAndForEveryEndpointPath(t *testing.T) {
	srv := newServer(t)
	for path, root := range map[string]string{
		"/":                       "./",
		"/endpoints/web":          "../",
		"/endpoints/web/":         "../../",
		"/endpoints/web/history":  "../../",
		"/endpoints/no-such-page": "../",
	} {
		a := get(t, srv, path)
		if a.status != http.StatusOK {
			t.Fatalf("GET %s = %d", path, a.status)
		}
		for name, want := range map[string]string{
			"Content-Type":            "text/html; charset=utf-8",
			"Cache-Control":           "no-cache",
			"X-Content-Type-Options":  "nosniff",
			"Referrer-Policy":         "no-referrer",
			"Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
		} {
			if got := a.header.Get(name); got != want {
				t.Errorf("GET %s: %s = %q, want %q", path, name, got, want)
			}
		}
		if !regexp.MustCompile(`<script type="module" src="` + regexp.QuoteMeta(root) + `ui/[0-9a-f]{12}/app.js">`).MatchString(a.body) {
			t.Errorf("GET %s: the page does not load %sui/VERSION/app.js:\n%s", path, root, a.body)
		}
	}
}

// TestAssetsAreServedWithTheirTypeAndCachedForGood follows every URL the
// page and its modules load, so a module that imports a missing file fails
// here rather than in a browser.
func TestAssetsAreServedWithTheirTypeAndCachedForGood(t *testing.T) {
	srv := newServer(t)
	types := map[string]string{
		".js":  "text/javascript; charset=utf-8",
		".css": "text/css; charset=utf-8",
		".svg": "image/svg+xml",
	}
	seen := map[string]bool{}
	queue := []string{"/"}
	for len(queue) > 0 {
		path := queue[0]
		queue = queue[1:]
		a := get(t, srv, path)
		if a.status != http.StatusOK {
			t.Fatalf("GET %s = %d", path, a.status)
		}
		if path != "/" {
			ext := path[strings.LastIndex(path, "."):]
			if got := a.header.Get("Content-Type"); got != types[ext] {
				t.Errorf("GET %s: Content-Type %q, want %q", path, got, types[ext])
			}
			if got := a.header.Get("Cache-Control"); got != "public, max-age=31536000, immutable" {
				t.Errorf("GET %s: Cache-Control %q", path, got)
			}
			if again := get(t, srv, path, "If-None-Match", a.header.Get("ETag")); again.status != http.StatusNotModified {
				t.Errorf("GET %s with its ETag = %d, want 304", path, again.status)
			}
		}
		for _, m := range assetRef.FindAllStringSubmatch(a.body, -1) {
			ref := m[1] + m[2]
			next := path[:strings.LastIndex(path, "/")+1] + strings.TrimPrefix(ref, "./")
			if !seen[next] {
				seen[next] = true
				queue = append(queue, next)
			}
		}
	}
	for _, want := range []string{"app.js", "api.js", "endpoint.js", "list.js", "style.css", "icon.svg"} {
		found := false
		for path := range seen {
			found = found || strings.HasSuffix(path, "/"+want)
		}
		if !found {
			t.Errorf("%s is not loaded by the page; loaded: %v", want, seen)
		}
	}
}

// TestUnknownPathsAreNotFound: only pages fall back to the page. A missing
// asset answered with HTML would be cached for a year, or run as a script.
func TestUnknownPathsAreNotFound(t *testing.T) {
	srv := newServer(t)
	version := regexp.MustCompile(`ui/([0-9a-f]{12})/`).FindStringSubmatch(get(t, srv, "/").body)[1]
	for _, path := range []string{
		"/ui/" + version + "/missing.js",
		"/ui/000000000000/app.js", // an older shifter's assets
		"/ui/",
		"/index.html",
		"/settings",
	} {
		a := get(t, srv, path)
		if a.status != http.StatusNotFound || strings.Contains(a.body, "<html") {
			t.Errorf("GET %s = %d %q, want a plain 404", path, a.status, a.body)
		}
		if a.header.Get("Cache-Control") != "" {
			t.Errorf("GET %s: a 404 is cacheable: %q", path, a.header.Get("Cache-Control"))
		}
	}
}
