package snowstandin

import (
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/interlock-soar/interlock/internal/standin"
)

// The pages show what the stand-in holds to a person in a browser. Every value comes from a client
// (and so, in Interlock, from an alert): html/template escapes each one for its context, and the
// Content-Security-Policy forbids scripts besides.

var pageTmpl = standin.PageTemplate(`{{template "head" .Head}}
<main>
{{if .Record}}
<p><a href="/tickets">All records</a></p>
<h1>{{.Table}} {{index .Record.Fields "number"}}</h1>
<table>{{range .Record.Names}}<tr><th>{{.}}</th><td><pre>{{index $.Record.Fields .}}</pre></td></tr>{{end}}</table>
<h2>Journal</h2>
{{range .Record.Journal}}<p class="muted">{{.At}} · {{.Author}} · {{.Field}}</p><pre>{{.Text}}</pre><hr>{{else}}<p class="muted">No work notes or comments.</p>{{end}}
{{else}}
<h1>Records</h1>
{{range .Tables}}
<h2>{{.Name}} <span class="muted">({{len .Rows}})</span></h2>
<table><tr><th>Number</th><th>Short description</th><th>State</th><th>Active</th><th>Urgency / impact</th><th>Correlation ID</th><th>Created (UTC)</th></tr>
{{range .Rows}}<tr><td><a href="{{.Link}}">{{index .Fields "number"}}</a></td><td>{{index .Fields "short_description"}}</td><td>{{index .Fields "state"}}</td><td>{{index .Fields "active"}}</td><td>{{index .Fields "urgency"}} / {{index .Fields "impact"}}</td><td>{{index .Fields "correlation_id"}}</td><td>{{index .Fields "sys_created_on"}}</td></tr>
{{end}}</table>
{{else}}<p class="muted">No records yet.</p>{{end}}
{{end}}
</main></body></html>
`)

type pageRow struct {
	Fields map[string]string
	Link   string
}

type pageTable struct {
	Name string
	Rows []pageRow
}

type pageRecord struct {
	Fields  map[string]string
	Names   []string
	Journal []journalEntry
}

// pageCSS is the pages' own style, after the stand-ins' shared rules.
const pageCSS = `body{line-height:normal}
main{padding:1em}
table{font-size:1em;margin:.5em 0 1.5em}
td,th{padding:.3em .6em}
pre{white-space:pre-wrap;margin:0;font-family:inherit}`

type pageData struct {
	Head    standin.Head
	Title   string
	Storage string
	Tables  []pageTable
	Table   string
	Record  *pageRecord
}

// recordLink is the stand-in's answer to the instance's nav_to.do link, so the links Interlock puts
// into comments open here as they would on a real instance.
func recordLink(tableName, sysID string) string {
	return "/nav_to.do?uri=" + url.QueryEscape(tableName+".do?sys_id="+sysID)
}

func (s *Server) servePage(w http.ResponseWriter, r *http.Request) {
	if !standin.PageAllowed(w, r, "", "", "") {
		return
	}
	if _, ok := s.authenticate(r); !ok {
		w.Header().Set("WWW-Authenticate", `Basic realm="Local ServiceNow stand-in"`)
		http.Error(w, "authentication required", http.StatusUnauthorized)
		return
	}
	data := pageData{Title: "Records", Storage: s.file.Storage()}
	switch p := r.URL.Path; {
	case p == "/" || p == "/tickets":
		data.Tables = s.pageTables()
	case p == "/nav_to.do" || strings.HasSuffix(p, ".do"):
		tableName, sysID := strings.TrimSuffix(strings.TrimPrefix(p, "/"), ".do"), r.URL.Query().Get("sys_id")
		if p == "/nav_to.do" {
			u, err := url.Parse(r.URL.Query().Get("uri"))
			if err != nil {
				http.NotFound(w, r)
				return
			}
			tableName, sysID = strings.TrimSuffix(strings.TrimPrefix(u.Path, "/"), ".do"), u.Query().Get("sys_id")
		}
		rec := s.pageRecord(tableName, sysID)
		if rec == nil {
			http.NotFound(w, r)
			return
		}
		data.Title, data.Table, data.Record = tableName+" "+rec.Fields["number"], tableName, rec
	default:
		http.NotFound(w, r)
		return
	}
	data.Head = standin.Head{Title: data.Title + " · Local ServiceNow stand-in", CSS: pageCSS,
		Banner: "Local ServiceNow stand-in — not a real instance. These records exist only on this machine (" + data.Storage + ")."}
	standin.WritePage(w, pageTmpl, data, s.log, "snowstandin")
}

func (s *Server) pageTables() []pageTable {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []pageTable
	for _, name := range slices.Sorted(maps.Keys(s.tables)) {
		pt := pageTable{Name: name}
		recs := s.tables[name].Records
		for i := len(recs) - 1; i >= 0; i-- { // newest first
			f := recs[i].view(nil, false)
			pt.Rows = append(pt.Rows, pageRow{Fields: f, Link: recordLink(name, f["sys_id"])})
		}
		out = append(out, pt)
	}
	return out
}

func (s *Server) pageRecord(tableName, sysID string) *pageRecord {
	s.mu.Lock()
	defer s.mu.Unlock()
	rec := s.tables[tableName].find(sysID)
	if rec == nil {
		return nil
	}
	f := maps.Clone(rec.Fields)
	return &pageRecord{Fields: f, Names: slices.Sorted(maps.Keys(f)), Journal: slices.Clone(rec.Journal)}
}
