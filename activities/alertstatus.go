package activities

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/interlock-soar/interlock/internal/safetext"

	"go.temporal.io/sdk/temporal"

	"github.com/interlock-soar/interlock/activities/defender"
)

// CloudAlertAPI is what the status sync needs of the Azure alert API (defender.Cloud).
type CloudAlertAPI interface {
	GetAlert(ctx context.Context, ref defender.AlertRef) (defender.Alert, error)
	SetAlertStatus(ctx context.Context, ref defender.AlertRef, status string) (defender.Alert, error)
}

// SensorAlertAPI is what it needs of an on-premises sensor's alert API (defender.Sensor).
type SensorAlertAPI interface {
	HandleAlert(ctx context.Context, uuid, action string) (string, error)
}

// IncidentStatusReader reads an incident's current status from the SIEM (the Sentinel writer).
type IncidentStatusReader interface {
	IncidentStatus(ctx context.Context, armID string) (string, error)
}

var (
	_ CloudAlertAPI        = (*defender.Cloud)(nil)
	_ SensorAlertAPI       = (*defender.Sensor)(nil)
	_ IncidentStatusReader = (*SentinelWriter)(nil)
)

// Routes an alert's status takes.
const (
	AlertViaAzure  = "azure"
	AlertViaSensor = "sensor"
)

// Outcomes of one alert's sync.
const (
	AlertUpdated   = "updated"
	AlertUnchanged = "unchanged"
	AlertRefused   = "refused"
	AlertSkipped   = "skipped"
	AlertFailed    = "failed"
)

// Error types of the status sync.
const (
	FailureAlertRefused      = "AlertManagementUriRefused"
	FailureAlertAPIMissing   = "AlertAPINotConfigured"
	FailureSensorRejected    = "SensorRejected"
	FailureSensorUnavailable = "SensorUnavailable"
	securityAdmin            = "the Security Admin role on the Defender for IoT subscription"
	maxConvergenceRereads    = 4
)

// AlertSyncTarget is one alert of the incident and where its status lives.
type AlertSyncTarget struct {
	// AlertID is the alert's Sentinel or Defender for IoT ID, Title its title: both only for the result.
	AlertID  string `json:"alertId,omitempty"`
	Title    string `json:"title,omitempty"`
	Provider string `json:"provider,omitempty"`
	// Via is AlertViaAzure (ManagementURI is set) or AlertViaSensor (SensorUUID is set).
	Via           string `json:"via"`
	ManagementURI string `json:"managementUri,omitempty"`
	SensorUUID    string `json:"sensorUuid,omitempty"`
}

// AlertSyncRequest asks to carry an incident's status to one of its alerts.
type AlertSyncRequest struct {
	IncidentID    string `json:"incidentId"`
	IncidentARMID string `json:"incidentArmId,omitempty"`
	// Status is the incident status the event carried. When the incident can be read from Sentinel,
	// its status at the time of the call wins, so two quick updates cannot leave an alert behind.
	Status string          `json:"status"`
	Alert  AlertSyncTarget `json:"alert"`
}

// AlertSyncResult says what was done to one alert, or why nothing was.
type AlertSyncResult struct {
	AlertID  string `json:"alertId,omitempty"`
	Title    string `json:"title,omitempty"`
	Provider string `json:"provider,omitempty"`
	Via      string `json:"via,omitempty"`
	// Target is the alert's resource path (Azure) or UUID (sensor).
	Target string `json:"target,omitempty"`
	From   string `json:"from,omitempty"`
	To     string `json:"to,omitempty"`
	// Action is one of the Alert* outcomes.
	Action string `json:"action"`
	Reason string `json:"reason,omitempty"`
}

// AlertStatus is the alert status sync activity.
type AlertStatus struct {
	// Cloud is nil when no Azure identity is configured; Sensor when no on-premises sensor is.
	Cloud         CloudAlertAPI
	Sensor        SensorAlertAPI
	Incidents     IncidentStatusReader
	AllowedHosts  []string
	Subscriptions []string
	LearnOnClose  bool
}

// SyncAlertStatus sets one alert's status to the one its incident's status means. It is idempotent:
// an alert that already has that status is read, not written.
func (a *AlertStatus) SyncAlertStatus(ctx context.Context, req AlertSyncRequest) (AlertSyncResult, error) {
	res := AlertSyncResult{AlertID: req.Alert.AlertID, Title: req.Alert.Title, Provider: req.Alert.Provider, Via: req.Alert.Via}
	want, ok := defender.StatusForIncident(req.Status)
	if !ok {
		return res, temporal.NewNonRetryableApplicationError(fmt.Sprintf("incident status %q has no alert status", req.Status), FailureInvalidRequest, nil)
	}
	switch req.Alert.Via {
	case AlertViaAzure:
		return a.syncCloud(ctx, req, want, res)
	case AlertViaSensor:
		return a.syncSensor(ctx, req, want, res)
	}
	return res, temporal.NewNonRetryableApplicationError(fmt.Sprintf("unknown alert route %q", req.Alert.Via), FailureInvalidRequest, nil)
}

func (a *AlertStatus) syncCloud(ctx context.Context, req AlertSyncRequest, want string, res AlertSyncResult) (AlertSyncResult, error) {
	ref, err := defender.ParseManagementURI(req.Alert.ManagementURI, a.AllowedHosts, a.Subscriptions)
	if err != nil {
		// Checked here again, not only in the workflow: the configuration this worker runs with decides.
		return res, temporal.NewNonRetryableApplicationError(err.Error(), FailureAlertRefused, nil)
	}
	res.Target = ref.Path()
	if a.Cloud == nil {
		return res, temporal.NewNonRetryableApplicationError("no Azure identity is configured (azure.*): Defender for IoT alerts in Azure cannot be changed", FailureAlertAPIMissing, nil)
	}
	res.To, res.Action = want, AlertUnchanged
	for range maxConvergenceRereads {
		if now := a.currentStatus(ctx, req); now != "" {
			want, res.To = now, now
		}
		alert, err := a.Cloud.GetAlert(ctx, ref)
		if err != nil {
			return res, azureError("read alert", securityAdmin, err)
		}
		if res.From == "" {
			res.From = alert.Properties.Status
		}
		if strings.EqualFold(alert.Properties.Status, want) {
			return res, nil
		}
		if _, err := a.Cloud.SetAlertStatus(ctx, ref, want); err != nil {
			return res, azureError("set alert status", securityAdmin, err)
		}
		res.Action = AlertUpdated
		if a.Incidents == nil || req.IncidentARMID == "" {
			return res, nil
		}
		// Read the incident again: if it moved while we wrote, the next round follows it.
	}
	return res, nil
}

// currentStatus is the alert status the incident's status means now, or "" when it cannot be read.
func (a *AlertStatus) currentStatus(ctx context.Context, req AlertSyncRequest) string {
	if a.Incidents == nil || req.IncidentARMID == "" {
		return ""
	}
	s, err := a.Incidents.IncidentStatus(ctx, req.IncidentARMID)
	if err != nil {
		return "" // the event's status stands
	}
	st, _ := defender.StatusForIncident(s)
	return st
}

func (a *AlertStatus) syncSensor(ctx context.Context, req AlertSyncRequest, want string, res AlertSyncResult) (AlertSyncResult, error) {
	if !defender.IsSensorAlertUUID(req.Alert.SensorUUID) {
		return res, temporal.NewNonRetryableApplicationError(fmt.Sprintf("%q is not a sensor alert UUID", safetext.Clip(req.Alert.SensorUUID, 60)), FailureInvalidRequest, nil)
	}
	res.Target, res.To = req.Alert.SensorUUID, want
	if want != defender.StatusClosed {
		res.Action, res.Reason = AlertSkipped, "the sensor's alert API can only close (handle) an alert; "+want+" is kept in Interlock only"
		return res, nil
	}
	if a.Sensor == nil {
		return res, temporal.NewNonRetryableApplicationError("no on-premises sensor is configured (sensor.url)", FailureAlertAPIMissing, nil)
	}
	action := defender.ActionHandle
	if a.LearnOnClose {
		action = defender.ActionHandleAndLearn
	}
	content, err := a.Sensor.HandleAlert(ctx, req.Alert.SensorUUID, action)
	if err != nil {
		if se, ok := errors.AsType[*defender.SensorError](err); ok && !se.Retryable() {
			return res, temporal.NewNonRetryableApplicationError("sensor refused "+action, FailureSensorRejected, err)
		}
		return res, temporal.NewApplicationErrorWithCause("sensor "+action, FailureSensorUnavailable, err)
	}
	res.Action, res.Reason = AlertUpdated, content
	if strings.Contains(strings.ToLower(content), "already") && !strings.Contains(content, "was performed") {
		res.Action = AlertUnchanged
	}
	return res, nil
}
