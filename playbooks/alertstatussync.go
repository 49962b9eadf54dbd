package playbooks

// The alert status sync playbook: when an incident's status changes, carry it to every Defender for
// IoT alert of the incident, so the OT side (the Azure portal's alert list, the sensor console) shows
// what the SOC decided. It replaces Microsoft's AD4IoT-AutoAlertStatusSync, which PATCHes whatever
// AlertManagementUri the alert holds, only for the first alert's provider, and tells nobody.
//
// Its design decisions are in doc.go.

import (
	"errors"
	"fmt"
	"html"
	"slices"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/interlock-soar/interlock/activities"
	"github.com/interlock-soar/interlock/activities/defender"
	"github.com/interlock-soar/interlock/internal/config"
	"github.com/interlock-soar/interlock/internal/incident"
	"github.com/interlock-soar/interlock/internal/safetext"
	"github.com/interlock-soar/interlock/workflows"
)

// AlertStatusSyncName is the registered workflow type. Never rename it.
const AlertStatusSyncName = "AlertStatusSync"

// FailureAlertSyncFailed is the error type of a run in which no alert could be synced.
const FailureAlertSyncFailed = "AlertSyncFailed"

// maxSyncAlerts bounds the alerts one run changes.
const maxSyncAlerts = 100

// The incident comment is retried for a shorter time than the alerts: they are what matters.
const syncCommentAttempt, syncCommentTotal = 30 * time.Second, 10 * time.Minute

// SyncSettings are the playbook's settings. Build them with SyncSettingsFrom.
type SyncSettings struct {
	AllowedHosts   []string      `json:"allowedHosts"`
	Subscriptions  []string      `json:"subscriptions,omitempty"`
	Comment        bool          `json:"comment"`
	AttemptTimeout time.Duration `json:"attemptTimeout"`
	RetryFor       time.Duration `json:"retryFor"`
}

// SyncSettingsFrom makes the settings from the validated config section.
func SyncSettingsFrom(cfg config.AlertStatusSync) SyncSettings {
	s := SyncSettings{Comment: cfg.Comment, AttemptTimeout: cfg.AttemptTimeout, RetryFor: cfg.RetryFor}
	for _, h := range cfg.AllowedHosts {
		if h = strings.ToLower(strings.TrimSpace(h)); h != "" {
			s.AllowedHosts = append(s.AllowedHosts, h)
		}
	}
	s.Subscriptions = slices.Clone(cfg.Subscriptions)
	return s
}

func (s SyncSettings) normalized() SyncSettings {
	def := SyncSettingsFrom(config.Default().Playbooks.AlertStatusSync)
	out := s
	if len(out.AllowedHosts) == 0 {
		out.AllowedHosts = def.AllowedHosts
	}
	out.AttemptTimeout, out.RetryFor = retryBudget(out.AttemptTimeout, out.RetryFor, def.AttemptTimeout, def.RetryFor)
	return out
}

// AlertStatusSync is the playbook.
type AlertStatusSync struct {
	Settings SyncSettings
}

// NewAlertStatusSync makes the playbook from the validated config section.
func NewAlertStatusSync(cfg config.AlertStatusSync) *AlertStatusSync {
	return &AlertStatusSync{Settings: SyncSettingsFrom(cfg)}
}

// AlertStatusSyncResult lists every alert of the incident with what was done to it, or why nothing was.
type AlertStatusSyncResult struct {
	Incident string `json:"incident"`
	Number   int64  `json:"number,omitempty"`
	// IncidentStatus is the status the run was started for; AlertStatus the alert status it means.
	IncidentStatus string                       `json:"incidentStatus"`
	AlertStatus    string                       `json:"alertStatus,omitempty"`
	Alerts         []activities.AlertSyncResult `json:"alerts"`
	Comment        string                       `json:"comment,omitempty"`
	CommentError   string                       `json:"commentError,omitempty"`
	Reason         string                       `json:"reason,omitempty"`
}

// Run is the workflow.
func (p *AlertStatusSync) Run(ctx workflow.Context, inc incident.Incident) (AlertStatusSyncResult, error) {
	if err := startRun(ctx, AlertStatusSyncName, inc); err != nil {
		return AlertStatusSyncResult{}, err
	}
	s, err := readSettings(ctx, p.Settings.normalized)
	if err != nil {
		return AlertStatusSyncResult{}, err
	}
	res := AlertStatusSyncResult{Incident: inc.ID, Number: inc.Number, IncidentStatus: inc.Status, Alerts: []activities.AlertSyncResult{}}
	want, ok := defender.StatusForIncident(inc.Status)
	if !ok {
		res.Reason = fmt.Sprintf("incident status %q means no alert status (want New, Active or Closed)", safetext.Line(inc.Status, 40))
		return res, nil
	}
	res.AlertStatus = want

	targets, listed := planAlertSync(inc.Alerts, s)
	res.Alerts = listed
	if len(res.Alerts) == 0 {
		res.Reason = "the incident has no alerts"
		return res, nil
	}
	actx := workflows.WithCallOptions(ctx, s.AttemptTimeout, s.RetryFor)
	futures := make([]workflow.Future, len(targets))
	for i, t := range targets {
		futures[i] = workflows.CallOutside(actx, activities.SyncAlertStatus, activities.AlertSyncRequest{
			IncidentID: inc.ID, IncidentARMID: inc.ARMID, Status: inc.Status, Alert: t.target,
		})
	}
	tried, failed := len(targets), 0
	for i, f := range futures {
		entry := &res.Alerts[targets[i].index]
		var r activities.AlertSyncResult
		if err := f.Get(ctx, &r); err != nil {
			if temporal.IsCanceledError(err) {
				return res, err
			}
			entry.Action, entry.Reason, entry.To = activities.AlertFailed, failure(err), want
			if ae, ok := errors.AsType[*temporal.ApplicationError](err); ok && ae.Type() == activities.FailureAlertRefused {
				entry.Action = activities.AlertRefused
			} else {
				failed++
			}
			workflow.GetLogger(ctx).Warn("alert status not synced", "alert", entry.AlertID, "err", err)
			continue
		}
		*entry = r
	}

	if s.Comment {
		res.Comment = syncComment(res)
		cctx := workflows.WithCallOptions(ctx, syncCommentAttempt, syncCommentTotal)
		err := workflows.CallOutside(cctx, activities.AddIncidentComment, activities.CommentRequest{
			IncidentID: inc.ID, IncidentARMID: inc.ARMID, Number: inc.Number, Message: res.Comment, Purpose: "status-sync",
		}).Get(ctx, nil)
		if err != nil {
			workflow.GetLogger(ctx).Warn("incident comment failed", "err", err)
			res.CommentError = failure(err)
		}
	}
	if tried > 0 && failed == tried {
		return res, temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("no alert status could be set (%d failed): %s", failed, firstFailure(res.Alerts)), FailureAlertSyncFailed, nil)
	}
	return res, nil
}

type syncTarget struct {
	index  int // into the result's Alerts
	target activities.AlertSyncTarget
}

// planAlertSync lists every alert of the incident once, deciding for each whether and where its status
// is set. Refusals are decided here, so a refused URI never reaches an activity.
func planAlertSync(alerts []incident.Alert, s SyncSettings) ([]syncTarget, []activities.AlertSyncResult) {
	var targets []syncTarget
	listed := []activities.AlertSyncResult{}
	seen := map[string]bool{}
	for _, a := range alerts {
		id := firstNonEmpty(a.VendorOriginalID, a.ID)
		key := strings.ToLower(firstNonEmpty(a.ManagementURI, id))
		if key != "" && seen[key] {
			continue // the same alert twice in one incident: one change
		}
		seen[key] = true
		entry := activities.AlertSyncResult{AlertID: safetext.Line(id, 200), Title: safetext.Line(a.BareTitle(), 200), Provider: a.DefenderProvider()}
		if len(listed) == maxSyncAlerts {
			break
		}
		idx := len(listed)
		switch {
		case entry.Provider == "":
			entry.Action, entry.Reason = activities.AlertSkipped, "not a Defender for IoT alert"
		case a.ManagementURI != "":
			ref, err := defender.ParseManagementURI(a.ManagementURI, s.AllowedHosts, s.Subscriptions)
			if err != nil {
				entry.Action, entry.Via, entry.Reason = activities.AlertRefused, activities.AlertViaAzure, err.Error()
				break
			}
			entry.Via, entry.Target = activities.AlertViaAzure, ref.Path()
			targets = append(targets, syncTarget{idx, activities.AlertSyncTarget{
				AlertID: entry.AlertID, Title: entry.Title, Provider: entry.Provider, Via: activities.AlertViaAzure, ManagementURI: a.ManagementURI,
			}})
		case defender.IsSensorAlertUUID(id):
			entry.Via, entry.Target = activities.AlertViaSensor, id
			targets = append(targets, syncTarget{idx, activities.AlertSyncTarget{
				AlertID: entry.AlertID, Title: entry.Title, Provider: entry.Provider, Via: activities.AlertViaSensor, SensorUUID: id,
			}})
		default:
			entry.Action, entry.Reason = activities.AlertSkipped, "no AlertManagementUri (Azure) and no sensor alert UUID (on premises) to reach it by"
		}
		listed = append(listed, entry)
	}
	return targets, listed
}

func firstFailure(list []activities.AlertSyncResult) string {
	for _, a := range list {
		if a.Action == activities.AlertFailed {
			return a.Reason
		}
	}
	return ""
}

// syncComment is the incident comment: what happened to each alert. Every string is escaped.
func syncComment(res AlertStatusSyncResult) string {
	e := html.EscapeString
	var b strings.Builder
	fmt.Fprintf(&b, "<p><b>Interlock</b>: incident status %s → Defender for IoT alert status <b>%s</b> (%s).</p>\n<ul>\n",
		e(res.IncidentStatus), e(res.AlertStatus), AlertStatusSyncName)
	for _, a := range res.Alerts {
		name := firstNonEmpty(a.Title, "alert")
		if a.AlertID != "" {
			name += " (" + a.AlertID + ")"
		}
		var what string // HTML: every alert or server string in it is escaped
		switch a.Action {
		case activities.AlertUpdated:
			what = e(fmt.Sprintf("set %s → %s", firstNonEmpty(a.From, "?"), a.To))
			if a.Via == activities.AlertViaSensor {
				what = "closed on the OT sensor"
			}
		case activities.AlertUnchanged:
			what = e("already " + firstNonEmpty(a.To, a.From))
		case activities.AlertRefused:
			what = "<b>not changed</b>: " + e(a.Reason)
		case activities.AlertFailed:
			what = "<b>failed</b>: " + e(a.Reason)
		default:
			what = "skipped: " + e(a.Reason)
		}
		b.WriteString("<li>" + e(name) + ": " + what + "</li>\n")
	}
	b.WriteString("</ul>\n")
	return b.String()
}
