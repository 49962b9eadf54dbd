package azurestandin

import (
	"cmp"
	"encoding/json"
	"fmt"
	"net/http"
)

// --- Incidents ---------------------------------------------------------------------------------

type ownerJSON struct {
	ObjectID          string `json:"objectId,omitempty"`
	Email             string `json:"email,omitempty"`
	AssignedTo        string `json:"assignedTo,omitempty"`
	UserPrincipalName string `json:"userPrincipalName,omitempty"`
	OwnerType         string `json:"ownerType"`
}

type labelJSON struct {
	LabelName string `json:"labelName"`
	LabelType string `json:"labelType"`
}

type additionalDataJSON struct {
	AlertsCount       int      `json:"alertsCount"`
	BookmarksCount    int      `json:"bookmarksCount"`
	CommentsCount     int      `json:"commentsCount"`
	AlertProductNames []string `json:"alertProductNames"`
	Tactics           []string `json:"tactics"`
}

type incidentPropsJSON struct {
	AdditionalData         additionalDataJSON `json:"additionalData"`
	Classification         string             `json:"classification,omitempty"`
	ClassificationComment  string             `json:"classificationComment,omitempty"`
	ClassificationReason   string             `json:"classificationReason,omitempty"`
	CreatedTimeUtc         string             `json:"createdTimeUtc"`
	Description            string             `json:"description,omitempty"`
	FirstActivityTimeUtc   string             `json:"firstActivityTimeUtc,omitempty"`
	IncidentURL            string             `json:"incidentUrl"`
	IncidentNumber         int                `json:"incidentNumber"`
	Labels                 []labelJSON        `json:"labels"`
	LastActivityTimeUtc    string             `json:"lastActivityTimeUtc,omitempty"`
	LastModifiedTimeUtc    string             `json:"lastModifiedTimeUtc"`
	Owner                  ownerJSON          `json:"owner"`
	ProviderName           string             `json:"providerName"`
	ProviderIncidentID     string             `json:"providerIncidentId"`
	RelatedAnalyticRuleIDs []string           `json:"relatedAnalyticRuleIds"`
	Severity               string             `json:"severity"`
	Status                 string             `json:"status"`
	Title                  string             `json:"title"`
}

type resourceJSON struct {
	ID         string `json:"id"`
	Name       string `json:"name"`
	Type       string `json:"type"`
	Etag       string `json:"etag,omitempty"`
	Properties any    `json:"properties"`
	SystemData any    `json:"systemData,omitempty"`
}

// incidentJSON renders an incident; called with s.mu held.
func incidentJSON(inc *storedIncident) resourceJSON {
	p := inc.Properties
	out := incidentPropsJSON{
		AdditionalData:         additionalDataJSON{CommentsCount: len(inc.Comments), AlertProductNames: []string{}, Tactics: []string{}},
		Classification:         p.Classification,
		ClassificationComment:  p.ClassificationComment,
		ClassificationReason:   p.ClassificationReason,
		CreatedTimeUtc:         fmtTime(p.CreatedTimeUtc),
		Description:            p.Description,
		FirstActivityTimeUtc:   fmtTime(p.FirstActivityTimeUtc),
		IncidentURL:            p.IncidentURL,
		IncidentNumber:         p.IncidentNumber,
		Labels:                 []labelJSON{},
		LastActivityTimeUtc:    fmtTime(p.LastActivityTimeUtc),
		LastModifiedTimeUtc:    fmtTime(p.LastModifiedTimeUtc),
		Owner:                  ownerJSON{ObjectID: p.Owner.ObjectID, Email: p.Owner.Email, AssignedTo: p.Owner.AssignedTo, UserPrincipalName: p.Owner.UserPrincipalName, OwnerType: cmp.Or(p.Owner.OwnerType, "Unknown")},
		ProviderName:           p.ProviderName,
		ProviderIncidentID:     fmt.Sprint(p.IncidentNumber),
		RelatedAnalyticRuleIDs: []string{},
		Severity:               p.Severity,
		Status:                 p.Status,
		Title:                  p.Title,
	}
	for _, l := range p.Labels {
		out.Labels = append(out.Labels, labelJSON{LabelName: l.LabelName, LabelType: cmp.Or(l.LabelType, "User")})
	}
	return resourceJSON{ID: inc.ID, Name: inc.Name, Type: incidentType, Etag: inc.Etag, Properties: out}
}

func (s *Server) listIncidents(w http.ResponseWriter, rt armRoute) {
	listUnder(s, w, rt, func() []*storedIncident { return s.st.Incidents }, func(inc *storedIncident) string { return inc.ID }, incidentJSON)
}

func (s *Server) getIncident(w http.ResponseWriter, rt armRoute) {
	out, ok := getOne(s, func() *storedIncident { return s.st.incident(rt.id) }, incidentJSON)
	if !ok {
		writeNotFound(w, "incident", rt.name)
		return
	}
	w.Header().Set("ETag", out.Etag)
	writeJSON(w, http.StatusOK, out)
}

// incidentWrite is what a PUT may set; everything else is the stand-in's to keep.
type incidentWrite struct {
	etag  string
	props IncidentProperties // writable properties only
}

var (
	severities            = []string{"High", "Medium", "Low", "Informational"}
	incidentStatuses      = []string{"New", "Active", "Closed"}
	classifications       = []string{"Undetermined", "TruePositive", "BenignPositive", "FalsePositive"}
	classificationReasons = []string{"SuspiciousActivity", "SuspiciousButExpected", "IncorrectAlertLogic", "InaccurateData"}
	ownerTypes            = []string{"Unknown", "User", "Group"}
	labelTypes            = []string{"User", "AutoAssigned"}
)

// parseIncidentWrite validates an Incidents_CreateOrUpdate body against the 2025-12-01 schema.
// Read-only properties are ignored (the stored incident keeps its own).
func parseIncidentWrite(body map[string]json.RawMessage) (incidentWrite, string) {
	top := &fieldReader{obj: body}
	var w incidentWrite
	w.etag = top.str("etag")
	props, ok := top.object("properties")
	if top.err != "" {
		return w, top.err
	}
	if !ok {
		return w, "The property 'properties' is required."
	}
	f := &fieldReader{obj: props, prefix: "properties."}
	p := &w.props
	p.Title = f.required("title")
	p.Severity = f.enum("severity", severities, true)
	p.Status = f.enum("status", incidentStatuses, true)
	p.Description = f.str("description")
	p.Classification = f.enum("classification", classifications, false)
	p.ClassificationReason = f.enum("classificationReason", classificationReasons, false)
	p.ClassificationComment = f.str("classificationComment")
	p.FirstActivityTimeUtc = f.time("firstActivityTimeUtc")
	p.LastActivityTimeUtc = f.time("lastActivityTimeUtc")
	if o, ok := f.object("owner"); ok {
		of := &fieldReader{obj: o, prefix: "properties.owner."}
		p.Owner = Owner{
			ObjectID: of.str("objectId"), Email: of.str("email"), UserPrincipalName: of.str("userPrincipalName"),
			AssignedTo: of.str("assignedTo"), OwnerType: of.enum("ownerType", ownerTypes, false),
		}
		if p.Owner.ObjectID != "" && !isGUID(p.Owner.ObjectID) {
			of.fail("The property 'properties.owner.objectId' must be a GUID.")
		}
		f.fail(of.err)
	}
	if raw, ok := props["labels"]; ok && !isNull(raw) {
		var labels []map[string]json.RawMessage
		if err := json.Unmarshal(raw, &labels); err != nil {
			f.fail("The property 'properties.labels' must be an array of objects.")
		}
		for i, l := range labels {
			lf := &fieldReader{obj: l, prefix: fmt.Sprintf("properties.labels[%d].", i)}
			name := lf.required("labelName")
			lf.enum("labelType", labelTypes, false) // read-only: checked, then decided by the stand-in
			f.fail(lf.err)
			p.Labels = append(p.Labels, Label{LabelName: name})
		}
	}
	if f.err != "" {
		return w, f.err
	}
	// Modelled from the documentation: the portal and the API close an incident only with a
	// classification (and Interlock's writer sets one for that reason).
	if p.Status == "Closed" && p.Classification == "" {
		return w, "The property 'properties.classification' is required when 'properties.status' is 'Closed'."
	}
	return w, ""
}

func (s *Server) putIncident(w http.ResponseWriter, r *http.Request, rt armRoute, body map[string]json.RawMessage, concurrentEdit bool) {
	wr, problem := parseIncidentWrite(body)
	now := s.opts.Now().UTC()
	s.mu.Lock()
	inc := s.st.incident(rt.id)
	if concurrentEdit && inc != nil {
		// An analyst saved the incident in the portal a moment before this request arrived.
		inc.Etag = newEtag()
		inc.Properties.LastModifiedTimeUtc = now
		s.file.Save()
	}
	if problem != "" {
		s.mu.Unlock()
		badRequest(w, problem)
		return
	}
	if im := r.Header.Get("If-Match"); im != "" && (inc == nil || !etagMatches(im, inc.Etag)) {
		s.mu.Unlock()
		writeARMError(w, http.StatusPreconditionFailed, "PreconditionFailed",
			"The If-Match etag does not match the incident's current etag: it was changed since it was read (or does not exist). Read it again and retry.")
		return
	}
	if wr.etag != "" && (inc == nil || !sameEtag(wr.etag, inc.Etag)) {
		s.mu.Unlock()
		writeARMError(w, http.StatusPreconditionFailed, "PreconditionFailed",
			"The etag in the request body does not match the incident's current etag: it was changed since it was read (or does not exist). Read it again and retry.")
		return
	}
	status := http.StatusOK
	if inc == nil {
		status = http.StatusCreated
		inc = &storedIncident{ID: rt.id, Name: rt.name}
		inc.Properties.IncidentNumber = s.st.nextNumber()
		inc.Properties.CreatedTimeUtc = now
		inc.Properties.IncidentURL = incidentURL(rt.id)
		inc.Properties.ProviderName = providerName
		s.st.addIncident(inc)
	}
	old := inc.Properties
	p := wr.props
	p.IncidentNumber, p.CreatedTimeUtc, p.IncidentURL, p.ProviderName = old.IncidentNumber, old.CreatedTimeUtc, old.IncidentURL, old.ProviderName
	for i := range p.Labels {
		// labelType is read-only: a label keeps the type it has, a new one is the user's.
		p.Labels[i].LabelType = "User"
		for _, ol := range old.Labels {
			if ol.LabelName == p.Labels[i].LabelName {
				p.Labels[i].LabelType = cmp.Or(ol.LabelType, "User")
			}
		}
	}
	p.LastModifiedTimeUtc = now
	inc.Properties = p
	inc.Etag = newEtag()
	out := incidentJSON(inc)
	s.file.Save()
	s.mu.Unlock()
	w.Header().Set("ETag", out.Etag)
	writeJSON(w, status, out)
}
