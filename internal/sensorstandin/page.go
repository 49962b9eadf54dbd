package sensorstandin

import (
	"net/http"
	"slices"

	"github.com/interlock-soar/interlock/internal/standin"
)

// The page shows a developer the alerts and whether Interlock handled them. Every value may come from
// an alert: html/template escapes each one, and the Content-Security-Policy forbids scripts besides.

var pageTmpl = standin.PageTemplate(`{{template "head" .Head}}
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
`)

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
	if !standin.PageAllowed(w, r, s.opts.PageUser, s.opts.PagePassword, "Defender for IoT sensor stand-in") {
		return
	}
	var data struct {
		Head     standin.Head
		Alerts   []pageAlert
		Requests []pageRequest
	}
	data.Head = standin.Head{Title: "Defender for IoT sensor stand-in (not a real appliance)", Refresh: true,
		CSS:    "main{padding:.5em 1em}\ntable{margin:.5em 0 1.5em}",
		Banner: "Defender for IoT sensor stand-in — not a real appliance. These alerts exist only on this machine, in memory."}
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
	standin.WritePage(w, pageTmpl, data, s.log, "sensorstandin")
}
