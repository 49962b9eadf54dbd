package standin

import (
	"bytes"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// counter is a stand-in's state: its own lock, taken by snapshot.
type counter struct {
	mu sync.Mutex
	n  int
}

func (c *counter) snapshot() ([]byte, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return []byte{byte('0' + c.n)}, nil
}

func TestStateFileWritesPendingChanges(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "state.json")
	c := &counter{}
	f := NewStateFile(path, "test", nil, c.snapshot)
	if data, err := f.Read(); err != nil || data != nil {
		t.Fatalf("a missing file is no state yet: %q, %v", data, err)
	}
	if err := f.Flush(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("nothing pending, nothing written: %v", err)
	}

	c.mu.Lock()
	c.n = 3
	f.Save() // with the stand-in's lock held, as the stand-ins call it
	f.Save()
	c.mu.Unlock()
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	data, err := f.Read()
	if err != nil || string(data) != "3" {
		t.Fatalf("Close writes what is pending: %q, %v", data, err)
	}
	info, err := os.Stat(path)
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("the file is private: %v, %v", info, err)
	}
	if f.Storage() != "saved in "+path {
		t.Fatalf("Storage() = %q", f.Storage())
	}
}

func TestStateFileInMemory(t *testing.T) {
	f := NewStateFile("", "test", nil, func() ([]byte, error) { t.Fatal("no snapshot without a file"); return nil, nil })
	f.Save()
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if f.Storage() != "in memory" {
		t.Fatalf("Storage() = %q", f.Storage())
	}
}

func TestStateFileErrorsNameTheStandIn(t *testing.T) {
	dir := t.TempDir()
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	// The path is a directory: reading it and writing it both fail.
	f := NewStateFile(dir, "snowstandin", log, func() ([]byte, error) { return []byte("{}"), nil })
	if _, err := f.Read(); err == nil || !strings.Contains(err.Error(), "snowstandin: read "+dir) {
		t.Fatalf("read error: %v", err)
	}
	if err := f.NotState(errors.New("bad")); !strings.Contains(err.Error(), "is not a stand-in state file: bad") {
		t.Fatalf("NotState: %v", err)
	}
	f.Save()
	if err := f.Close(); err == nil || !strings.Contains(err.Error(), "snowstandin: save state to") {
		t.Fatalf("write error: %v", err)
	}
	if !strings.Contains(logs.String(), "snowstandin: cannot save state") {
		t.Fatalf("the failed write is logged: %s", logs.String())
	}
}

func TestOpenOrMemory(t *testing.T) {
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	type options struct{ File string }
	var files []string
	open := func(o options) (string, error) {
		files = append(files, o.File)
		if o.File != "" {
			return "", errors.New("corrupt")
		}
		return "memory", nil
	}
	inMemory := func(o options) options { o.File = ""; return o }
	if got := OpenOrMemory(options{File: "state.json"}, open, inMemory, log, "azurestandin"); got != "memory" {
		t.Fatalf("got %q", got)
	}
	if len(files) != 2 || files[0] != "state.json" || files[1] != "" {
		t.Fatalf("opened %q", files)
	}
	if !strings.Contains(logs.String(), "azurestandin: state file not loaded") || !strings.Contains(logs.String(), "corrupt") {
		t.Fatalf("the fallback is logged with its cause: %s", logs.String())
	}
	files = nil
	if got := OpenOrMemory(options{}, open, inMemory, nil, "x"); got != "memory" || len(files) != 1 {
		t.Fatalf("a stand-in that opens is opened once: %q, %q", got, files)
	}
}

func TestPageAllowed(t *testing.T) {
	for _, tc := range []struct {
		name, method, user, pass string
		auth                     bool
		want                     int
	}{
		{name: "open page", method: http.MethodGet, want: http.StatusOK},
		{name: "HEAD", method: http.MethodHead, want: http.StatusOK},
		{name: "POST refused", method: http.MethodPost, want: http.StatusMethodNotAllowed},
		{name: "no credentials", method: http.MethodGet, user: "dev", pass: "pw", want: http.StatusUnauthorized},
		{name: "wrong password", method: http.MethodGet, user: "dev", pass: "pw", auth: true, want: http.StatusUnauthorized},
		{name: "right credentials", method: http.MethodGet, user: "dev", pass: "pw", auth: true, want: http.StatusOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(tc.method, "/", nil)
			if tc.auth {
				pass := "nope"
				if tc.want == http.StatusOK {
					pass = tc.pass
				}
				r.SetBasicAuth(tc.user, pass)
			}
			w := httptest.NewRecorder()
			if PageAllowed(w, r, tc.user, tc.pass, "Test stand-in") {
				w.WriteHeader(http.StatusOK)
			}
			if w.Code != tc.want {
				t.Fatalf("status %d, want %d", w.Code, tc.want)
			}
			if tc.want == http.StatusUnauthorized && w.Header().Get("WWW-Authenticate") != `Basic realm="Test stand-in"` {
				t.Fatalf("challenge %q", w.Header().Get("WWW-Authenticate"))
			}
			if tc.want == http.StatusMethodNotAllowed && w.Header().Get("Allow") != "GET, HEAD" {
				t.Fatalf("Allow %q", w.Header().Get("Allow"))
			}
		})
	}
}

func TestPageTemplateAndHeaders(t *testing.T) {
	tmpl := PageTemplate(`{{template "head" .Head}}<main>{{.Body}}</main></body></html>`)
	data := struct {
		Head Head
		Body string
	}{Head{Title: "T <1>", Refresh: true, CSS: "main{padding:1em}", Banner: "not real <b>"}, "<script>x</script>"}
	w := httptest.NewRecorder()
	WritePage(w, tmpl, data, slog.New(slog.DiscardHandler), "test")
	body := w.Body.String()
	for _, want := range []string{
		"<title>T &lt;1&gt;</title>", `<meta http-equiv="refresh" content="1">`, "main{padding:1em}",
		`<div class="banner">not real &lt;b&gt;</div>`, "<main>&lt;script&gt;x&lt;/script&gt;</main>",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %q:\n%s", want, body)
		}
	}
	for k, v := range map[string]string{
		"Content-Type": "text/html; charset=utf-8", "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'",
		"X-Content-Type-Options": "nosniff", "Cache-Control": "no-store",
	} {
		if got := w.Header().Get(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
}

func TestStatusRecorder(t *testing.T) {
	w := httptest.NewRecorder()
	rec := NewStatusRecorder(w)
	if rec.Status != http.StatusOK {
		t.Fatalf("default %d", rec.Status)
	}
	rec.WriteHeader(http.StatusTeapot)
	if rec.Status != http.StatusTeapot || w.Code != http.StatusTeapot {
		t.Fatalf("recorded %d, written %d", rec.Status, w.Code)
	}
}
