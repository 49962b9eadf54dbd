// Package sentinel is a small typed client for the Microsoft Sentinel incident API
// (Microsoft.SecurityInsights on Azure Resource Manager): read an incident with its etag, write it back
// under If-Match, and put a comment under an ID of the caller's choosing.
//
// Incidents are addressed by their ARM ID, which arrives in the trigger payload. ParseIncidentID
// accepts only the exact shape of an incident ID with names that are safe in a path, and the Client
// refuses any incident outside its one workspace: a payload can pick which incident of that workspace
// is written to, never which workspace, host or resource type.
package sentinel

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"github.com/interlock-soar/interlock/activities/arm"
)

// Workspace names the Log Analytics workspace Sentinel runs in.
type Workspace struct {
	SubscriptionID string
	ResourceGroup  string
	Name           string
}

// IncidentRef is one incident of a workspace.
type IncidentRef struct {
	Workspace
	IncidentID string
}

var (
	guidRe      = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
	rgRe        = regexp.MustCompile(`^[-\w._()]{1,90}$`)
	wsRe        = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9-]{2,62}$`)
	resourceRe  = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`)
	errNotShape = errors.New("not a Microsoft Sentinel incident ID (/subscriptions/…/resourceGroups/…/providers/Microsoft.OperationalInsights/workspaces/…/providers/Microsoft.SecurityInsights/incidents/…)")
)

// ParseIncidentID reads an incident's ARM ID. Provider and type segments match in any case, as in ARM.
func ParseIncidentID(id string) (IncidentRef, error) {
	parts := strings.Split(strings.TrimSpace(id), "/")
	// "", subscriptions, S, resourceGroups, RG, providers, Microsoft.OperationalInsights, workspaces, W,
	// providers, Microsoft.SecurityInsights, incidents, I
	if len(parts) != 13 || parts[0] != "" {
		return IncidentRef{}, errNotShape
	}
	for i, want := range map[int]string{1: "subscriptions", 3: "resourceGroups", 5: "providers", 6: "Microsoft.OperationalInsights",
		7: "workspaces", 9: "providers", 10: "Microsoft.SecurityInsights", 11: "incidents"} {
		if !strings.EqualFold(parts[i], want) {
			return IncidentRef{}, errNotShape
		}
	}
	ref := IncidentRef{Workspace: Workspace{SubscriptionID: parts[2], ResourceGroup: parts[4], Name: parts[8]}, IncidentID: parts[12]}
	switch {
	case !guidRe.MatchString(ref.SubscriptionID):
		return IncidentRef{}, errors.New("incident ID: the subscription is not a GUID")
	case !rgRe.MatchString(ref.ResourceGroup):
		return IncidentRef{}, errors.New("incident ID: not a resource group name")
	case !wsRe.MatchString(ref.Name):
		return IncidentRef{}, errors.New("incident ID: not a workspace name")
	case !resourceRe.MatchString(ref.IncidentID):
		return IncidentRef{}, errors.New("incident ID: the incident name has characters an incident name cannot have")
	}
	return ref, nil
}

// Same says whether two workspaces are the same (ARM names are case-insensitive).
func (w Workspace) Same(o Workspace) bool {
	return strings.EqualFold(w.SubscriptionID, o.SubscriptionID) && strings.EqualFold(w.ResourceGroup, o.ResourceGroup) &&
		strings.EqualFold(w.Name, o.Name)
}

func (w Workspace) String() string {
	return w.SubscriptionID + "/" + w.ResourceGroup + "/" + w.Name
}

// Path is the incident's resource path.
func (r IncidentRef) Path() string {
	return "/subscriptions/" + url.PathEscape(r.SubscriptionID) + "/resourceGroups/" + url.PathEscape(r.ResourceGroup) +
		"/providers/Microsoft.OperationalInsights/workspaces/" + url.PathEscape(r.Name) +
		"/providers/Microsoft.SecurityInsights/incidents/" + url.PathEscape(r.IncidentID)
}

// Incident is an incident as read: its etag and its properties, kept whole so a write-back sends every
// writable property it did not mean to change exactly as it found it (ARM's PUT replaces the resource).
type Incident struct {
	ID         string                     `json:"id,omitempty"`
	Name       string                     `json:"name,omitempty"`
	Etag       string                     `json:"etag,omitempty"`
	Properties map[string]json.RawMessage `json:"properties"`
}

// Label is an incident tag.
type Label struct {
	LabelName string `json:"labelName"`
	LabelType string `json:"labelType,omitempty"`
}

// Owner is who the incident is assigned to.
type Owner struct {
	ObjectID          string `json:"objectId,omitempty"`
	Email             string `json:"email,omitempty"`
	UserPrincipalName string `json:"userPrincipalName,omitempty"`
	AssignedTo        string `json:"assignedTo,omitempty"`
	OwnerType         string `json:"ownerType,omitempty"`
}

// Str reads a string property; "" when absent, null or not a string.
func (inc Incident) Str(key string) string {
	var s string
	if raw, ok := inc.Properties[key]; ok {
		_ = json.Unmarshal(raw, &s)
	}
	return s
}

// SetStr sets a string property.
func (inc *Incident) SetStr(key, value string) {
	b, _ := json.Marshal(value) // a string always marshals
	inc.props()[key] = b
}

// Labels reads the tags.
func (inc Incident) Labels() []Label {
	var ls []Label
	if raw, ok := inc.Properties["labels"]; ok {
		_ = json.Unmarshal(raw, &ls)
	}
	return ls
}

// AddLabels adds the tags the incident does not have yet (names compare case-insensitively), reporting
// the ones added.
func (inc *Incident) AddLabels(names ...string) []string {
	ls := inc.Labels()
	var added []string
	for _, n := range names {
		if n = strings.TrimSpace(n); n == "" {
			continue
		}
		if slices.ContainsFunc(ls, func(l Label) bool { return strings.EqualFold(l.LabelName, n) }) {
			continue
		}
		ls = append(ls, Label{LabelName: n, LabelType: "User"})
		added = append(added, n)
	}
	if len(added) > 0 {
		b, _ := json.Marshal(ls)
		inc.props()["labels"] = b
	}
	return added
}

// Owner reads the owner.
func (inc Incident) Owner() Owner {
	var o Owner
	if raw, ok := inc.Properties["owner"]; ok {
		_ = json.Unmarshal(raw, &o)
	}
	return o
}

// SetOwner assigns the incident.
func (inc *Incident) SetOwner(o Owner) {
	b, _ := json.Marshal(o)
	inc.props()["owner"] = b
}

func (inc *Incident) props() map[string]json.RawMessage {
	if inc.Properties == nil {
		inc.Properties = map[string]json.RawMessage{}
	}
	return inc.Properties
}

// readOnly are the properties the API computes; a write leaves them out.
var readOnly = []string{"additionalData", "createdTimeUtc", "incidentNumber", "incidentUrl", "lastModifiedTimeUtc",
	"providerName", "providerIncidentId", "relatedAnalyticRuleIds", "alerts", "comments", "bookmarks", "relatedEntities"}

// Client reads and writes the incidents of one workspace.
type Client struct {
	arm        *arm.Client
	workspace  Workspace
	apiVersion string
}

// New makes a Client for the workspace.
func New(c *arm.Client, ws Workspace, apiVersion string) (*Client, error) {
	if c == nil {
		return nil, errors.New("sentinel: no Resource Manager client")
	}
	if !guidRe.MatchString(ws.SubscriptionID) || !rgRe.MatchString(ws.ResourceGroup) || !wsRe.MatchString(ws.Name) {
		return nil, errors.New("sentinel: the workspace needs a subscription ID, a resource group and a workspace name")
	}
	if apiVersion == "" {
		return nil, errors.New("sentinel: no api-version")
	}
	return &Client{arm: c, workspace: ws, apiVersion: apiVersion}, nil
}

// Workspace is the workspace the client writes to.
func (c *Client) Workspace() Workspace { return c.workspace }

// ErrOtherWorkspace is the error of an incident ID that names another workspace than the client's.
var ErrOtherWorkspace = errors.New("the incident belongs to another Sentinel workspace than the configured one")

// Ref parses an incident ARM ID and checks that it is in the client's workspace.
func (c *Client) Ref(armID string) (IncidentRef, error) {
	ref, err := ParseIncidentID(armID)
	if err != nil {
		return IncidentRef{}, err
	}
	if !ref.Same(c.workspace) {
		return IncidentRef{}, fmt.Errorf("%w (%s, not %s)", ErrOtherWorkspace, ref.Workspace, c.workspace)
	}
	return ref, nil
}

// GetIncident reads an incident with its etag: GET …/incidents/{id}.
func (c *Client) GetIncident(ctx context.Context, ref IncidentRef) (Incident, error) {
	var inc Incident
	resp, err := c.arm.Do(ctx, arm.Request{Method: http.MethodGet, Path: ref.Path(), APIVersion: c.apiVersion}, &inc)
	if err != nil {
		return Incident{}, err
	}
	if inc.Etag == "" {
		inc.Etag = resp.Header.Get("ETag")
	}
	return inc, nil
}

// PutIncident writes inc back under If-Match on the etag it was read with: PUT …/incidents/{id}. Someone
// else's change in between answers 412, an *arm.Error with Status http.StatusPreconditionFailed.
func (c *Client) PutIncident(ctx context.Context, ref IncidentRef, inc Incident) (Incident, error) {
	if inc.Etag == "" {
		return Incident{}, errors.New("sentinel: an incident is written back only with the etag it was read with")
	}
	props := make(map[string]json.RawMessage, len(inc.Properties))
	for k, v := range inc.Properties {
		if !slices.Contains(readOnly, k) {
			props[k] = v
		}
	}
	body := struct {
		Etag       string                     `json:"etag"`
		Properties map[string]json.RawMessage `json:"properties"`
	}{inc.Etag, props}
	var out Incident
	resp, err := c.arm.Do(ctx, arm.Request{Method: http.MethodPut, Path: ref.Path(), APIVersion: c.apiVersion, IfMatch: inc.Etag, Body: body}, &out)
	if err != nil {
		return Incident{}, err
	}
	if out.Etag == "" {
		out.Etag = resp.Header.Get("ETag")
	}
	return out, nil
}

// MaxCommentLength is the longest comment message Sentinel takes.
const MaxCommentLength = 30000

// PutComment creates or replaces the comment with the given ID: PUT …/incidents/{id}/comments/{commentId}.
// Putting the same ID again never makes a second comment, which is what makes a retried write-back safe.
func (c *Client) PutComment(ctx context.Context, ref IncidentRef, commentID, message string) error {
	if !resourceRe.MatchString(commentID) {
		return fmt.Errorf("sentinel: %q is not a usable comment ID", commentID)
	}
	if n := len([]rune(message)); n > MaxCommentLength {
		return fmt.Errorf("sentinel: a comment is at most %d characters, this one has %d", MaxCommentLength, n)
	}
	body := map[string]any{"properties": map[string]string{"message": message}}
	_, err := c.arm.Do(ctx, arm.Request{Method: http.MethodPut, Path: ref.Path() + "/comments/" + url.PathEscape(commentID),
		APIVersion: c.apiVersion, Body: body}, nil)
	return err
}
