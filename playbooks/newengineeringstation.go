package playbooks

// The new-engineering-workstation playbook: when an incident names an engineering workstation that
// Defender for IoT does not list as authorized, make sure one open ServiceNow ticket covers it, and
// tell the incident which tickets cover which devices.
//
// It improves on Microsoft's AD4IoT-NewAssetServiceNowTicket, which looks only at the first entity,
// creates a ticket every time it runs (duplicates on every redelivery), writes one sentence
// ("A new … was detected with the following Ip address <deviceName>") and tells the incident nothing.
//
// Its design decisions are in doc.go.

import (
	"errors"
	"fmt"
	"html"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/interlock-soar/interlock/activities"
	"github.com/interlock-soar/interlock/internal/config"
	"github.com/interlock-soar/interlock/internal/incident"
	"github.com/interlock-soar/interlock/internal/safetext"
	"github.com/interlock-soar/interlock/workflows"
)

// NewEngineeringStationName is the registered workflow type. Never rename it.
const NewEngineeringStationName = "NewEngineeringStationTicket"

// FailureTicketsFailed is the error type of a run in which no device could be ticketed.
const FailureTicketsFailed = "TicketsFailed"

// maxTicketsPerRun bounds the tickets one incident can open.
const maxTicketsPerRun = 25

// The incident comment is retried for a shorter time than the tickets: they are what matters, and
// the run's result records a comment that could not be written.
const commentAttempt, commentTotal = 30 * time.Second, 10 * time.Minute

// NewEngineeringStationSettings are the playbook's settings. Build them with NewEngineeringStationSettingsFrom.
type NewEngineeringStationSettings struct {
	// DeviceTypes are the device types or sub-types that count as engineering workstations. Nil takes
	// the default; an empty list counts only devices marked as programming devices.
	DeviceTypes []string                `json:"deviceTypes"`
	Table       string                  `json:"table"`
	Fields      activities.TicketFields `json:"fields"`
	// AttemptTimeout bounds one attempt of a ServiceNow call; RetryFor, how long Temporal retries.
	AttemptTimeout time.Duration `json:"attemptTimeout"`
	RetryFor       time.Duration `json:"retryFor"`
}

// NewEngineeringStationSettingsFrom makes the settings from the validated config section.
func NewEngineeringStationSettingsFrom(cfg config.NewEngineeringStation) NewEngineeringStationSettings {
	s := NewEngineeringStationSettings{
		Table: strings.TrimSpace(cfg.Table),
		Fields: activities.TicketFields{
			Category:                 strings.TrimSpace(cfg.Category),
			Subcategory:              strings.TrimSpace(cfg.Subcategory),
			AssignmentGroup:          strings.TrimSpace(cfg.AssignmentGroup),
			CallerID:                 strings.TrimSpace(cfg.CallerID),
			ShortDescriptionTemplate: cfg.ShortDescriptionTemplate,
		},
		AttemptTimeout: cfg.AttemptTimeout,
		RetryFor:       cfg.RetryFor,
	}
	s.DeviceTypes = []string{}
	for _, t := range cfg.DeviceTypes {
		if t = strings.TrimSpace(t); t != "" {
			s.DeviceTypes = append(s.DeviceTypes, t)
		}
	}
	if len(cfg.ExtraFields) > 0 {
		s.Fields.Extra = make(map[string]string, len(cfg.ExtraFields))
		for k, v := range cfg.ExtraFields {
			s.Fields.Extra[k] = v
		}
	}
	return s
}

// DefaultNewEngineeringStationSettings are the settings of the default config.
func DefaultNewEngineeringStationSettings() NewEngineeringStationSettings {
	return NewEngineeringStationSettingsFrom(config.Default().Playbooks.NewEngineeringStation)
}

// normalized fills what a hand-built NewEngineeringStationSettings left empty with the defaults.
func (s NewEngineeringStationSettings) normalized() NewEngineeringStationSettings {
	def := DefaultNewEngineeringStationSettings()
	out := s
	if out.DeviceTypes == nil {
		out.DeviceTypes = def.DeviceTypes
	}
	if out.Table == "" {
		out.Table = def.Table
	}
	out.AttemptTimeout, out.RetryFor = retryBudget(out.AttemptTimeout, out.RetryFor, def.AttemptTimeout, def.RetryFor)
	return out
}

// NewEngineeringStation opens the ServiceNow tickets for new workstations; Settings are read once per run.
type NewEngineeringStation struct {
	Settings NewEngineeringStationSettings
}

// NewEngineeringStationPlaybook makes the playbook from the validated config section.
func NewEngineeringStationPlaybook(cfg config.NewEngineeringStation) *NewEngineeringStation {
	return &NewEngineeringStation{Settings: NewEngineeringStationSettingsFrom(cfg)}
}

// NewEngineeringStationResult records what a run did, device by device.
type NewEngineeringStationResult struct {
	Incident string                    `json:"incident"`
	Number   int64                     `json:"number,omitempty"`
	Tickets  []activities.TicketResult `json:"tickets,omitempty"`
	Skipped  []SkippedDevice           `json:"skipped,omitempty"`
	Failed   []FailedDevice            `json:"failed,omitempty"`
	// Comment is the HTML comment written to the incident; CommentError why it could not be.
	Comment      string `json:"comment,omitempty"`
	CommentError string `json:"commentError,omitempty"`
	// Reason says why nothing was done, when nothing was.
	Reason string `json:"reason,omitempty"`
}

// SkippedDevice is a workstation the run did not ticket, and why.
type SkippedDevice struct {
	Device string `json:"device"`
	Reason string `json:"reason"`
}

// FailedDevice is a workstation whose ticket could not be made.
type FailedDevice struct {
	Device string `json:"device"`
	Error  string `json:"error"`
}

// Run is the workflow.
func (p *NewEngineeringStation) Run(ctx workflow.Context, inc incident.Incident) (NewEngineeringStationResult, error) {
	if err := startRun(ctx, NewEngineeringStationName, inc); err != nil {
		return NewEngineeringStationResult{}, err
	}
	s, err := readSettings(ctx, p.Settings.normalized)
	if err != nil {
		return NewEngineeringStationResult{}, err
	}
	logger := workflow.GetLogger(ctx)
	res := NewEngineeringStationResult{Incident: inc.ID, Number: inc.Number}

	targets, skipped := selectWorkstations(inc.Devices, s.DeviceTypes)
	res.Skipped = skipped
	if len(targets) == 0 {
		res.Reason = fmt.Sprintf("no unauthorized engineering workstation among %d devices", len(inc.Devices))
		return res, nil
	}

	actx := workflows.WithCallOptions(ctx, s.AttemptTimeout, s.RetryFor)
	ti := activities.NewTicketIncident(inc)
	seenAt := firstTime(inc.LastActivity, inc.FirstActivity, inc.Created, workflow.Now(ctx))
	futures := make([]workflow.Future, len(targets))
	for i, d := range targets {
		futures[i] = workflows.CallOutside(actx, activities.EnsureTicket, activities.EnsureTicketRequest{
			Incident: ti, Device: d, Table: s.Table, Fields: s.Fields, SeenAt: seenAt,
		})
	}
	// Collected in device order, whatever order they finish in.
	for i, f := range futures {
		var tr activities.TicketResult
		if err := f.Get(ctx, &tr); err != nil {
			name := workstationName(targets[i])
			logger.Warn("no ticket for workstation", "device", name, "err", err)
			res.Failed = append(res.Failed, FailedDevice{Device: name, Error: ticketFailure(err)})
			continue
		}
		res.Tickets = append(res.Tickets, tr)
	}

	res.Comment = ticketsComment(res, inc.Impact)
	var wr activities.WriteResult
	cctx := workflows.WithCallOptions(ctx, commentAttempt, commentTotal)
	err = workflows.CallOutside(cctx, activities.AddIncidentComment, activities.CommentRequest{
		IncidentID: inc.ID, IncidentARMID: inc.ARMID, Number: inc.Number, Message: res.Comment, Purpose: "tickets",
	}).Get(ctx, &wr)
	if err != nil {
		// The tickets exist; a lost comment is recorded, not a reason to fail the run.
		logger.Warn("incident comment failed", "err", err)
		res.CommentError = ticketFailure(err)
	}
	if len(res.Tickets) == 0 {
		return res, temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("no workstation could be ticketed (%d failed): %s", len(res.Failed), res.Failed[0].Error),
			FailureTicketsFailed, nil)
	}
	return res, nil
}

// selectWorkstations picks the devices to ticket, in incident order, and says why the other
// workstations are left out. Devices that are not workstations are not mentioned.
func selectWorkstations(devices []incident.Device, types []string) (targets []incident.Device, skipped []SkippedDevice) {
	keys := map[string]string{}
	for _, d := range devices {
		if !d.IsEngineeringWorkstation(types) {
			continue
		}
		name := workstationName(d)
		key := activities.DeviceKey(d)
		switch first, dup := keys[key]; {
		case d.IsAuthorized:
			skipped = append(skipped, SkippedDevice{name, "authorized in Defender for IoT"})
		case key == "":
			skipped = append(skipped, SkippedDevice{name, "no MAC address, Defender for IoT device ID or IP address to identify it"})
		case dup:
			skipped = append(skipped, SkippedDevice{name, "same device as " + first})
		case len(targets) == maxTicketsPerRun:
			skipped = append(skipped, SkippedDevice{name, fmt.Sprintf("more than %d workstations in one incident", maxTicketsPerRun)})
		default:
			keys[key] = name
			targets = append(targets, d)
		}
	}
	return targets, skipped
}

// workstationName names a device in results and comments: its display name, with its IP when that differs.
func workstationName(d incident.Device) string {
	name := safetext.Line(d.DisplayName(), 100)
	if ip := safetext.Line(d.IP, 60); ip != "" && ip != name {
		name += " (" + ip + ")"
	}
	if name == "" {
		return "(unnamed device)"
	}
	return name
}

// ticketFailure is the readable part of an activity failure: the application error's message and cause.
func ticketFailure(err error) string {
	if appErr, ok := errors.AsType[*temporal.ApplicationError](err); ok {
		return safetext.Line(appErr.Error(), 500)
	}
	if tErr, ok := errors.AsType[*temporal.TimeoutError](err); ok {
		return safetext.Line("gave up retrying: "+tErr.Error(), 500)
	}
	return safetext.Line(err.Error(), 500)
}

func firstTime(ts ...time.Time) time.Time {
	for _, t := range ts {
		if !t.IsZero() {
			return t
		}
	}
	return time.Time{}
}

// ticketsComment is the incident comment. Every string in it is escaped: device names come from the alert,
// ticket numbers and links from ServiceNow, and the business impact from the alert and the asset
// directory.
func ticketsComment(res NewEngineeringStationResult, impact *incident.Impact) string {
	e := html.EscapeString
	var b strings.Builder
	b.WriteString("<p><b>Interlock</b>: ServiceNow tickets for unauthorized engineering workstations (" + NewEngineeringStationName + ").</p>\n")
	if s := activities.ImpactSummary(impact); s != "" {
		b.WriteString("<p>Business impact: " + e(s) + "</p>\n")
	}
	b.WriteString("<ul>\n")
	for _, t := range res.Tickets {
		ticket := e(t.Number)
		if strings.HasPrefix(t.URL, "https://") || strings.HasPrefix(t.URL, "http://") {
			ticket = `<a href="` + e(t.URL) + `">` + ticket + "</a>"
		}
		switch {
		case t.Created:
			b.WriteString("<li>" + e(t.Device) + ": new ticket " + ticket + "</li>\n")
		case t.Noted:
			b.WriteString("<li>" + e(t.Device) + ": already open as " + ticket + "; this incident was added to it as a work note</li>\n")
		default:
			b.WriteString("<li>" + e(t.Device) + ": already open as " + ticket + "</li>\n")
		}
	}
	for _, f := range res.Failed {
		b.WriteString("<li>" + e(f.Device) + ": <b>no ticket</b>: " + e(f.Error) + "</li>\n")
	}
	b.WriteString("</ul>\n")
	if len(res.Skipped) > 0 {
		b.WriteString("<p>Not ticketed:</p>\n<ul>\n")
		for _, s := range res.Skipped {
			b.WriteString("<li>" + e(s.Device) + ": " + e(s.Reason) + "</li>\n")
		}
		b.WriteString("</ul>\n")
	}
	return b.String()
}
