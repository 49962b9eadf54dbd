package azurestandin

import (
	"cmp"
	"encoding/json"
	"slices"
	"strings"
	"time"
)

// Incident is a Microsoft Sentinel incident as the stand-in holds it.
type Incident struct {
	ID         string // full resource ID, in the casing it was created with
	Name       string // the incident ID (last segment)
	Etag       string // as in the ETag header and the body's etag: a quoted GUID
	Properties IncidentProperties
	Comments   []Comment // in creation order
}

// IncidentProperties are an incident's properties.
type IncidentProperties struct {
	Title, Description, Severity, Status                        string
	Classification, ClassificationReason, ClassificationComment string
	Owner                                                       Owner
	Labels                                                      []Label
	IncidentNumber                                              int
	IncidentURL, ProviderName                                   string
	CreatedTimeUtc, LastModifiedTimeUtc                         time.Time
	FirstActivityTimeUtc, LastActivityTimeUtc                   time.Time
}

// Owner is who an incident is assigned to.
type Owner struct {
	ObjectID, Email, UserPrincipalName, AssignedTo, OwnerType string
}

// Label is an incident label (a tag in the portal).
type Label struct {
	LabelName, LabelType string
}

// Comment is an incident comment.
type Comment struct {
	ID, Name, Message     string
	Created, LastModified time.Time
	Writes                int // how many PUTs it took
}

// Alert is a Defender for IoT alert in Azure.
type Alert struct {
	ID, Name   string
	Properties AlertProperties
}

// AlertProperties are an alert's properties.
type AlertProperties struct {
	SystemAlertID, Status, Severity, AlertType, DisplayName string
	StartTimeUtc, EndTimeUtc, LastModified                  time.Time
}

type storedComment struct {
	Comment
	Etag   string    `json:"etag"`
	Author principal `json:"author"`
}

type storedIncident struct {
	ID         string             `json:"id"`
	Name       string             `json:"name"`
	Etag       string             `json:"etag"`
	Properties IncidentProperties `json:"properties"`
	Comments   []*storedComment   `json:"comments"`
}

type storedAlert struct {
	ID             string          `json:"id"`
	Name           string          `json:"name"`
	Properties     AlertProperties `json:"properties"`
	Created        time.Time       `json:"created"`
	ModifiedBy     string          `json:"modifiedBy"`
	ModifiedByType string          `json:"modifiedByType"`
}

type tokenRecord struct {
	Hash      string    `json:"hash"` // SHA-256 of the token: the state file never holds a usable token
	Audience  string    `json:"audience"`
	Expires   time.Time `json:"expires"`
	Principal principal `json:"principal"`
}

// state is everything the stand-in keeps; it is also the state file's shape.
type state struct {
	Incidents          []*storedIncident `json:"incidents"`
	Alerts             []*storedAlert    `json:"alerts"`
	NextIncidentNumber int               `json:"nextIncidentNumber"`
	Tokens             []tokenRecord     `json:"tokens"`

	incidents map[string]*storedIncident // by lower-cased ID
	alerts    map[string]*storedAlert
	tokens    map[string]int // hash → index in Tokens
}

const firstIncidentNumber = 1000

func newState() *state {
	st := &state{NextIncidentNumber: firstIncidentNumber}
	st.index()
	return st
}

func (st *state) index() {
	st.incidents = make(map[string]*storedIncident, len(st.Incidents))
	for _, inc := range st.Incidents {
		st.incidents[strings.ToLower(inc.ID)] = inc
	}
	st.alerts = make(map[string]*storedAlert, len(st.Alerts))
	for _, a := range st.Alerts {
		st.alerts[strings.ToLower(a.ID)] = a
	}
	st.tokens = make(map[string]int, len(st.Tokens))
	for i, t := range st.Tokens {
		st.tokens[t.Hash] = i
	}
}

// addToken remembers a token, dropping the expired ones so the list stays short.
func (st *state) addToken(t tokenRecord, now time.Time) {
	st.Tokens = slices.DeleteFunc(st.Tokens, func(r tokenRecord) bool { return !r.Expires.After(now) })
	st.Tokens = append(st.Tokens, t)
	st.tokens = make(map[string]int, len(st.Tokens))
	for i, r := range st.Tokens {
		st.tokens[r.Hash] = i
	}
}

func (st *state) token(tok string) (tokenRecord, bool) {
	i, ok := st.tokens[hashToken(tok)]
	if !ok {
		return tokenRecord{}, false
	}
	return st.Tokens[i], true
}

func (st *state) incident(id string) *storedIncident { return st.incidents[strings.ToLower(id)] }

func (st *state) addIncident(inc *storedIncident) {
	st.Incidents = append(st.Incidents, inc)
	st.incidents[strings.ToLower(inc.ID)] = inc
}

func (st *state) alert(id string) *storedAlert { return st.alerts[strings.ToLower(id)] }

func (st *state) nextNumber() int {
	n := st.NextIncidentNumber
	st.NextIncidentNumber++
	return n
}

func (inc *storedIncident) comment(name string) *storedComment {
	for _, c := range inc.Comments {
		if strings.EqualFold(c.Name, name) {
			return c
		}
	}
	return nil
}

func (inc *storedIncident) view() Incident {
	out := Incident{ID: inc.ID, Name: inc.Name, Etag: inc.Etag, Properties: inc.Properties}
	out.Properties.Labels = slices.Clone(inc.Properties.Labels)
	for _, c := range inc.Comments {
		out.Comments = append(out.Comments, c.Comment)
	}
	return out
}

func (a *storedAlert) view() Alert {
	return Alert{ID: a.ID, Name: a.Name, Properties: a.Properties}
}

func newEtag() string { return `"` + newGUID() + `"` }

// PutIncident creates or replaces an incident (new etag), keeping its comments. armID is the full
// incident resource ID. Unset read-only properties get what Sentinel would give a new incident. An
// armID that is not an incident resource ID is logged and yields the zero Incident.
func (s *Server) PutIncident(armID string, p IncidentProperties) Incident {
	rt := parseARMPath(armID)
	if rt.kind != routeIncident {
		s.log.Error("azurestandin: PutIncident: not an incident resource ID", "id", armID)
		return Incident{}
	}
	now := s.opts.Now().UTC()
	s.mu.Lock()
	defer s.mu.Unlock()
	inc := s.st.incident(rt.id)
	if inc == nil {
		inc = &storedIncident{ID: rt.id, Name: rt.name}
		s.st.addIncident(inc)
	} else {
		p.IncidentNumber = cmp.Or(p.IncidentNumber, inc.Properties.IncidentNumber)
		if p.CreatedTimeUtc.IsZero() {
			p.CreatedTimeUtc = inc.Properties.CreatedTimeUtc
		}
	}
	if p.IncidentNumber == 0 {
		p.IncidentNumber = s.st.nextNumber()
	} else if p.IncidentNumber >= s.st.NextIncidentNumber {
		s.st.NextIncidentNumber = p.IncidentNumber + 1 // never hand out a seeded number again
	}
	if p.CreatedTimeUtc.IsZero() {
		p.CreatedTimeUtc = now
	}
	if p.LastModifiedTimeUtc.IsZero() {
		p.LastModifiedTimeUtc = now
	}
	p.IncidentURL = cmp.Or(p.IncidentURL, incidentURL(inc.ID))
	p.ProviderName = cmp.Or(p.ProviderName, providerName)
	p.Labels = slices.Clone(p.Labels)
	for i := range p.Labels {
		p.Labels[i].LabelType = cmp.Or(p.Labels[i].LabelType, "User")
	}
	inc.Properties = p
	inc.Etag = newEtag()
	s.file.Save()
	return inc.view()
}

// EditIncident changes an incident as an analyst in the portal would: whatever edit does, with a new
// etag and modification time. It reports false when there is no such incident.
func (s *Server) EditIncident(armID string, edit func(*IncidentProperties)) (Incident, bool) {
	s.mu.Lock()
	inc := s.st.incident(parseARMPath(armID).id)
	if inc == nil {
		s.mu.Unlock()
		return Incident{}, false
	}
	p := inc.view().Properties
	s.mu.Unlock()
	// edit runs outside the lock: it is the caller's code.
	edit(&p)
	now := s.opts.Now().UTC()
	s.mu.Lock()
	defer s.mu.Unlock()
	p.LastModifiedTimeUtc = now
	inc.Properties = p
	inc.Etag = newEtag()
	s.file.Save()
	return inc.view(), true
}

// Incident returns a copy of an incident, found case-insensitively by its resource ID.
func (s *Server) Incident(armID string) (Incident, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	inc := s.st.incident(parseARMPath(armID).id)
	if inc == nil {
		return Incident{}, false
	}
	return inc.view(), true
}

// Incidents returns copies of all incidents in creation order.
func (s *Server) Incidents() []Incident {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Incident, 0, len(s.st.Incidents))
	for _, inc := range s.st.Incidents {
		out = append(out, inc.view())
	}
	return out
}

// PutAlert creates or replaces a Defender for IoT alert. path is its resource path
// (/subscriptions/…/alerts/{id}, no query); Status defaults to New and SystemAlertID to the alert ID.
// A path that is not an alert resource path is logged and yields the zero Alert.
func (s *Server) PutAlert(path string, p AlertProperties) Alert {
	rt := parseARMPath(path)
	if rt.kind != routeAlert {
		s.log.Error("azurestandin: PutAlert: not an alert resource path", "path", path)
		return Alert{}
	}
	now := s.opts.Now().UTC()
	p.Status = cmp.Or(p.Status, "New")
	p.SystemAlertID = cmp.Or(p.SystemAlertID, rt.name)
	if p.LastModified.IsZero() {
		p.LastModified = now
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.st.alert(rt.id)
	if a == nil {
		a = &storedAlert{ID: rt.id, Name: rt.name, Created: now}
		s.st.Alerts = append(s.st.Alerts, a)
		s.st.alerts[strings.ToLower(a.ID)] = a
	}
	a.Properties, a.ModifiedBy, a.ModifiedByType = p, "Microsoft Defender for IoT", "Application"
	s.file.Save()
	return a.view()
}

// Alert returns a copy of an alert, found case-insensitively by its resource path.
func (s *Server) Alert(path string) (Alert, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.st.alert(parseARMPath(path).id)
	if a == nil {
		return Alert{}, false
	}
	return a.view(), true
}

// Alerts returns copies of all alerts in creation order.
func (s *Server) Alerts() []Alert {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Alert, 0, len(s.st.Alerts))
	for _, a := range s.st.Alerts {
		out = append(out, a.view())
	}
	return out
}

func (s *Server) load() error {
	data, err := s.file.Read()
	if err != nil || data == nil {
		return err
	}
	st := newState()
	if err := json.Unmarshal(data, st); err != nil {
		return s.file.NotState(err)
	}
	if st.NextIncidentNumber < firstIncidentNumber {
		st.NextIncidentNumber = firstIncidentNumber
	}
	st.Incidents = slices.DeleteFunc(st.Incidents, func(i *storedIncident) bool { return i == nil })
	st.Alerts = slices.DeleteFunc(st.Alerts, func(a *storedAlert) bool { return a == nil })
	for _, inc := range st.Incidents {
		inc.Comments = slices.DeleteFunc(inc.Comments, func(c *storedComment) bool { return c == nil })
	}
	st.index()
	s.st = st
	return nil
}

// snapshot encodes the state for the state file.
func (s *Server) snapshot() ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return json.MarshalIndent(s.st, "", " ")
}
