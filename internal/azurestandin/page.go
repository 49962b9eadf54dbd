package azurestandin

import (
	"cmp"
	"html/template"
	"net/http"
	"strings"
	"time"

	"github.com/interlock-soar/interlock/internal/standin"
)

// The page shows a developer what the stand-in holds and what reached it. Every value comes from a
// client (and so, in Interlock, from an alert): html/template escapes each one for its context,
// comments go through renderComment's allow-list, and the Content-Security-Policy forbids scripts.

var pageTmpl = standin.PageTemplate(`{{template "head" .Head}}
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
`)

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

// pageCSS is the page's own style, after the stand-ins' shared rules.
const pageCSS = `main{padding:.5em 1em;max-width:70em}
.card{border:1px solid #ccc;border-radius:6px;padding:.6em .8em;margin:.6em 0}
.card h3{margin:.1em 0 .4em;font-size:1.05em}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.15em .8em;margin:0}
dt{color:#555}dd{margin:0;overflow-wrap:anywhere}
.comment{border-left:3px solid #0078d4;padding:.2em .6em;margin:.5em 0;overflow-wrap:anywhere}
td,th{padding:.2em .5em}
.muted{font-size:.9em}`

const pageTitle = "Microsoft Sentinel / Defender for IoT stand-in (not Azure)"

type pageData struct {
	Head      standin.Head
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
	if !standin.PageAllowed(w, r, s.opts.PageUser, s.opts.PagePassword, "Azure stand-in (not Azure)") {
		return
	}
	standin.WritePage(w, pageTmpl, s.pageData(), s.log, "azurestandin")
}

func (s *Server) pageData() pageData {
	s.mu.Lock()
	defer s.mu.Unlock()
	data := pageData{Head: standin.Head{Title: pageTitle, Refresh: true, CSS: pageCSS,
		Banner: pageTitle + ". Nothing here exists in Azure; it lives only on this machine (" + s.file.Storage() + ")."}}
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
