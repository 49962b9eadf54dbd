package azurestandin

import (
	"cmp"
	"crypto/subtle"
	"html/template"
	"net/http"
	"strings"
	"time"
)

// The page shows a developer what the stand-in holds and what reached it. Every value comes from a
// client (and so, in Interlock, from an alert): html/template escapes each one for its context,
// comments go through renderComment's allow-list, and the Content-Security-Policy forbids scripts.

var pageTmpl = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="refresh" content="1">
<title>Microsoft Sentinel / Defender for IoT stand-in (not Azure)</title>
<style>
body{font-family:system-ui,sans-serif;margin:0;color:#1b1b1b;line-height:1.4}
.banner{background:#b3261e;color:#fff;padding:.7em 1em;font-weight:600}
main{padding:.5em 1em;max-width:70em}
.card{border:1px solid #ccc;border-radius:6px;padding:.6em .8em;margin:.6em 0}
.card h3{margin:.1em 0 .4em;font-size:1.05em}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.15em .8em;margin:0}
dt{color:#555}dd{margin:0;overflow-wrap:anywhere}
.comment{border-left:3px solid #0078d4;padding:.2em .6em;margin:.5em 0;overflow-wrap:anywhere}
.muted{color:#666;font-size:.9em}
.scroll{overflow-x:auto}
table{border-collapse:collapse;font-size:.9em}
td,th{border:1px solid #ccc;padding:.2em .5em;text-align:left;vertical-align:top}
th{background:#f2f2f2}
</style></head><body>
<div class="banner">Microsoft Sentinel / Defender for IoT stand-in (not Azure). Nothing here exists in Azure; it lives only on this machine ({{.Storage}}).</div>
<main>
<h1>Microsoft Sentinel / Defender for IoT stand-in (not Azure)</h1>
<h2>Sentinel incidents <span class="muted">({{len .Incidents}})</span></h2>
{{range .Incidents}}<div class="card">
<h3>#{{.Number}} · {{.Title}}</h3>
<dl>
<dt>Severity</dt><dd>{{.Severity}}</dd>
<dt>Status</dt><dd>{{.Status}}</dd>
<dt>Owner</dt><dd>{{if .Owner}}{{.Owner}}{{else}}<span class="muted">unassigned</span>{{end}}</dd>
<dt>Labels</dt><dd>{{if .Labels}}{{.Labels}}{{else}}<span class="muted">none</span>{{end}}</dd>
<dt>Classification</dt><dd>{{if .Classification}}{{.Classification}}{{if .Reason}} · {{.Reason}}{{end}}{{if .ClassComment}} · {{.ClassComment}}{{end}}{{else}}<span class="muted">none</span>{{end}}</dd>
<dt>Etag</dt><dd><code>{{.Etag}}</code></dd>
<dt>Last modified</dt><dd>{{.LastModified}}</dd>
<dt>ID</dt><dd class="muted">{{.ID}}</dd>
</dl>
{{range .Comments}}<div class="comment"><div class="muted">{{.Created}} · {{.Author}} · comment {{.Name}}{{if gt .Writes 1}} · written {{.Writes}} times{{end}}</div>{{.HTML}}</div>
{{else}}<p class="muted">No comments.</p>{{end}}
</div>
{{else}}<p class="muted">No incidents yet.</p>{{end}}
<h2>Defender for IoT alerts <span class="muted">({{len .Alerts}})</span></h2>
{{range .Alerts}}<div class="card">
<h3>{{if .DisplayName}}{{.DisplayName}}{{else}}{{.Name}}{{end}}</h3>
<dl>
<dt>Status</dt><dd>{{.Status}}</dd>
<dt>Severity</dt><dd>{{.Severity}}</dd>
<dt>Type</dt><dd>{{.AlertType}}</dd>
<dt>Last modified</dt><dd>{{.LastModified}}{{if .ModifiedBy}} by {{.ModifiedBy}}{{end}}</dd>
<dt>ID</dt><dd class="muted">{{.ID}}</dd>
</dl></div>
{{else}}<p class="muted">No alerts.</p>{{end}}
<h2>Last requests</h2>
<div class="scroll"><table><tr><th>At (UTC)</th><th>Method</th><th>Path</th><th>Status</th><th>Fault</th></tr>
{{range .Requests}}<tr><td>{{.At}}</td><td>{{.Method}}</td><td>{{.Path}}</td><td>{{.Status}}</td><td>{{.Fault}}</td></tr>
{{else}}<tr><td colspan="5" class="muted">None yet.</td></tr>{{end}}</table></div>
</main></body></html>
`))

type pageComment struct {
	Name, Created, Author string
	Writes                int
	HTML                  template.HTML
}

type pageIncident struct {
	ID, Title, Severity, Status, Owner, Labels string
	Classification, Reason, ClassComment, Etag string
	LastModified                               string
	Number                                     int
	Comments                                   []pageComment
}

type pageAlert struct {
	ID, Name, DisplayName, Status, Severity, AlertType, LastModified, ModifiedBy string
}

type pageRequest struct {
	At, Method, Path, Fault string
	Status                  int
}

type pageData struct {
	Storage   string
	Incidents []pageIncident
	Alerts    []pageAlert
	Requests  []pageRequest
}

const pageTimeLayout = "2006-01-02 15:04:05"

func pageTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(pageTimeLayout)
}

func (s *Server) servePage(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if s.opts.PageUser != "" || s.opts.PagePassword != "" {
		u, p, ok := r.BasicAuth()
		good := ok && subtle.ConstantTimeCompare([]byte(u), []byte(s.opts.PageUser))&
			subtle.ConstantTimeCompare([]byte(p), []byte(s.opts.PagePassword)) == 1
		if !good {
			w.Header().Set("WWW-Authenticate", `Basic realm="Azure stand-in (not Azure)"`)
			http.Error(w, "authentication required", http.StatusUnauthorized)
			return
		}
	}
	data := s.pageData()
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Cache-Control", "no-store")
	if err := pageTmpl.Execute(w, data); err != nil {
		s.log.Error("azurestandin: render page", "err", err)
	}
}

func (s *Server) pageData() pageData {
	s.mu.Lock()
	defer s.mu.Unlock()
	data := pageData{Storage: "in memory"}
	if s.persist {
		data.Storage = "saved in " + s.opts.File
	}
	for i := len(s.st.Incidents) - 1; i >= 0; i-- { // newest first
		inc := s.st.Incidents[i]
		p := inc.Properties
		labels := make([]string, len(p.Labels))
		for j, l := range p.Labels {
			labels[j] = l.LabelName
		}
		pi := pageIncident{
			ID: inc.ID, Title: p.Title, Severity: p.Severity, Status: p.Status,
			Owner:  cmp.Or(p.Owner.UserPrincipalName, p.Owner.Email, p.Owner.AssignedTo, p.Owner.ObjectID),
			Labels: strings.Join(labels, ", "), Classification: p.Classification, Reason: p.ClassificationReason,
			ClassComment: p.ClassificationComment, Etag: inc.Etag, LastModified: pageTime(p.LastModifiedTimeUtc), Number: p.IncidentNumber,
		}
		for _, c := range inc.Comments {
			pi.Comments = append(pi.Comments, pageComment{Name: c.Name, Created: pageTime(c.Created), Author: c.Author.Name,
				Writes: c.Writes, HTML: renderComment(c.Message)})
		}
		data.Incidents = append(data.Incidents, pi)
	}
	for _, a := range s.st.Alerts {
		p := a.Properties
		data.Alerts = append(data.Alerts, pageAlert{ID: a.ID, Name: a.Name, DisplayName: p.DisplayName, Status: p.Status,
			Severity: p.Severity, AlertType: p.AlertType, LastModified: pageTime(p.LastModified), ModifiedBy: a.ModifiedBy})
	}
	for i := len(s.requests) - 1; i >= 0 && len(data.Requests) < 50; i-- {
		q := s.requests[i]
		if q.Path == "/" {
			continue // the page's own refreshes would crowd out the API requests
		}
		data.Requests = append(data.Requests, pageRequest{At: pageTime(q.At), Method: q.Method, Path: q.Path, Fault: q.Fault, Status: q.Status})
	}
	return data
}
