// Code copied from the parser before issue 14 (encoding/json wire structs), as the oracle the
// equivalence tests compare the new parser with. Do not edit.

package incident

import (
	"strconv"
	"strings"
)

// maxLineBytes bounds one NDJSON line; a longer line is rejected without being parsed.
const oldMaxLineBytes = 1 << 20

// ParseAlerts splits a body into records and parses each; a bad record never stops the others.
// ndjson forces NDJSON (Content-Type application/x-ndjson); otherwise a body starting with '[' is a
// JSON array, a body that is one JSON object is a single record, and anything else is tried as NDJSON.
// The error is only for a body that is unusable as a whole (empty, not JSON/NDJSON at all, more than
// MaxBatchRecords records) and is a *FieldError with Path "body".
//
// Besides what ParseAlertRecord and ParseSensorAlert check, a record is rejected when it is not valid
// UTF-8, and a SecurityAlert row when its IDs or title hold control characters.
func oldParseAlerts(data []byte, ndjson bool) ([]AlertRecord, error) {

	src := strings.TrimPrefix(string(data), "\uFEFF")
	body := strings.TrimLeft(src, " \t\r\n")
	if body == "" {
		return nil, oldErrBody("empty: no alert records")
	}
	if !ndjson {
		switch body[0] {
		case '[':
			return oldParseArrayBatch(body)
		case '{':

			if root, err := oldParseJSON(body); err == nil {
				return []AlertRecord{oldAlertRecord(0, 0, &root)}, nil
			}
		}
	}
	return oldParseNDJSON(src)
}

func oldErrBody(msg string) *FieldError { return &FieldError{Path: "body", Msg: msg} }

func oldErrTooMany() *FieldError {
	return oldErrBody("more than " + strconv.Itoa(MaxBatchRecords) + " records")
}

func oldParseArrayBatch(body string) ([]AlertRecord, error) {
	root, err := oldParseJSON(body)
	if err != nil {
		return nil, oldErrBody("not JSON: " + err.Error())
	}
	switch n := len(root.kids); {
	case n == 0:
		return nil, oldErrBody("empty: no alert records")
	case n > MaxBatchRecords:
		return nil, oldErrTooMany()
	}
	recs := make([]AlertRecord, len(root.kids))
	for i := range root.kids {
		recs[i] = oldAlertRecord(i, 0, &root.kids[i].val)
	}
	return recs, nil
}

// nextLine cuts the first line off s, without its "\n" or a "\r" before it.
func oldNextLine(s string) (line, rest string) {
	line, rest, _ = strings.Cut(s, "\n")
	return strings.TrimSuffix(line, "\r"), rest
}

// firstNonSpace is the first byte of line that is not JSON white space, or 0 for a blank line.
func oldFirstNonSpace(line string) byte {
	for i := 0; i < len(line); i++ {
		switch c := line[i]; c {
		case ' ', '\t', '\r':
		default:
			return c
		}
	}
	return 0
}

func oldParseNDJSON(src string) ([]AlertRecord, error) {

	n, looksJSON := 0, false
	for rest := src; rest != ""; {
		var line string
		line, rest = oldNextLine(rest)
		c := oldFirstNonSpace(line)
		if c == 0 {
			continue
		}
		if n++; n > MaxBatchRecords {
			return nil, oldErrTooMany()
		}
		looksJSON = looksJSON || c == '{' || c == '['
	}
	switch {
	case n == 0:
		return nil, oldErrBody("empty: no alert records")
	case !looksJSON:
		return nil, oldErrBody("not JSON or NDJSON: expected an alert object, an array of them, or one per line")
	}
	recs := make([]AlertRecord, 0, n)
	lineNo := 0
	for rest := src; rest != ""; {
		var line string
		line, rest = oldNextLine(rest)
		lineNo++
		if oldFirstNonSpace(line) == 0 {
			continue
		}
		idx := len(recs)
		switch {
		case len(line) > oldMaxLineBytes:
			recs = append(recs, AlertRecord{Index: idx, Line: lineNo,
				Err: &FieldError{Msg: "line longer than " + strconv.Itoa(oldMaxLineBytes>>20) + " MiB"}})
		default:
			root, err := oldParseJSON(line)
			if err != nil {
				recs = append(recs, AlertRecord{Index: idx, Line: lineNo, Err: &FieldError{Msg: "not JSON: " + err.Error()}})
				continue
			}
			recs = append(recs, oldAlertRecord(idx, lineNo, &root))
		}
	}
	return recs, nil
}

// alertRecord classifies one parsed record and maps it.
func oldAlertRecord(idx, line int, v *oldNode) AlertRecord {
	rec := AlertRecord{Index: idx, Line: line}
	if v.oldKind != oldKindObject {
		rec.Err = &FieldError{Msg: "must be a JSON object, not " + v.oldKind.String()}
		return rec
	}
	switch {
	case oldIsSecurityAlertRow(v):
		rec.Form = FormSecurityAlert
	case oldIsSensorAlert(v):
		rec.Form = FormSensor
	default:
		rec.Err = &FieldError{Msg: "not an alert: expected a Defender for IoT SecurityAlert record (VendorOriginalId) " +
			"or an OT sensor alert (uuid, title)"}
		return rec
	}
	if fe := oldCheckUTF8(v); fe != nil {
		rec.Err = fe
		return rec
	}
	var inc Incident
	var err error
	if rec.Form == FormSecurityAlert {
		if fe := oldCheckRowText(v); fe != nil {
			rec.Err = fe
			return rec
		}
		inc, err = oldIncidentFromRecord(v)
	} else {
		inc, err = oldIncidentFromSensor(v)
	}
	if err != nil {
		rec.Err = err
		return rec
	}
	rec.Incident = inc
	return rec
}

func oldIsSecurityAlertRow(v *oldNode) bool {
	return v.has("VendorOriginalId") || v.has("ExtendedProperties") || v.has("ProviderName") ||
		v.has("AlertName") || v.has("SystemAlertId")
}

func oldIsSensorAlert(v *oldNode) bool {
	return v.has("uuid") || (v.has("title") && (v.has("engine") || v.has("message") || v.has("severity")))
}

// checkRowText holds a SecurityAlert row to the rules a sensor alert's text follows: no control
// characters in its IDs and title, none but tab and line breaks in its description. The row is not
// clipped: it is mapped exactly as ParseAlertRecord maps it.
func oldCheckRowText(v *oldNode) *FieldError {
	var d oldDecoder
	for _, key := range [...]string{"VendorOriginalId", "SystemAlertId", "DisplayName", "AlertName"} {
		d.singleLine(v, key)
	}
	if m := v.get("Description"); m != nil {
		if s, ok := oldText(&m.val); ok {
			if c, bad := oldControlChar(s, true); bad {
				d.failField(nil, m.key, "contains a control character "+c)
			}
		}
	}
	return d.err
}
