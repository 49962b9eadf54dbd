package web

import (
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"net/http"
	"path"
	"strings"
)

// contentTypes are the only kinds of asset served; anything else (licences, sums) is 404.
var contentTypes = map[string]string{
	".js":  "text/javascript; charset=utf-8",
	".css": "text/css; charset=utf-8",
	".svg": "image/svg+xml",
	".png": "image/png",
}

type asset struct {
	body  []byte
	ctype string
	etag  string
}

// assets are the embedded files, read once, each with a strong ETag from its SHA-256. The page links
// them as name?v=<hash>, so a new binary's files are fetched at once and the old ones cached long.
type assets struct {
	byName map[string]asset
	urls   map[string]string
}

func loadAssets(fsys fs.FS) (*assets, error) {
	a := &assets{byName: map[string]asset{}, urls: map[string]string{}}
	err := fs.WalkDir(fsys, "assets", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		ct, ok := contentTypes[path.Ext(p)]
		if !ok {
			return nil
		}
		b, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		name := strings.TrimPrefix(p, "assets/")
		h := hex.EncodeToString(sum[:8])
		a.byName[name] = asset{body: b, ctype: ct, etag: `"` + h + `"`}
		a.urls[name] = PathAssets + name + "?v=" + h
		return nil
	})
	return a, err
}

func (a *assets) serve(w http.ResponseWriter, r *http.Request, name string) {
	if !allow(w, r, http.MethodGet, http.MethodHead) {
		return
	}
	f, ok := a.byName[name]
	if !ok {
		http.NotFound(w, r)
		return
	}
	h := w.Header()
	h.Set("Content-Type", f.ctype)
	h.Set("ETag", f.etag)
	if r.URL.Query().Get("v") == strings.Trim(f.etag, `"`) {
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		h.Set("Cache-Control", "no-cache")
	}
	if match := r.Header.Get("If-None-Match"); match != "" && strings.Contains(match, f.etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	if r.Method == http.MethodHead {
		return
	}
	_, _ = w.Write(f.body)
}
