package playbooks

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"

	"github.com/interlock-soar/interlock/activities"
	"github.com/interlock-soar/interlock/internal/config"
	"github.com/interlock-soar/interlock/internal/incident"
	"github.com/interlock-soar/interlock/workflows"
)

var (
	cveCritical = activities.CVE{ID: "CVE-2022-38465", CVSS: "9.3", Severity: "Critical", Description: "Global <private> key", Remediation: "Update to V3.0"}
	cveMedium   = activities.CVE{ID: "CVE-2021-1234", CVSS: "5.0", Severity: "Medium", Description: "Info leak"}
	cveByScore  = activities.CVE{ID: "CVE-2020-0001", CVSS: "9.8"}
)

func newCVEHarness(t *testing.T, edit func(*config.CVEAutoWorkflow), byDevice map[string][]activities.CVE) *ownerHarness {
	t.Helper()
	cfg := config.Default().Playbooks.CVEAutoWorkflow
	if edit != nil {
		edit(&cfg)
	}
	h := newOwnerHarness(t, CVEAutoWorkflowName, NewCVEAutoWorkflow(cfg).Run)
	h.cves = func(req activities.CVERequest) (activities.CVEResult, error) {
		res := activities.CVEResult{Configured: true, Devices: make([][]activities.CVE, len(req.Devices))}
		for i, d := range req.Devices {
			res.Devices[i] = byDevice[d.Name]
		}
		return res, nil
	}
	return h
}

func TestCVEAutoWorkflowWithoutCriticalCVEs(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		byDevice map[string][]activities.CVE
		outcome  string
		purposes []string
	}{
		{"no CVEs", nil, OutcomeNoCVEs, nil},
		{"medium CVEs are commented, one each", map[string][]activities.CVE{"HMI-L3-01": {cveMedium}, "HIST-01": {cveMedium}},
			OutcomeCVEs, []string{"cve/HMI-L3-01/CVE-2021-1234", "cve/HIST-01/CVE-2021-1234"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newCVEHarness(t, nil, tt.byDevice)
			var res CVEAutoWorkflowResult
			require.NoError(t, h.execute(ownerIncident(), &res))
			require.Equal(t, tt.outcome, res.Outcome)
			require.Equal(t, tt.purposes, h.purposes)
			require.Empty(t, h.updates)
			require.Empty(t, h.mails)
			require.Equal(t, 1, h.lookups)
			if tt.outcome == OutcomeNoCVEs {
				require.Contains(t, res.Reason, "lists no CVE")
			} else {
				require.Contains(t, h.comments[0], "CVE: CVE-2021-1234<br>CVSS: 5.0<br>Severity: Medium<br>Description: Info leak")
			}
		})
	}
}

// A critical CVE: comments, severity High and the tag, and the owner is asked with the CVE; the
// answer is written back without closing the incident.
func TestCVEAutoWorkflowCritical(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		ans     *workflows.Answer
		outcome string
		updates int
		last    string
	}{
		{"not expected escalates", &workflows.Answer{Decision: "not_expected", By: owner1, Via: "email-link"}, OutcomeNotExpected, 2, "confirmed that this is a true positive"},
		{"expected only comments", &workflows.Answer{Decision: "expected", By: owner1, Via: "email-link"}, OutcomeExpected, 1, "The incident stays open"},
		{"no answer", nil, OutcomeNoAnswer, 1, "stays open for the SOC"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newCVEHarness(t, nil, map[string][]activities.CVE{"HMI-L3-01": {cveCritical, cveMedium}, "SWITCH-3": {cveByScore}})
			if tt.ans != nil {
				h.answerAt(time.Hour, *tt.ans)
			}
			var res CVEAutoWorkflowResult
			require.NoError(t, h.execute(ownerIncident(), &res))
			require.Equal(t, OutcomeCriticalCVE, res.Outcome)
			require.Equal(t, tt.outcome, res.OwnerOutcome)
			require.Equal(t, []DeviceCVEs{
				{Device: "HMI-L3-01", CVEs: []activities.CVE{cveCritical, cveMedium}, Critical: 1},
				{Device: "SWITCH-3", CVEs: []activities.CVE{cveByScore}, Critical: 1},
			}, res.Devices)
			require.Equal(t, []string{"cve/HMI-L3-01/CVE-2022-38465", "cve/HMI-L3-01/CVE-2021-1234", "cve/SWITCH-3/CVE-2020-0001", "cve-triage", "notice/0"}, h.purposes[:5])
			require.Contains(t, h.comments[0], "(critical)")
			require.Contains(t, h.comments[0], "Global &lt;private&gt; key")
			require.Contains(t, h.comments[0], "Fix: Update to V3.0")
			require.Contains(t, h.comments[3], "Critical CVE on HMI-L3-01, SWITCH-3")
			require.Equal(t, activities.UpdateRequest{IncidentID: "inc-1", IncidentARMID: "/subscriptions/x/incidents/inc-1", Number: 4320,
				Severity: incident.SeverityHigh, AddTags: []string{"AutoTriageCVE"}}, h.updates[0])
			require.Len(t, h.updates, tt.updates)
			for _, u := range h.updates {
				require.NotEqual(t, incident.StatusClosed, u.Status, "a CVE run never closes")
			}
			// Only HMI-L3-01 has an owner; SWITCH-3's critical CVE is on the incident only.
			require.Equal(t, [][]string{{owner1}}, h.mailTo("HMI-L3-01", 0))
			require.Equal(t, []activities.CVE{cveCritical}, h.mails[0].CVEs, "the email lists the critical CVEs")
			require.Contains(t, h.comments[len(h.comments)-1], tt.last)
		})
	}
}

func TestCVEAutoWorkflowCriticalWithoutOwnerOrNotify(t *testing.T) {
	t.Parallel()
	for name, edit := range map[string]func(*config.CVEAutoWorkflow){
		"no owner":  nil,
		"no notify": func(c *config.CVEAutoWorkflow) { c.NotifyOwners = false },
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			byDevice := map[string][]activities.CVE{"SWITCH-3": {cveCritical}}
			if name == "no notify" {
				byDevice = map[string][]activities.CVE{"HMI-L3-01": {cveCritical}}
			}
			h := newCVEHarness(t, edit, byDevice)
			var res CVEAutoWorkflowResult
			require.NoError(t, h.execute(ownerIncident(), &res))
			require.Equal(t, OutcomeCriticalCVE, res.Outcome)
			require.Empty(t, res.OwnerOutcome)
			require.Empty(t, h.mails)
			require.Empty(t, h.timers)
			require.Len(t, h.updates, 1)
			if name == "no owner" {
				require.Contains(t, h.comments[1], "No device owner with an email address")
			}
		})
	}
}

func TestCVEAutoWorkflowFeedStates(t *testing.T) {
	t.Parallel()
	h := newCVEHarness(t, nil, nil)
	h.cves = func(activities.CVERequest) (activities.CVEResult, error) { return activities.CVEResult{}, nil }
	var res CVEAutoWorkflowResult
	require.NoError(t, h.execute(ownerIncident(), &res))
	require.Equal(t, OutcomeNotConfigured, res.Outcome)
	require.Empty(t, h.comments)

	h = newCVEHarness(t, nil, nil)
	h.cves = func(activities.CVERequest) (activities.CVEResult, error) {
		return activities.CVEResult{}, temporal.NewNonRetryableApplicationError("vulnerability feed /x: no such file", "x", errors.New("enoent"))
	}
	err := h.execute(ownerIncident(), &res)
	require.ErrorContains(t, err, "vulnerability feed lookup failed")
	require.Equal(t, []string{"cve-lookup-failed"}, h.purposes)

	h = newCVEHarness(t, nil, nil)
	noDevices := ownerIncident()
	noDevices.Devices = nil
	require.NoError(t, h.execute(noDevices, &res))
	require.Equal(t, OutcomeNotApplicable, res.Outcome)
	require.Zero(t, h.lookups)
}

// Past maxCVEComments, one comment names the rest.
func TestCVEAutoWorkflowCapsComments(t *testing.T) {
	t.Parallel()
	var many []activities.CVE
	for i := range maxCVEComments + 3 {
		many = append(many, activities.CVE{ID: fmt.Sprintf("CVE-2024-%04d", i), CVSS: "4.0"})
	}
	h := newCVEHarness(t, nil, map[string][]activities.CVE{"HIST-01": many})
	var res CVEAutoWorkflowResult
	require.NoError(t, h.execute(ownerIncident(), &res))
	require.Len(t, h.comments, maxCVEComments+1)
	require.Equal(t, "cve/more", h.purposes[maxCVEComments])
	require.Contains(t, h.comments[maxCVEComments], "3 more CVEs")
}

// The owner of a device with a critical CVE may come from the asset directory.
func TestCVEAutoWorkflowDirectoryOwner(t *testing.T) {
	t.Parallel()
	h := newCVEHarness(t, func(c *config.CVEAutoWorkflow) { c.ReminderRounds = 0 }, map[string][]activities.CVE{"SWITCH-3": {cveCritical}})
	h.dirOwners = map[string][]string{"SWITCH-3": {owner2}}
	var res CVEAutoWorkflowResult
	require.NoError(t, h.execute(ownerIncident(), &res))
	require.Equal(t, []string{"SWITCH-3"}, h.dirAsked, "only the critical device without owners is looked up")
	require.Equal(t, [][]string{{owner2}}, h.mailTo("SWITCH-3", 0))
	require.Equal(t, OutcomeNoAnswer, res.OwnerOutcome)
}
