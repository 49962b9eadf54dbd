package playbooks

// The mail-by-production-line playbook: tell each production line's mailbox about an incident on the
// line, in one message per line listing every device of the incident on that line.
//
// It matches Microsoft's AD4IoT-MailByProductionLine (MailBySensor.json), which looks the first alert's
// SensorId up in a "MailsBySensor" watchlist and mails the first row's address.
//
// Its design decisions are in doc.go.

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/interlock-soar/interlock/activities"
	"github.com/interlock-soar/interlock/internal/config"
	"github.com/interlock-soar/interlock/internal/incident"
	"github.com/interlock-soar/interlock/internal/safetext"
	"github.com/interlock-soar/interlock/workflows"
)

// MailByLineName is the registered workflow type. Never rename it.
const MailByLineName = "MailByProductionLine"

// FailureMailFailed is the error type of a run in which no line could be mailed.
const FailureMailFailed = "MailFailed"

// lineMailAttempt, lineMailTotal bound one line's message: SMTP down is retried for a quarter hour.
const lineMailAttempt, lineMailTotal = 30 * time.Second, 15 * time.Minute

// MailLineSettings are the playbook's settings. Build them with MailLineSettingsFrom.
type MailLineSettings struct {
	MaxLines int `json:"maxLines"`
}

// MailLineSettingsFrom makes the settings from the validated config section.
func MailLineSettingsFrom(cfg config.MailByLine) MailLineSettings {
	return MailLineSettings{MaxLines: cfg.MaxLines}
}

func (s MailLineSettings) normalized() MailLineSettings {
	if s.MaxLines <= 0 {
		s.MaxLines = config.Default().Playbooks.MailByLine.MaxLines
	}
	return s
}

// MailByLine mails the lines an incident touches; Settings are read once per run.
type MailByLine struct {
	Settings MailLineSettings
}

// NewMailByLine makes the playbook from the validated config section.
func NewMailByLine(cfg config.MailByLine) *MailByLine {
	return &MailByLine{Settings: MailLineSettingsFrom(cfg)}
}

// MailByLineResult records what a run did.
type MailByLineResult struct {
	Incident string       `json:"incident"`
	Number   int64        `json:"number,omitempty"`
	Mailed   []MailedLine `json:"mailed,omitempty"`
	// NotMailed are the lines that got no message, with why.
	NotMailed []SkippedLine `json:"notMailed,omitempty"`
	// WithoutLine are the devices the asset directory places on no line.
	WithoutLine []string `json:"withoutLine,omitempty"`
	AssetsError string   `json:"assetsError,omitempty"`
	Reason      string   `json:"reason,omitempty"`
}

// SkippedLine is a line that got no message, and why.
type SkippedLine struct {
	Line   string `json:"line"`
	Reason string `json:"reason"`
}

// MailedLine is one message sent.
type MailedLine struct {
	Site       string   `json:"site,omitempty"`
	Line       string   `json:"line"`
	Recipients []string `json:"recipients"`
	MessageID  string   `json:"messageId"`
	Devices    []string `json:"devices"`
}

// lineGroup is one line's share of the incident.
type lineGroup struct {
	site, line string
	mailbox    []string
	devices    []activities.LineDevice
}

// Run is the workflow.
func (p *MailByLine) Run(ctx workflow.Context, inc incident.Incident) (MailByLineResult, error) {
	if err := startRun(ctx, MailByLineName, inc); err != nil {
		return MailByLineResult{}, err
	}
	s, err := readSettings(ctx, p.Settings.normalized)
	if err != nil {
		return MailByLineResult{}, err
	}
	res := MailByLineResult{Incident: inc.ID, Number: inc.Number}
	placed, assetsErr, err := describeAssets(ctx, inc)
	if err != nil {
		return res, err
	}
	res.AssetsError = assetsErr
	groups, without := groupByLine(placed.Devices)
	res.WithoutLine = without
	switch {
	case len(groups) == 0 && !placed.Configured && assetsErr == "":
		res.Reason = "no asset directory is configured (incidents.assetsFile): no line has a mailbox"
		return res, nil
	case len(groups) == 0:
		res.Reason = fmt.Sprintf("none of the %d devices is on a production line of the asset directory", len(placed.Devices))
		return res, nil
	}
	p.send(ctx, inc, s, groups, &res)
	if len(res.Mailed) == 0 {
		return res, temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("no line could be mailed (%d not mailed): %s", len(res.NotMailed), res.NotMailed[0].Reason), FailureMailFailed, nil)
	}
	return res, nil
}

// send mails each line, in parallel, and records the outcome in line order.
func (p *MailByLine) send(ctx workflow.Context, inc incident.Incident, s MailLineSettings, groups []lineGroup, res *MailByLineResult) {
	mctx := workflows.WithCallOptions(ctx, lineMailAttempt, lineMailTotal)
	alert, _ := inc.PrimaryAlert()
	type pending struct {
		g lineGroup
		f workflow.Future
	}
	var sent []pending
	for i, g := range groups {
		switch {
		case i >= s.MaxLines:
			res.NotMailed = append(res.NotMailed, SkippedLine{lineLabel(g), fmt.Sprintf("more than %d lines in one incident", s.MaxLines)})
			continue
		case len(g.mailbox) == 0:
			res.NotMailed = append(res.NotMailed, SkippedLine{lineLabel(g), "neither the line nor its site has owners in the asset directory"})
			continue
		}
		rcpts := make([]activities.Recipient, len(g.mailbox))
		for j, m := range g.mailbox {
			rcpts[j] = activities.Recipient{Email: m}
		}
		f := workflows.CallOutside(mctx, activities.SendLineNotification, activities.LineNotification{
			Key: MailByLineName + "/" + inc.ID, IncidentID: inc.ID, IncidentNumber: inc.Number,
			Title: firstNonEmpty(alert.BareTitle(), incident.BareTitle(inc.Title)), Description: firstNonEmpty(inc.Description, alert.Description),
			Severity: inc.Severity, URL: inc.URL, SourceAddress: alert.SourceAddress,
			Site: g.site, Line: g.line, Recipients: rcpts, Devices: g.devices,
		})
		sent = append(sent, pending{g, f})
	}
	for _, pe := range sent {
		var nr activities.NotificationResult
		if err := pe.f.Get(ctx, &nr); err != nil {
			workflow.GetLogger(ctx).Warn("line notification failed", "line", pe.g.line, "err", err)
			res.NotMailed = append(res.NotMailed, SkippedLine{lineLabel(pe.g), ticketFailure(err)})
			continue
		}
		names := make([]string, len(pe.g.devices))
		for i, d := range pe.g.devices {
			names[i] = d.Name
		}
		res.Mailed = append(res.Mailed, MailedLine{Site: pe.g.site, Line: pe.g.line, Recipients: nr.Recipients, MessageID: nr.MessageID, Devices: names})
	}
}

// groupByLine groups the placed devices by line, lines in the order their first device appears; the
// same device twice is listed once. It returns the names of the devices without a line too.
func groupByLine(devices []activities.PlacedDevice) ([]lineGroup, []string) {
	var groups []lineGroup
	var without []string
	index := map[string]int{}
	seen := map[string]bool{}
	for _, pd := range devices {
		name := workstationName(pd.Device)
		if pd.Place == nil || pd.Place.Line == "" {
			if !containsString(without, name) {
				without = append(without, name)
			}
			continue
		}
		key := pd.Place.Site + "\x00" + pd.Place.Line
		if seen[key+"\x00"+name] {
			continue
		}
		seen[key+"\x00"+name] = true
		i, ok := index[key]
		if !ok {
			i = len(groups)
			index[key] = i
			groups = append(groups, lineGroup{site: pd.Place.Site, line: pd.Place.Line, mailbox: pd.Place.Mailbox})
		}
		groups[i].devices = append(groups[i].devices, activities.LineDevice{
			Name: name, IP: pd.Device.IP, Type: pd.Device.Type, Zone: firstNonEmpty(pd.Place.Zone, pd.Device.Zone), By: pd.Place.By,
		})
	}
	return groups, without
}

func lineLabel(g lineGroup) string {
	if g.site == "" {
		return safetext.Line(g.line, 100)
	}
	return safetext.Line(g.site+" / "+g.line, 200)
}
