// Package standin holds what Interlock's local stand-ins for outside APIs (ServiceNow, Azure, the OT
// sensor) share: a state file that survives a restart without being rewritten on every request, the
// guard and headers of their developer pages, and the status recorder of their request logs.
package standin

import (
	"crypto/subtle"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// SaveDelay batches writes of a state file: a dev stand-in can afford to lose the last second on a
// crash, and rewriting the whole file on every create cost a third of the dev stack's CPU under load.
const SaveDelay = time.Second

// StateFile keeps a stand-in's state in a JSON file: loaded once at start, written atomically (temp
// file, then rename) at most once per SaveDelay after a change, and on Close.
type StateFile struct {
	path, name string // name is the stand-in's package, for errors and logs
	log        *slog.Logger
	snapshot   func() ([]byte, error)

	mu      sync.Mutex // guards pending and timer; taken after the stand-in's own lock, never before it
	pending bool
	timer   *time.Timer
	writeMu sync.Mutex // orders writes, which happen outside mu
}

// NewStateFile returns the state file at path for the stand-in called name. snapshot encodes the
// state to write; it is called without the StateFile's locks held and takes the stand-in's own lock.
// An empty path keeps the state in memory only: Save and Flush do nothing.
func NewStateFile(path, name string, log *slog.Logger, snapshot func() ([]byte, error)) *StateFile {
	return &StateFile{path: path, name: name, log: Logger(log), snapshot: snapshot}
}

// Storage says where the state lives, for a page: "in memory" or "saved in <path>".
func (f *StateFile) Storage() string {
	if f.path == "" {
		return "in memory"
	}
	return "saved in " + f.path
}

// Read returns the file's contents; a missing file (or no path) is no state yet: nil, nil.
func (f *StateFile) Read() ([]byte, error) {
	if f.path == "" {
		return nil, nil
	}
	data, err := os.ReadFile(f.path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("%s: read %s: %w", f.name, f.path, err)
	}
	return data, nil
}

// NotState is the error for a file that is not the stand-in's state file.
func (f *StateFile) NotState(err error) error {
	return fmt.Errorf("%s: %s is not a stand-in state file: %w", f.name, f.path, err)
}

// Save schedules a write of the state. It may be called with the stand-in's lock held.
func (f *StateFile) Save() {
	if f.path == "" {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.pending {
		return
	}
	f.pending = true
	f.timer = time.AfterFunc(SaveDelay, func() { _ = f.Flush() }) // Flush logs its own errors
}

// Flush writes the state now if a write is pending.
func (f *StateFile) Flush() error {
	f.writeMu.Lock()
	defer f.writeMu.Unlock()
	f.mu.Lock()
	pending := f.pending
	f.pending = false
	f.mu.Unlock()
	if !pending {
		return nil
	}
	// A change after this point schedules another write, which writes it.
	data, err := f.snapshot()
	if err == nil {
		err = WriteFileAtomic(f.path, data, 0o600)
	}
	if err != nil {
		err = fmt.Errorf("%s: save state to %s: %w", f.name, f.path, err)
		f.log.Error(f.name+": cannot save state", "err", err)
	}
	return err
}

// Close stops the scheduled write and writes what is pending.
func (f *StateFile) Close() error {
	f.mu.Lock()
	if f.timer != nil {
		f.timer.Stop()
	}
	f.mu.Unlock()
	return f.Flush()
}

// WriteFileAtomic writes data to name through a temp file and a rename, so a crash never leaves half a file.
func WriteFileAtomic(name string, data []byte, perm os.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(name), 0o700); err != nil {
		return err
	}
	tmp := name + ".tmp"
	// A leftover temp file would keep its old mode through WriteFile: start afresh.
	if err := os.Remove(tmp); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if err := os.WriteFile(tmp, data, perm); err != nil {
		return err
	}
	return os.Rename(tmp, name)
}

// OpenOrMemory opens a stand-in with opts; when its state file cannot be loaded it logs why and
// opens it with inMemory(opts), which keeps the state in memory only and leaves the file untouched.
// open must not fail on inMemory's options.
func OpenOrMemory[O, S any](opts O, open func(O) (S, error), inMemory func(O) O, log *slog.Logger, name string) S {
	s, err := open(opts)
	if err == nil {
		return s
	}
	s, _ = open(inMemory(opts))
	Logger(log).Error(name+": state file not loaded; keeping state in memory only", "err", err)
	return s
}

// Logger is log, or a logger that discards everything when log is nil.
func Logger(log *slog.Logger) *slog.Logger {
	if log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return log
}

// PageAllowed answers a request for a stand-in's page that it must refuse: a method other than GET
// or HEAD, or, when user or password is set, wrong Basic credentials (compared in constant time).
// It reports whether the page may be served.
func PageAllowed(w http.ResponseWriter, r *http.Request, user, password, realm string) bool {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return false
	}
	if user == "" && password == "" {
		return true
	}
	u, p, ok := r.BasicAuth()
	if ok && subtle.ConstantTimeCompare([]byte(u), []byte(user))&subtle.ConstantTimeCompare([]byte(p), []byte(password)) == 1 {
		return true
	}
	w.Header().Set("WWW-Authenticate", `Basic realm="`+realm+`"`)
	http.Error(w, "authentication required", http.StatusUnauthorized)
	return false
}

// WritePage renders a stand-in's page. Every value on it came from a client (in Interlock, from an
// alert): html/template escapes them, and the Content-Security-Policy forbids scripts besides.
func WritePage(w http.ResponseWriter, t *template.Template, data any, log *slog.Logger, name string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Cache-Control", "no-store")
	if err := t.Execute(w, data); err != nil {
		log.Error(name+": render page", "err", err)
	}
}

// StatusRecorder remembers the status a handler wrote, for a stand-in's request log.
type StatusRecorder struct {
	http.ResponseWriter
	Status int
}

// NewStatusRecorder wraps w; the status is 200 until the handler writes another.
func NewStatusRecorder(w http.ResponseWriter) *StatusRecorder {
	return &StatusRecorder{ResponseWriter: w, Status: http.StatusOK}
}

// WriteHeader records code and writes it.
func (r *StatusRecorder) WriteHeader(code int) {
	r.Status = code
	r.ResponseWriter.WriteHeader(code)
}

// Head is the top of a stand-in's page: everything up to and including the red banner that says it
// is not the real system.
type Head struct {
	Title   string
	Refresh bool         // reload every second, for pages that follow a running stack
	CSS     template.CSS // the page's own rules, after the shared ones; a constant, never client data
	Banner  string
}

// pageHead defines "head", which a page calls with its Head.
const pageHead = `{{define "head"}}<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
{{if .Refresh}}<meta http-equiv="refresh" content="1">
{{end}}<title>{{.Title}}</title>
<style>
body{font-family:system-ui,sans-serif;margin:0;color:#1b1b1b;line-height:1.4}
.banner{background:#b3261e;color:#fff;padding:.7em 1em;font-weight:600}
.scroll{overflow-x:auto}
table{border-collapse:collapse;font-size:.9em}
td,th{border:1px solid #ccc;padding:.25em .5em;text-align:left;vertical-align:top}
th{background:#f2f2f2}
.muted{color:#666}
{{.CSS}}
</style></head><body>
<div class="banner">{{.Banner}}</div>
{{end}}`

// PageTemplate parses a stand-in's page, which starts with {{template "head" .Head}}.
func PageTemplate(text string) *template.Template {
	return template.Must(template.Must(template.New("page").Parse(pageHead)).Parse(text))
}
