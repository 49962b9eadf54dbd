package snowstandin

import (
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The Table API operations on records: list, get, create, update and delete, answered as a
// ServiceNow instance answers them.

// list is GET /api/now/table/{table}.
func (s *Server) list(w http.ResponseWriter, tableName string, q map[string][]string, fields []string, display string) {
	limit, ok := countParam(w, q, "sysparm_limit", 10000, 1)
	if !ok {
		return
	}
	offset, ok := countParam(w, q, "sysparm_offset", 0, 0)
	if !ok {
		return
	}
	s.mu.Lock()
	t := s.tables[tableName]
	parsed := parseQuery(first(q["sysparm_query"]), t.known)
	var hits []*record
	if t != nil {
		for _, rec := range t.Records {
			if parsed.matches(func(f string) string { return rec.Fields[f] }) {
				hits = append(hits, rec)
			}
		}
	}
	parsed.sort(hits)
	total := len(hits)
	hits = hits[min(offset, len(hits)):]
	hits = hits[:min(limit, len(hits))]
	result := make([]any, len(hits))
	for i, rec := range hits {
		result[i] = render(rec, fields, display)
	}
	s.mu.Unlock()
	w.Header().Set("X-Total-Count", strconv.Itoa(total))
	writeResult(w, http.StatusOK, result)
}

// countParam reads a whole-number query parameter of at least least; def when it is absent. On a bad
// value it has answered 400.
func countParam(w http.ResponseWriter, q map[string][]string, name string, def, least int) (int, bool) {
	v := first(q[name])
	if v == "" {
		return def, true
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < least {
		writeError(w, http.StatusBadRequest, "Invalid "+name+" "+strconv.Quote(v), "")
		return 0, false
	}
	return n, true
}

func first(v []string) string {
	if len(v) == 0 {
		return ""
	}
	return v[0]
}

// render is a record as the API returns it, honouring sysparm_display_value (true, false, all).
func render(rec *record, fields []string, display string) any {
	switch display {
	case "true":
		return rec.view(fields, true)
	case "all":
		raw, disp := rec.view(fields, false), rec.view(fields, true)
		out := make(map[string]map[string]string, len(raw))
		for k, v := range raw {
			out[k] = map[string]string{"value": v, "display_value": disp[k]}
		}
		return out
	}
	return rec.view(fields, false)
}

func (s *Server) get(w http.ResponseWriter, tableName, sysID string, fields []string, display string) {
	s.mu.Lock()
	rec := s.tables[tableName].find(sysID)
	var out any
	if rec != nil {
		out = render(rec, fields, display)
	}
	s.mu.Unlock()
	if rec == nil {
		writeNotFound(w)
		return
	}
	writeResult(w, http.StatusOK, out)
}

func (s *Server) create(w http.ResponseWriter, r *http.Request, tableName, user string, body map[string]string, fields []string) {
	now := s.opts.Now().UTC()
	ts := now.Format(timeLayout)
	s.mu.Lock()
	t := s.tables[tableName]
	if t == nil {
		t = &table{}
		s.tables[tableName] = t
	}
	rec := &record{Fields: map[string]string{}, Created: now}
	for k, v := range body {
		if strings.HasPrefix(k, "sys_") {
			continue // system fields are the platform's to set
		}
		if _, ok := journalFields[k]; ok {
			if v != "" {
				rec.Journal = append(rec.Journal, journalEntry{Field: k, Author: user, Text: v, At: now})
			}
			continue
		}
		rec.Fields[k] = v
	}
	sysID := newSysID()
	maps.Copy(rec.Fields, map[string]string{
		"sys_id": sysID, "sys_created_on": ts, "sys_updated_on": ts, "sys_created_by": user,
		"sys_updated_by": user, "sys_mod_count": "0", "sys_class_name": tableName,
		// sys_created_on has whole seconds only; `interlock bench` measures latency in milliseconds
		// over HTTP, so the stand-in also stamps the exact creation time. Set last: a client cannot
		// forge it.
		CreatedAtField: now.Format(time.RFC3339Nano),
	})
	if rec.Fields["number"] == "" {
		rec.Fields["number"] = t.nextNumber(tableName)
	}
	if tableName == "incident" {
		setDefault(rec.Fields, "state", "1")
		setDefault(rec.Fields, "opened_at", ts)
		setDefault(rec.Fields, "urgency", "3")
		setDefault(rec.Fields, "impact", "3")
		rec.Fields["priority"] = priority(rec.Fields["urgency"], rec.Fields["impact"])
	}
	setDefault(rec.Fields, "active", "true")
	closeIfResolved(tableName, rec.Fields)
	t.Records = append(t.Records, rec)
	s.file.Save()
	out := rec.view(fields, false)
	copied := rec.view(nil, false)
	s.mu.Unlock()

	if s.opts.OnCreate != nil {
		s.opts.OnCreate(tableName, copied, now)
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	w.Header().Set("Location", scheme+"://"+r.Host+"/api/now/table/"+tableName+"/"+sysID)
	writeResult(w, http.StatusCreated, out)
}

func setDefault(m map[string]string, k, v string) {
	if m[k] == "" {
		m[k] = v
	}
}

// priority is the incident priority lookup (urgency × impact) of a default instance.
func priority(urgency, impact string) string {
	u, err1 := strconv.Atoi(urgency)
	i, err2 := strconv.Atoi(impact)
	if err1 != nil || err2 != nil || u < 1 || u > 3 || i < 1 || i > 3 {
		return "5"
	}
	return strconv.Itoa(min(u+i-1, 5))
}

// closeIfResolved mirrors the incident business rule: resolved, closed or cancelled is not active.
func closeIfResolved(tableName string, f map[string]string) {
	if tableName == "incident" && (f["state"] == "6" || f["state"] == "7" || f["state"] == "8") {
		f["active"] = "false"
	}
}

func (s *Server) update(w http.ResponseWriter, tableName, sysID, user string, body map[string]string, fields []string) {
	now := s.opts.Now().UTC()
	s.mu.Lock()
	rec := s.tables[tableName].find(sysID)
	if rec == nil {
		s.mu.Unlock()
		writeNotFound(w)
		return
	}
	for k, v := range body {
		if strings.HasPrefix(k, "sys_") || k == CreatedAtField {
			continue
		}
		if _, ok := journalFields[k]; ok {
			if v != "" {
				rec.Journal = append(rec.Journal, journalEntry{Field: k, Author: user, Text: v, At: now})
			}
			continue
		}
		rec.Fields[k] = v
	}
	if tableName == "incident" {
		rec.Fields["priority"] = priority(rec.Fields["urgency"], rec.Fields["impact"])
	}
	closeIfResolved(tableName, rec.Fields)
	n, _ := strconv.Atoi(rec.Fields["sys_mod_count"])
	rec.Fields["sys_mod_count"] = strconv.Itoa(n + 1)
	rec.Fields["sys_updated_on"] = now.Format(timeLayout)
	rec.Fields["sys_updated_by"] = user
	s.file.Save()
	out := rec.view(fields, false)
	s.mu.Unlock()
	writeResult(w, http.StatusOK, out)
}

func (s *Server) delete(w http.ResponseWriter, tableName, sysID string) {
	s.mu.Lock()
	t := s.tables[tableName]
	rec := t.find(sysID)
	if rec != nil {
		t.Records = slices.DeleteFunc(t.Records, func(r *record) bool { return r == rec })
		s.file.Save()
	}
	s.mu.Unlock()
	if rec == nil {
		writeNotFound(w)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
