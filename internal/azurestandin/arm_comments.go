package azurestandin

import (
	"cmp"
	"encoding/json"
	"fmt"
	"net/http"
)

// --- Comments ----------------------------------------------------------------------------------

func commentJSON(inc *storedIncident, c *storedComment) resourceJSON {
	author := map[string]any{"objectId": c.Author.ObjectID, "name": c.Author.Name, "userPrincipalName": nil, "email": nil}
	return resourceJSON{
		ID: inc.ID + "/comments/" + c.Name, Name: c.Name, Type: commentType, Etag: c.Etag,
		Properties: map[string]any{
			"message": c.Message, "createdTimeUtc": fmtTime(c.Created), "lastModifiedTimeUtc": fmtTime(c.LastModified), "author": author,
		},
	}
}

func (s *Server) listComments(w http.ResponseWriter, rt armRoute) {
	s.mu.Lock()
	inc := s.st.incident(rt.id)
	value := []resourceJSON{}
	if inc != nil {
		for _, c := range inc.Comments {
			value = append(value, commentJSON(inc, c))
		}
	}
	s.mu.Unlock()
	if inc == nil {
		writeNotFound(w, "incident", rt.name)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"value": value})
}

func (s *Server) getComment(w http.ResponseWriter, rt armRoute) {
	s.mu.Lock()
	inc := s.st.incident(rt.id)
	var c *storedComment
	var out resourceJSON
	if inc != nil {
		if c = inc.comment(rt.comment); c != nil {
			out = commentJSON(inc, c)
		}
	}
	s.mu.Unlock()
	switch {
	case inc == nil:
		writeNotFound(w, "incident", rt.name)
	case c == nil:
		writeNotFound(w, "comment", rt.comment)
	default:
		w.Header().Set("ETag", out.Etag)
		writeJSON(w, http.StatusOK, out)
	}
}

// putComment is IncidentComments_CreateOrUpdate: idempotent by comment ID, so a retried PUT replaces
// its own comment and never adds a second one.
func (s *Server) putComment(w http.ResponseWriter, rt armRoute, body map[string]json.RawMessage, who principal) {
	top, f := propertiesOf(body)
	msg := f.required("message")
	if problem := cmp.Or(top.err, f.err); problem != "" {
		badRequest(w, problem)
		return
	}
	if n := len([]rune(msg)); n > maxCommentChars {
		badRequest(w, fmt.Sprintf("The property 'properties.message' has %d characters; a comment has at most %d.", n, maxCommentChars))
		return
	}
	now := s.opts.Now().UTC()
	inc, ok := lockFound(s, w, func() *storedIncident { return s.st.incident(rt.id) }, "incident", rt.name)
	if !ok {
		return
	}
	status := http.StatusOK
	c := inc.comment(rt.comment)
	if c == nil {
		if len(inc.Comments) >= maxComments {
			s.mu.Unlock()
			badRequest(w, fmt.Sprintf("The incident already has the maximum of %d comments.", maxComments))
			return
		}
		status = http.StatusCreated
		c = &storedComment{Comment: Comment{ID: inc.ID + "/comments/" + rt.comment, Name: rt.comment, Created: now}, Author: who}
		inc.Comments = append(inc.Comments, c)
	}
	c.Message, c.LastModified = msg, now
	c.Writes++
	c.Etag = newEtag()
	out := commentJSON(inc, c)
	s.file.Save()
	s.mu.Unlock()
	w.Header().Set("ETag", out.Etag)
	writeJSON(w, status, out)
}
