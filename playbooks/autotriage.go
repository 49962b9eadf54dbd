package playbooks

// The auto-triage playbook: an incident that involves a high-importance device, or a safety-relevant
// asset of the asset directory, is raised to severity High and status Active, tagged, and told why.
//
// It matches Microsoft's AD4IoT-AutoTriageIncident, which looks for "Importance":"High" in the first
// alert's entities through a Log Analytics query, updates the incident every time it runs and comments
// again each time.
//
// Its design decisions are in doc.go.

import (
	"fmt"
	"strings"

	"go.temporal.io/sdk/workflow"

	"github.com/interlock-soar/interlock/activities"
	"github.com/interlock-soar/interlock/internal/config"
	"github.com/interlock-soar/interlock/internal/incident"
	"github.com/interlock-soar/interlock/internal/safetext"
)

// AutoTriageName is the registered workflow type. Never rename it.
const AutoTriageName = "AutoTriageIncident"

// maxCommentDevices bounds the devices a comment lists, so a flood of entities cannot make it huge.
const maxCommentDevices = 25

// TriageSettings are the playbook's settings. Build them with TriageSettingsFrom.
type TriageSettings struct {
	Tag    string `json:"tag"`
	Safety bool   `json:"safety"`
}

// TriageSettingsFrom makes the settings from the validated config section.
func TriageSettingsFrom(cfg config.AutoTriage) TriageSettings {
	return TriageSettings{Tag: strings.TrimSpace(cfg.Tag), Safety: cfg.Safety}
}

// DefaultTriageSettings are the settings of the default config.
func DefaultTriageSettings() TriageSettings {
	return TriageSettingsFrom(config.Default().Playbooks.AutoTriage)
}

func (s TriageSettings) normalized() TriageSettings {
	if s.Tag == "" {
		s.Tag = DefaultTriageSettings().Tag
	}
	return s
}

// AutoTriage is the playbook.
type AutoTriage struct {
	Settings TriageSettings
}

// NewAutoTriage makes the playbook from the validated config section.
func NewAutoTriage(cfg config.AutoTriage) *AutoTriage {
	return &AutoTriage{Settings: TriageSettingsFrom(cfg)}
}

// AutoTriageResult records what a run did.
type AutoTriageResult struct {
	Incident string `json:"incident"`
	Number   int64  `json:"number,omitempty"`
	// Devices are the devices that made the incident High, each with why.
	Devices []TriagedDevice `json:"devices,omitempty"`
	// Changes are what the update changed, as the write-back reported it.
	Changes      []string `json:"changes,omitempty"`
	Comment      string   `json:"comment,omitempty"`
	CommentError string   `json:"commentError,omitempty"`
	UpdateError  string   `json:"updateError,omitempty"`
	AssetsError  string   `json:"assetsError,omitempty"`
	// Reason says why nothing (or nothing more) was done.
	Reason string `json:"reason,omitempty"`
}

// TriagedDevice is a device that makes the incident High.
type TriagedDevice struct {
	Device string   `json:"device"`
	Why    []string `json:"why"`
}

// Run is the workflow.
func (p *AutoTriage) Run(ctx workflow.Context, inc incident.Incident) (AutoTriageResult, error) {
	if err := startRun(ctx, AutoTriageName, inc); err != nil {
		return AutoTriageResult{}, err
	}
	s, err := readSettings(ctx, p.Settings.normalized)
	if err != nil {
		return AutoTriageResult{}, err
	}
	res := AutoTriageResult{Incident: inc.ID, Number: inc.Number}
	if equalFoldTrim(inc.Status, incident.StatusClosed) {
		res.Reason = "the incident is closed: auto-triage never reopens one"
		return res, nil
	}
	placed, assetsErr, err := describeAssets(ctx, inc)
	if err != nil {
		return res, err
	}
	res.AssetsError = assetsErr
	res.Devices = triageDevices(placed.Devices, s.Safety)
	if len(res.Devices) == 0 {
		res.Reason = fmt.Sprintf("no high-importance or safety-relevant device among %d devices", len(placed.Devices))
		return res, nil
	}
	upd := activities.UpdateRequest{IncidentID: inc.ID, IncidentARMID: inc.ARMID, Number: inc.Number, RaiseOnly: true}
	if incident.SeverityRank(inc.Severity) < incident.SeverityRank(incident.SeverityHigh) {
		upd.Severity = incident.SeverityHigh
	}
	if !equalFoldTrim(inc.Status, incident.StatusActive) {
		upd.Status = incident.StatusActive
	}
	tagged := hasTag(inc.Labels, s.Tag)
	if !tagged {
		upd.AddTags = []string{s.Tag}
		res.Comment = triageComment(res.Devices, s.Tag)
		if res.CommentError, err = writeComment(ctx, inc, AutoTriageName, "triage", res.Comment); err != nil {
			return res, err
		}
	}
	if upd.Severity == "" && upd.Status == "" && len(upd.AddTags) == 0 {
		res.Reason = "already triaged: severity High, status Active, tagged " + s.Tag
		return res, nil
	}
	if res.Changes, res.UpdateError, err = writeUpdate(ctx, upd); err != nil {
		return res, err
	}
	return res, nil
}

// triageDevices lists the devices that make the incident High, in incident order, each once.
func triageDevices(devices []activities.PlacedDevice, safety bool) []TriagedDevice {
	var out []TriagedDevice
	seen := map[string]bool{}
	for _, pd := range devices {
		var why []string
		if equalFoldTrim(pd.Device.Importance, "High") {
			why = append(why, "importance High")
		}
		if safety && pd.Place != nil && pd.Place.Safety {
			why = append(why, "safety-relevant asset "+safetext.Line(pd.Place.Asset, 100)+" in the asset directory")
		}
		name := workstationName(pd.Device)
		if len(why) == 0 || seen[name] {
			continue
		}
		seen[name] = true
		out = append(out, TriagedDevice{Device: name, Why: why})
	}
	return out
}

// triageComment is the incident comment; device names come from the alert and the directory, so
// everything is escaped.
func triageComment(devices []TriagedDevice, tag string) string {
	var b strings.Builder
	b.WriteString("<p><b>Interlock</b> (" + AutoTriageName + "): this incident involves high-importance or safety-relevant devices, so it is triaged as High and Active and tagged &quot;" + esc(tag) + "&quot;.</p>\n<ul>\n")
	for i, d := range devices {
		if i == maxCommentDevices {
			b.WriteString(fmt.Sprintf("<li>and %d more</li>\n", len(devices)-i))
			break
		}
		b.WriteString("<li>" + esc(d.Device) + ": " + esc(strings.Join(d.Why, "; ")) + "</li>\n")
	}
	b.WriteString("</ul>\n")
	return b.String()
}
