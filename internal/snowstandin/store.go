package snowstandin

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"strings"
	"time"
)

// record is one stored record. Journal fields (work_notes, comments) are not columns: like on the
// platform, writing them appends an entry, and reading them shows entries only as a display value.
type record struct {
	Fields  map[string]string `json:"fields"`
	Journal []journalEntry    `json:"journal,omitempty"`
	Created time.Time         `json:"created"`
}

type journalEntry struct {
	Field  string    `json:"field"`
	Author string    `json:"author"`
	Text   string    `json:"text"`
	At     time.Time `json:"at"`
}

type table struct {
	Records []*record `json:"records"`
	Seq     int       `json:"seq"`
}

type snapshot struct {
	Tables map[string]*table `json:"tables"`
}

var journalFields = map[string]string{"work_notes": "Work notes", "comments": "Additional comments"}

// systemFields exist on every table, so queries on them are never dropped as invalid.
var systemFields = []string{"sys_id", "sys_created_on", "sys_created_by", "sys_updated_on", "sys_updated_by",
	"sys_mod_count", "sys_class_name", "number", "active", "state", "work_notes", "comments"}

// numbering is the platform's out-of-box number prefix and first number per table.
var numbering = map[string]struct {
	prefix string
	first  int
}{
	"incident":       {"INC", 10001},
	"change_request": {"CHG", 30001},
	"problem":        {"PRB", 40001},
	"sc_request":     {"REQ", 10001},
	"sc_req_item":    {"RITM", 10001},
	"sc_task":        {"SCTASK", 10001},
}

const timeLayout = "2006-01-02 15:04:05" // how the Table API renders date-times (UTC)

func newSysID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand)
	return hex.EncodeToString(b[:])
}

func (t *table) nextNumber(name string) string {
	n, ok := numbering[name]
	if !ok {
		n.prefix, n.first = "REC", 1001
	}
	t.Seq++
	return fmt.Sprintf("%s%07d", n.prefix, n.first+t.Seq-1)
}

// known reports whether the table has a field, as the real one would know from its schema: a system
// field or one any record of the table carries.
func (t *table) known(field string) bool {
	for _, f := range systemFields {
		if f == field {
			return true
		}
	}
	if t == nil {
		return false
	}
	for _, r := range t.Records {
		if _, ok := r.Fields[field]; ok {
			return true
		}
	}
	return false
}

func (t *table) find(sysID string) *record {
	if t == nil {
		return nil
	}
	for _, r := range t.Records {
		if r.Fields["sys_id"] == sysID {
			return r
		}
	}
	return nil
}

// view renders a record for a response: the requested fields (all when none), journal fields empty
// unless display values are asked for.
func (r *record) view(fields []string, display bool) map[string]string {
	out := maps.Clone(r.Fields)
	for f := range journalFields {
		out[f] = ""
		if display {
			out[f] = r.journalText(f)
		}
	}
	if len(fields) == 0 {
		return out
	}
	sel := make(map[string]string, len(fields))
	for _, f := range fields {
		if v, ok := out[f]; ok {
			sel[f] = v
		}
	}
	return sel
}

// journalText renders a journal field as the platform's display value: newest entry first.
func (r *record) journalText(field string) string {
	var b strings.Builder
	for i := len(r.Journal) - 1; i >= 0; i-- {
		e := r.Journal[i]
		if e.Field != field {
			continue
		}
		fmt.Fprintf(&b, "%s - %s (%s)\n%s\n\n", e.At.UTC().Format(timeLayout), e.Author, journalFields[field], e.Text)
	}
	return b.String()
}

func (s *Server) load() error {
	data, err := s.file.Read()
	if err != nil || data == nil {
		return err
	}
	var snap snapshot
	if err := json.Unmarshal(data, &snap); err != nil {
		return s.file.NotState(err)
	}
	if snap.Tables != nil {
		s.tables = snap.Tables
	}
	return nil
}

// snapshot encodes the records for the state file.
func (s *Server) snapshot() ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return json.Marshal(snapshot{Tables: s.tables})
}

// Close writes any pending change to the state file. The server keeps answering; Close is for the end
// of its life.
func (s *Server) Close() error {
	return s.file.Close()
}
