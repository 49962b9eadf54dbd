package sensorstandin

import (
	"crypto/subtle"
	"html/template"
	"net/http"
	"slices"
)

// The page shows a developer the alerts and whether Interlock handled them. Every value may come from
// an alert: html/template escapes each one, and the Content-Security-Policy forbids scripts besides.

var pageTmpl = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="refresh" content="1">
<title>Defender for IoT sensor stand-in (not a real appliance)</title>
<style>
body{font-family:system-ui,sans-serif;margin:0;color:#1b1b1b;line-height:1.4}
.banner{background:#b3261e;color:#fff;padding:.7em 1em;font-weight:600}
main{padding:.5em 1em}
.scroll{overflow-x:auto}
table{border-collapse:collapse;font-size:.9em;margin:.5em 0 1.5em}
td,th{border:1px solid #ccc;padding:.25em .5em;text-align:left;vertical-align:top}
th{background:#f2f2f2}
.muted{color:#666}
</style></head><body>
<div class="banner">Defender for IoT sensor stand-in — not a real appliance. These alerts exist only on this machine, in memory.</div>
<main>
<h1>Alerts <span class="muted">({{len .Alerts}})</span></h1>
<div class="scroll"><table><tr><th>ID</th><th>UUID</th><th>Time (UTC)</th><th>Title</th><th>Severity</th><th>Engine</th><th>Source → destination</th><th>Site / zone / sensor</th><th>State</th></tr>
{{range .Alerts}}<tr><td>{{.ID}}</td><td>{{.UUID}}</td><td>{{.Time}}</td><td>{{.Title}}</td><td>{{.Severity}}</td><td>{{.Engine}}</td><td>{{.Source}} → {{.Destination}}</td><td>{{.Where}}</td><td>{{.State}}</td></tr>
{{else}}<tr><td colspan="9" class="muted">No alerts.</td></tr>{{end}}</table></div>
<h2>Last requests</h2>
<div class="scroll"><table><tr><th>At (UTC)</th><th>Method</th><th>Path</th><th>Action</th><th>Status</th></tr>
{{range .Requests}}<tr><td>{{.At}}</td><td>{{.Method}}</td><td>{{.Path}}</td><td>{{.Action}}</td><td>{{.Status}}</td></tr>
{{else}}<tr><td colspan="5" class="muted">None yet.</td></tr>{{end}}</table></div>
</main></body></html>
`))

type pageAlert struct {
	ID                                                                     int
	UUID, Time, Title, Severity, Engine, Source, Destination, Where, State string
}

type pageRequest struct {
	At, Method, Path, Action string
	Status                   int
}

func (s *Server) servePage(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/" {
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if s.opts.PageUser != "" || s.opts.PagePassword != "" {
		u, p, ok := r.BasicAuth()
		if !ok || subtle.ConstantTimeCompare([]byte(u), []byte(s.opts.PageUser))&subtle.ConstantTimeCompare([]byte(p), []byte(s.opts.PagePassword)) != 1 {
			w.Header().Set("WWW-Authenticate", `Basic realm="Defender for IoT sensor stand-in"`)
			http.Error(w, "authentication required", http.StatusUnauthorized)
			return
		}
	}
	var data struct {
		Alerts   []pageAlert
		Requests []pageRequest
	}
	for _, a := range slices.Backward(s.Alerts()) { // newest first
		state := "Unhandled"
		switch {
		case a.Learned:
			state = "Handled and learned"
		case a.Handled:
			state = "Handled"
		}
		data.Alerts = append(data.Alerts, pageAlert{ID: a.ID, UUID: a.UUID, Time: a.Time.UTC().Format("2006-01-02 15:04:05"), Title: a.Title,
			Severity: a.Severity, Engine: a.Engine, Source: a.SourceDeviceAddress, Destination: a.DestinationDeviceAddress,
			Where: a.SiteName + " / " + a.ZoneName + " / " + a.SensorName, State: state})
	}
	reqs := s.Requests()
	for i := len(reqs) - 1; i >= 0 && len(data.Requests) < 50; i-- {
		q := reqs[i]
		if q.Path == "/" {
			continue // the page's own refreshes would crowd out the API requests
		}
		data.Requests = append(data.Requests, pageRequest{At: q.At.Format("2006-01-02 15:04:05"), Method: q.Method, Path: q.Path, Action: q.Action, Status: q.Status})
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Cache-Control", "no-store")
	if err := pageTmpl.Execute(w, data); err != nil {
		s.log.Error("sensorstandin: render page", "err", err)
	}
}
