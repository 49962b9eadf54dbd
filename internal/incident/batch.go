package incident

import (
	"encoding/json"
	"strconv"
	"strings"
)

// MaxBatchRecords bounds one POST /v1/alerts body.
const MaxBatchRecords = 10000

// maxLineBytes bounds one NDJSON line; a longer line is rejected without being parsed.
const maxLineBytes = 1 << 20

// Forms of an alert record, as AlertRecord.Form names them.
const (
	FormSecurityAlert = "securityAlert" // a Sentinel SecurityAlert row, see ParseAlertRecord
	FormSensor        = "sensor"        // an OT sensor or management console alert, see ParseSensorAlert
)

// AlertRecord is one record of an alert batch: the single-alert incident it parsed to, or why not.
type AlertRecord struct {
	Index    int      // 0-based position in the batch
	Line     int      // 1-based line for NDJSON bodies, 0 otherwise
	Form     string   // "securityAlert" or "sensor" (empty when the record could not be classified)
	Incident Incident // one alert (Alerts[0]), its devices and IPs, as ParseAlertRecord builds it
	Err      error    // *FieldError; Path is relative to the record (e.g. "ExtendedProperties.isNew"), the caller prefixes the index
}

// ParseAlerts splits a body into records and parses each; a bad record never stops the others.
// ndjson forces NDJSON (Content-Type application/x-ndjson); otherwise a body starting with '[' is a
// JSON array, a body that is one JSON object is a single record, and anything else is tried as NDJSON.
// The error is only for a body that is unusable as a whole (empty, not JSON/NDJSON at all, more than
// MaxBatchRecords records) and is a *FieldError with Path "body".
//
// Besides what ParseAlertRecord and ParseSensorAlert check, a record is rejected when it is not valid
// UTF-8, and a SecurityAlert row when its IDs or title hold control characters.
func ParseAlerts(data []byte, ndjson bool) ([]AlertRecord, error) {
	// One copy of the body; every record's strings share it.
	src := strings.TrimPrefix(string(data), "\uFEFF")
	body := strings.TrimLeft(src, " \t\r\n")
	if body == "" {
		return nil, errBody("empty: no alert records")
	}
	if !ndjson {
		switch body[0] {
		case '[':
			return parseArrayBatch(body)
		case '{':
			// NDJSON starts with an object too; it fails here at its second line and is split below.
			var v value
			if decodeJSON([]byte(body), &v) == nil {
				return []AlertRecord{alertRecord(0, 0, &v)}, nil
			}
		}
	}
	return parseNDJSON(src)
}

func errBody(msg string) *FieldError { return &FieldError{Path: "body", Msg: msg} }

func errTooMany() *FieldError {
	return errBody("more than " + strconv.Itoa(MaxBatchRecords) + " records")
}

func parseArrayBatch(body string) ([]AlertRecord, error) {
	var els []value
	if err := decodeJSON([]byte(body), &els); err != nil {
		return nil, errBody("not JSON: " + err.Error())
	}
	switch n := len(els); {
	case n == 0:
		return nil, errBody("empty: no alert records")
	case n > MaxBatchRecords:
		return nil, errTooMany()
	}
	recs := make([]AlertRecord, len(els))
	for i := range els {
		recs[i] = alertRecord(i, 0, &els[i])
	}
	return recs, nil
}

// nextLine cuts the first line off s, without its "\n" or a "\r" before it.
func nextLine(s string) (line, rest string) {
	line, rest, _ = strings.Cut(s, "\n")
	return strings.TrimSuffix(line, "\r"), rest
}

// firstNonSpace is the first byte of line that is not JSON white space, or 0 for a blank line.
func firstNonSpace(line string) byte {
	for i := 0; i < len(line); i++ {
		switch c := line[i]; c {
		case ' ', '\t', '\r':
		default:
			return c
		}
	}
	return 0
}

func parseNDJSON(src string) ([]AlertRecord, error) {
	// Count first, so that an oversized batch is refused before anything is parsed, and tell a body that
	// is no JSON at all (plain text, HTML) from a batch with some bad lines.
	n, looksJSON := 0, false
	for rest := src; rest != ""; {
		var line string
		line, rest = nextLine(rest)
		c := firstNonSpace(line)
		if c == 0 {
			continue
		}
		if n++; n > MaxBatchRecords {
			return nil, errTooMany()
		}
		looksJSON = looksJSON || c == '{' || c == '['
	}
	switch {
	case n == 0:
		return nil, errBody("empty: no alert records")
	case !looksJSON:
		return nil, errBody("not JSON or NDJSON: expected an alert object, an array of them, or one per line")
	}
	recs := make([]AlertRecord, 0, n)
	lineNo := 0
	for rest := src; rest != ""; {
		var line string
		line, rest = nextLine(rest)
		lineNo++
		if firstNonSpace(line) == 0 {
			continue // blank lines separate nothing and are not records
		}
		idx := len(recs)
		switch {
		case len(line) > maxLineBytes:
			recs = append(recs, AlertRecord{Index: idx, Line: lineNo,
				Err: &FieldError{Msg: "line longer than " + strconv.Itoa(maxLineBytes>>20) + " MiB"}})
		default:
			var v value
			if err := decodeJSON([]byte(line), &v); err != nil {
				recs = append(recs, AlertRecord{Index: idx, Line: lineNo, Err: &FieldError{Msg: "not JSON: " + err.Error()}})
				continue
			}
			recs = append(recs, alertRecord(idx, lineNo, &v))
		}
	}
	return recs, nil
}

// alertRecord classifies one decoded record and maps it.
func alertRecord(idx, line int, v *value) AlertRecord {
	rec := AlertRecord{Index: idx, Line: line}
	if v.kind != kindObject {
		rec.Err = &FieldError{Msg: "must be a JSON object, not " + v.kind.String()}
		return rec
	}
	var f formWire
	_ = json.Unmarshal(v.raw, &f) // cannot fail: v was validated and wire fields never fail
	switch {
	case f.isSecurityAlertRow():
		rec.Form = FormSecurityAlert
	case f.isSensorAlert():
		rec.Form = FormSensor
	default:
		rec.Err = &FieldError{Msg: "not an alert: expected a Defender for IoT SecurityAlert record (VendorOriginalId) " +
			"or an OT sensor alert (uuid, title)"}
		return rec
	}
	if fe := checkUTF8(v.raw); fe != nil {
		rec.Err = fe
		return rec
	}
	inc, err := mapRecord(rec.Form, v.raw)
	if err != nil {
		rec.Err = err
		return rec
	}
	rec.Incident = inc
	return rec
}

// mapRecord maps a record of the given form; data is a JSON object.
func mapRecord(form string, data []byte) (Incident, error) {
	if form == FormSensor {
		var w sensorWire
		_ = json.Unmarshal(data, &w) // cannot fail, as in alertRecord
		return incidentFromSensor(data, &w)
	}
	var w recordWire
	_ = json.Unmarshal(data, &w) // cannot fail, as in alertRecord
	if fe := checkRowText(data, &w); fe != nil {
		return Incident{}, fe
	}
	return incidentFromRecord(data, &w)
}

func (f *formWire) isSecurityAlertRow() bool {
	return f.VendorOriginalID.set || f.ExtendedProperties.set || f.ProviderName.set || f.AlertName.set || f.SystemAlertID.set
}

func (f *formWire) isSensorAlert() bool {
	return f.UUID.set || (f.Title.set && (f.Engine.set || f.Message.set || f.Severity.set))
}

// checkRowText holds a SecurityAlert row to the rules a sensor alert's text follows: no control
// characters in its IDs and title, none but tab and line breaks in its description. The row is not
// clipped: it is mapped exactly as ParseAlertRecord maps it.
func checkRowText(data []byte, w *recordWire) *FieldError {
	var d decoder
	root := topPath(data)
	d.singleLine(&w.VendorOriginalID, &root, "VendorOriginalId")
	d.singleLine(&w.SystemAlertID, &root, "SystemAlertId")
	d.singleLine(&w.DisplayName, &root, "DisplayName")
	d.singleLine(&w.AlertName, &root, "AlertName")
	if s, ok := w.Description.text(); ok {
		if c, bad := controlChar(s, true); bad {
			d.failField(&root, "Description", "contains a control character "+c)
		}
	}
	return d.err
}
