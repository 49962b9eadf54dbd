// Package defender changes the status of Microsoft Defender for IoT alerts: in Azure through the
// Microsoft.IoTSecurity alerts API on Resource Manager, and on premises through an OT sensor's (or
// on-premises management console's) own alert API, for sites whose alerts never reach Azure.
//
// The Azure alert to change is named by its AlertManagementUri, which comes from the alert payload and
// is therefore hostile. ParseManagementURI accepts it only when its host is on an allowlist (never an
// IP address or localhost) and its path is exactly that of a Defender for IoT alert with names that are
// safe in a path; the request then goes to the configured Resource Manager endpoint with that path and
// the configured api-version, never to the URI as given.
package defender

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"github.com/interlock-soar/interlock/internal/safetext"

	"github.com/interlock-soar/interlock/activities/arm"
)

// Alert statuses of the Microsoft.IoTSecurity alerts API.
const (
	StatusNew        = "New"
	StatusInProgress = "InProgress"
	StatusClosed     = "Closed"
)

// AlertRef names one Defender for IoT alert in Azure.
type AlertRef struct {
	SubscriptionID string `json:"subscriptionId"`
	Location       string `json:"location"`
	DeviceGroup    string `json:"deviceGroup"`
	AlertID        string `json:"alertId"`
}

// Path is the alert's resource path.
func (r AlertRef) Path() string {
	return "/subscriptions/" + url.PathEscape(r.SubscriptionID) + "/providers/Microsoft.IoTSecurity/locations/" +
		url.PathEscape(r.Location) + "/deviceGroups/" + url.PathEscape(r.DeviceGroup) + "/alerts/" + url.PathEscape(r.AlertID)
}

// RefusedError says why an AlertManagementUri is not called.
type RefusedError struct{ Reason string }

func (e *RefusedError) Error() string { return "AlertManagementUri refused: " + e.Reason }

func refused(format string, a ...any) error { return &RefusedError{Reason: fmt.Sprintf(format, a...)} }

var (
	guidRe     = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
	locationRe = regexp.MustCompile(`^[A-Za-z0-9]{1,40}$`)
	nameRe     = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`)
)

// ParseManagementURI checks an alert's AlertManagementUri and reads the alert it names. allowedHosts
// are lower-case host names; subscriptions, when not empty, the subscription IDs alerts may live in.
func ParseManagementURI(raw string, allowedHosts, subscriptions []string) (AlertRef, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return AlertRef{}, refused("the alert has no AlertManagementUri")
	}
	if len(raw) > 2048 {
		return AlertRef{}, refused("longer than 2048 characters")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return AlertRef{}, refused("not a URL")
	}
	host := strings.ToLower(u.Hostname())
	switch {
	case u.Scheme != "https":
		return AlertRef{}, refused("scheme %q, not https", u.Scheme)
	case u.User != nil:
		return AlertRef{}, refused("it carries user information")
	case host == "" || u.Opaque != "":
		return AlertRef{}, refused("no host")
	case net.ParseIP(host) != nil || host == "localhost" || strings.HasSuffix(host, ".localhost"):
		return AlertRef{}, refused("host %s is an IP address or loopback name, never a Resource Manager endpoint", safetext.Line(host, 81))
	case u.Port() != "" && u.Port() != "443":
		return AlertRef{}, refused("port %s: Resource Manager listens on 443", safetext.Line(u.Port(), 81))
	case !slices.Contains(allowedHosts, strings.TrimSuffix(host, ".")):
		return AlertRef{}, refused("host %s is not on playbooks.alertStatusSync.allowedHosts", safetext.Line(host, 81))
	case u.Fragment != "":
		return AlertRef{}, refused("it has a fragment")
	}
	if strings.Contains(u.EscapedPath(), "%") {
		// An escaped character in an alert path means something is hiding in it (a slash, a dot-dot).
		return AlertRef{}, refused("its path has percent-escapes, which no Defender for IoT alert path has")
	}
	parts := strings.Split(u.Path, "/")
	// "", subscriptions, S, providers, Microsoft.IoTSecurity, locations, L, deviceGroups, G, alerts, A
	if len(parts) != 11 || parts[0] != "" || !strings.EqualFold(parts[1], "subscriptions") || !strings.EqualFold(parts[3], "providers") ||
		!strings.EqualFold(parts[4], "Microsoft.IoTSecurity") || !strings.EqualFold(parts[5], "locations") ||
		!strings.EqualFold(parts[7], "deviceGroups") || !strings.EqualFold(parts[9], "alerts") {
		return AlertRef{}, refused("path is not /subscriptions/{id}/providers/Microsoft.IoTSecurity/locations/{location}/deviceGroups/{group}/alerts/{alert}")
	}
	ref := AlertRef{SubscriptionID: parts[2], Location: parts[6], DeviceGroup: parts[8], AlertID: parts[10]}
	switch {
	case !guidRe.MatchString(ref.SubscriptionID):
		return AlertRef{}, refused("the subscription in its path is not a GUID")
	case !locationRe.MatchString(ref.Location):
		return AlertRef{}, refused("the location in its path is not an Azure location name")
	case !nameRe.MatchString(ref.DeviceGroup) || !nameRe.MatchString(ref.AlertID):
		return AlertRef{}, refused("the device group or alert name in its path has characters they cannot have")
	case len(subscriptions) > 0 && !slices.ContainsFunc(subscriptions, func(s string) bool { return strings.EqualFold(s, ref.SubscriptionID) }):
		return AlertRef{}, refused("subscription %s is not on playbooks.alertStatusSync.subscriptions", ref.SubscriptionID)
	}
	return ref, nil
}

// Alert is what the status sync reads of an alert.
type Alert struct {
	ID         string `json:"id"`
	Name       string `json:"name"`
	Properties struct {
		Status   string `json:"status"`
		Severity string `json:"severity"`
	} `json:"properties"`
}

// Cloud changes alerts through Resource Manager.
type Cloud struct {
	arm        *arm.Client
	apiVersion string
}

// NewCloud makes the Resource Manager alert client.
func NewCloud(c *arm.Client, apiVersion string) (*Cloud, error) {
	if c == nil || apiVersion == "" {
		return nil, errors.New("defender: a Resource Manager client and an api-version are needed")
	}
	return &Cloud{arm: c, apiVersion: apiVersion}, nil
}

// GetAlert reads an alert: GET …/alerts/{id}.
func (c *Cloud) GetAlert(ctx context.Context, ref AlertRef) (Alert, error) {
	var a Alert
	_, err := c.arm.Do(ctx, arm.Request{Method: http.MethodGet, Path: ref.Path(), APIVersion: c.apiVersion}, &a)
	return a, err
}

// SetAlertStatus changes an alert's status: PATCH …/alerts/{id} {"properties":{"status":…}}, which is
// what Microsoft's AD4IoT-AutoAlertStatusSync sends. Setting the same status again changes nothing.
func (c *Cloud) SetAlertStatus(ctx context.Context, ref AlertRef, status string) (Alert, error) {
	switch status {
	case StatusNew, StatusInProgress, StatusClosed:
	default:
		return Alert{}, fmt.Errorf("defender: %q is not an alert status", status)
	}
	var a Alert
	body := map[string]any{"properties": map[string]string{"status": status}}
	_, err := c.arm.Do(ctx, arm.Request{Method: http.MethodPatch, Path: ref.Path(), APIVersion: c.apiVersion, Body: body}, &a)
	return a, err
}

// StatusForIncident maps a Sentinel incident status to the Defender for IoT alert status it means, as
// Microsoft's AD4IoT-AutoAlertStatusSync does: New → New, Active → InProgress, Closed → Closed.
func StatusForIncident(incidentStatus string) (string, bool) {
	switch strings.ToLower(strings.TrimSpace(incidentStatus)) {
	case "new":
		return StatusNew, true
	case "active":
		return StatusInProgress, true
	case "closed":
		return StatusClosed, true
	}
	return "", false
}
