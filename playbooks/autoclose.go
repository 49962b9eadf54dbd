package playbooks

// The auto-close playbook: an incident raised while every device it names is inside a planned
// maintenance window or an approved change request is closed as BenignPositive / SuspiciousButExpected,
// with a comment naming the window or change request.
//
// It matches Microsoft's AD4IoT-AutoCloseIncidents, which closes any incident whose first alert's source
// address is in an "ipaddresses" watchlist and whose creation hour (UTC) is between 01 and 22.
//
// Its design decisions are in doc.go.

import (
	"fmt"
	"strings"
	"time"

	"github.com/interlock-soar/interlock/internal/safetext"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/interlock-soar/interlock/activities"
	"github.com/interlock-soar/interlock/internal/assets"
	"github.com/interlock-soar/interlock/internal/config"
	"github.com/interlock-soar/interlock/internal/incident"
	"github.com/interlock-soar/interlock/workflows"
)

// AutoCloseName is the registered workflow type. Never rename it.
const AutoCloseName = "AutoCloseIncidents"

// closeMaxDevices bounds the planned-change lookups of one incident; past it nothing is closed.
const closeMaxDevices = 25

// CloseSettings are the playbook's settings. Build them with CloseSettingsFrom.
type CloseSettings struct {
	Tag string `json:"tag,omitempty"`
}

// CloseSettingsFrom makes the settings from the validated config section.
func CloseSettingsFrom(cfg config.AutoClose) CloseSettings {
	return CloseSettings{Tag: strings.TrimSpace(cfg.Tag)}
}

// AutoClose is the playbook.
type AutoClose struct {
	Settings CloseSettings
}

// NewAutoClose makes the playbook from the validated config section.
func NewAutoClose(cfg config.AutoClose) *AutoClose {
	return &AutoClose{Settings: CloseSettingsFrom(cfg)}
}

// AutoCloseResult records what a run did.
type AutoCloseResult struct {
	Incident string `json:"incident"`
	Number   int64  `json:"number,omitempty"`
	Closed   bool   `json:"closed"`
	// Covered are the devices inside a window, with the window or change request.
	Covered []CoveredDevice `json:"covered,omitempty"`
	// NotCovered are the devices outside every window, or whose lookup failed (with why).
	NotCovered   []SkippedDevice `json:"notCovered,omitempty"`
	Changes      []string        `json:"changes,omitempty"`
	Comment      string          `json:"comment,omitempty"`
	CommentError string          `json:"commentError,omitempty"`
	UpdateError  string          `json:"updateError,omitempty"`
	Reason       string          `json:"reason,omitempty"`
}

// CoveredDevice is a device inside a planned window.
type CoveredDevice struct {
	Device  string                   `json:"device"`
	Planned activities.PlannedChange `json:"planned"`
}

// Run is the workflow.
func (p *AutoClose) Run(ctx workflow.Context, inc incident.Incident) (AutoCloseResult, error) {
	if err := startRun(ctx, AutoCloseName, inc); err != nil {
		return AutoCloseResult{}, err
	}
	s, err := readSettings(ctx, func() CloseSettings { return p.Settings })
	if err != nil {
		return AutoCloseResult{}, err
	}
	res := AutoCloseResult{Incident: inc.ID, Number: inc.Number}
	if equalFoldTrim(inc.Status, incident.StatusClosed) {
		res.Reason = "the incident is already closed"
		return res, nil
	}
	placed, assetsErr, err := describeAssets(ctx, inc)
	if err != nil {
		return res, err
	}
	switch {
	case assetsErr != "":
		res.Reason = "not closed: the asset directory could not say whether a device is safety-relevant (" + assetsErr + ")"
		return res, nil
	case len(placed.Devices) == 0:
		res.Reason = "not closed: the incident names no device to match a maintenance window against"
		return res, nil
	case len(placed.Devices) > closeMaxDevices:
		res.Reason = fmt.Sprintf("not closed: %d devices, more than the %d one incident may be closed for", len(placed.Devices), closeMaxDevices)
		return res, nil
	}
	if why := closeBlockedBySafety(placed.Devices, inc.Severity); why != "" {
		res.Reason = "not closed: " + why
		return res, nil
	}
	if err := p.lookUp(ctx, inc, placed.Devices, &res); err != nil {
		return res, err
	}
	if len(res.NotCovered) > 0 {
		res.Reason = fmt.Sprintf("not closed: %d of %d devices are outside every planned maintenance window or change", len(res.NotCovered), len(placed.Devices))
		return res, nil
	}
	return res, p.close(ctx, inc, s, &res)
}

// lookUp asks FindPlannedChange about every device, in parallel, and sorts them into covered and not.
func (p *AutoClose) lookUp(ctx workflow.Context, inc incident.Incident, devices []activities.PlacedDevice, res *AutoCloseResult) error {
	at := firstTime(inc.FirstActivity, firstAlertStart(inc), inc.Created, workflow.Now(ctx))
	lctx := workflows.WithCallOptions(ctx, lookupAttempt, lookupTotal)
	futures := make([]workflow.Future, len(devices))
	for i, pd := range devices {
		d := pd.Device
		site, zone := d.Site, d.Zone
		if pd.Place != nil {
			site, zone = firstNonEmpty(site, pd.Place.Site), firstNonEmpty(zone, pd.Place.Zone)
		}
		futures[i] = workflows.CallOutside(lctx, activities.FindPlannedChange, activities.PlannedChangeRequest{
			PLC: activities.DeviceFacts{Name: d.DisplayName(), IP: d.IP, MAC: d.MAC, Type: d.Type}, Site: site, Zone: zone, At: at,
		})
	}
	for i, f := range futures {
		name := workstationName(devices[i].Device)
		var pc activities.PlannedChange
		if err := f.Get(ctx, &pc); err != nil {
			if temporal.IsCanceledError(err) {
				return err
			}
			res.NotCovered = append(res.NotCovered, SkippedDevice{name, "planned-change lookup failed: " + ticketFailure(err)})
			continue
		}
		if !pc.Planned {
			res.NotCovered = append(res.NotCovered, SkippedDevice{name, "no maintenance window or approved change covers it at " + stamp(at)})
			continue
		}
		res.Covered = append(res.Covered, CoveredDevice{Device: name, Planned: pc})
	}
	return nil
}

// close comments, then closes: a comment that could not be written is recorded, and the close goes on.
func (p *AutoClose) close(ctx workflow.Context, inc incident.Incident, s CloseSettings, res *AutoCloseResult) error {
	var err error
	res.Comment = closeComment(res.Covered)
	if res.CommentError, err = writeComment(ctx, inc, AutoCloseName, "closed", res.Comment); err != nil {
		return err
	}
	upd := activities.UpdateRequest{
		IncidentID: inc.ID, IncidentARMID: inc.ARMID, Number: inc.Number,
		Status: incident.StatusClosed, Classification: "BenignPositive", ClassificationReason: "SuspiciousButExpected",
		ClassificationComment: safetext.Clip("Planned maintenance: "+plannedNames(res.Covered)+" (closed by Interlock "+AutoCloseName+")", 1000),
	}
	if s.Tag != "" {
		upd.AddTags = []string{s.Tag}
	}
	if res.Changes, res.UpdateError, err = writeUpdate(ctx, upd); err != nil {
		return err
	}
	res.Closed = res.UpdateError == ""
	return nil
}

// closeBlockedBySafety says why a safety rule forbids closing, or "".
func closeBlockedBySafety(devices []activities.PlacedDevice, severity string) string {
	high := incident.SeverityRank(severity) >= incident.SeverityRank(incident.SeverityHigh)
	for _, pd := range devices {
		safety := strings.Contains(strings.ToLower(pd.Device.SubType), "safety")
		critical := false
		if pd.Place != nil {
			safety = safety || pd.Place.Safety
			critical = pd.Place.Criticality == assets.CriticalityHigh
		}
		if safety && (high || critical) {
			what := "severity High"
			if !high {
				what = "criticality high"
			}
			return fmt.Sprintf("%s is a safety-relevant asset (%s): never closed automatically", workstationName(pd.Device), what)
		}
	}
	return ""
}

func plannedNames(covered []CoveredDevice) string {
	var names []string
	for _, c := range covered {
		n := plannedName(c.Planned)
		if !containsString(names, n) {
			names = append(names, n)
		}
	}
	return strings.Join(names, ", ")
}

func plannedName(pc activities.PlannedChange) string {
	if pc.Source == activities.PlannedByChangeRequest {
		return safetext.Line(pc.Number+" "+pc.Name, 200)
	}
	return safetext.Line("window "+pc.Name, 200)
}

// closeComment names the window or change request of each device; everything is escaped.
func closeComment(covered []CoveredDevice) string {
	var b strings.Builder
	b.WriteString("<p><b>Interlock</b> (" + AutoCloseName + "): closed as BenignPositive / SuspiciousButExpected: every device was inside planned maintenance when the alert was raised.</p>\n<ul>\n")
	for i, c := range covered {
		if i == maxCommentDevices {
			b.WriteString(fmt.Sprintf("<li>and %d more</li>\n", len(covered)-i))
			break
		}
		b.WriteString("<li>" + esc(c.Device) + ": " + esc(plannedName(c.Planned)) + " (" + esc(safetext.Line(c.Planned.Window, 200)) + ")</li>\n")
	}
	b.WriteString("</ul>\n")
	return b.String()
}

func firstAlertStart(inc incident.Incident) (t time.Time) {
	if a, ok := inc.PrimaryAlert(); ok {
		return a.StartTime
	}
	return t
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
