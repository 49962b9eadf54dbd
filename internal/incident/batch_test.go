package incident

import (
	"bytes"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// sensorV2Alert is an alert exactly as internal/sensorstandin serialises it for GET /external/v2/alerts
// (alertJSON, in its field order), for an alert added with AddAlert(Alert{ID: 3, Time: …, Title:
// "Unauthorized PLC Programming", Severity: "Major", Engine: "Policy Violation", …, Learned: true}).
const sensorV2Alert = `{"id":3,"uuid":"3-1594808285000","time":1594808285000,"title":"Unauthorized PLC Programming",` +
	`"message":"","severity":"Major","engine":"Policy Violation","sourceDevice":1,"destinationDevice":2,"handled":true,` +
	`"siteId":1,"zoneId":1,"sensorId":1,"additionalInformation":null,"sourceDeviceAddress":"10.13.10.7",` +
	`"destinationDeviceAddress":"10.13.10.1","remediationSteps":"Verify the change.","sensorName":"sensor-ams",` +
	`"zoneName":"Packaging","siteName":"Amsterdam"}`

// sensorV1Alert is the v1 form of an unhandled alert: no addresses or names. The additionalInformation
// is the documented example of GET /api/v1/alerts, spelled in lower case as there.
const sensorV1Alert = `{"id":1,"uuid":"1-1509881077000","time":1509881077000,"title":"Internet Access Detected",` +
	`"message":"Device 192.168.0.13 tried to access an external IP address.\nIt is recommended to notify the security officer.",` +
	`"severity":"Major","engine":"Policy Violation","sourceDevice":0,"destinationDevice":0,"handled":false,` +
	`"siteId":0,"zoneId":0,"sensorId":0,"additionalinformation":{"information":["170.60.50.201 over port BACnet (47808)"],` +
	`"description":"External Addresses"}}`

func wantSensorV2Incident() Incident {
	at := time.UnixMilli(1594808285000).UTC()
	return Incident{
		ID:            "d4iot-sensor-3-1594808285000",
		Title:         "Unauthorized PLC Programming",
		Severity:      SeverityMedium,
		Status:        StatusClosed,
		Provider:      ProviderOTSensor,
		Created:       at,
		LastModified:  at,
		FirstActivity: at,
		Alerts: []Alert{{
			ID:                 "3-1594808285000",
			Title:              "Unauthorized PLC Programming",
			Severity:           SeverityMedium,
			Status:             "Resolved",
			VendorOriginalID:   "3-1594808285000",
			ProviderName:       ProviderOTSensor,
			ProductName:        "Microsoft Defender for IoT",
			Engine:             "POLICY_VIOLATION",
			StartTime:          at,
			TimeGenerated:      at,
			RemediationSteps:   []string{"Verify the change."},
			SensorID:           "sensor-ams",
			SourceAddress:      "10.13.10.7",
			DestinationAddress: "10.13.10.1",
		}},
		Devices: []Device{
			{IP: "10.13.10.7", Site: "Amsterdam", Zone: "Packaging", Sensor: "sensor-ams"},
			{IP: "10.13.10.1", Site: "Amsterdam", Zone: "Packaging", Sensor: "sensor-ams"},
		},
		IPs: []string{"10.13.10.7", "10.13.10.1"},
	}
}

func TestParseSensorAlert(t *testing.T) {
	inc, err := ParseSensorAlert([]byte(sensorV2Alert))
	require.NoError(t, err)
	require.Equal(t, wantSensorV2Incident(), inc)
	require.Equal(t, ProviderOTSensor, inc.Alerts[0].DefenderProvider())
	src, ok := inc.SourceDevice()
	require.True(t, ok)
	require.Equal(t, "10.13.10.7", src.IP)
	require.Equal(t, "Amsterdam", inc.Site())
	require.Equal(t, "sensor-ams", inc.Sensor())
	requireRoundTrip(t, inc)

	inc, err = ParseSensorAlert([]byte(sensorV1Alert))
	require.NoError(t, err)
	a := inc.Alerts[0]
	require.Equal(t, "d4iot-sensor-1-1509881077000", inc.ID)
	require.Equal(t, "New", a.Status)
	require.Equal(t, StatusNew, inc.Status)
	require.True(t, a.IsNew)
	require.Equal(t, "Device 192.168.0.13 tried to access an external IP address.\nIt is recommended to notify the security officer.", a.Description)
	require.Nil(t, inc.Devices)
	require.Nil(t, inc.IPs)
	requireRoundTrip(t, inc)
}

// sensorAlert builds a sensor alert from a minimal valid one with fields replaced (raw JSON values).
func sensorAlert(fields ...string) string {
	base := map[string]string{
		"uuid": `"7-1594550943000"`, "time": `1594550943000`, "title": `"Port Scan Detected"`,
		"severity": `"Critical"`, "engine": `"Anomaly"`, "handled": `false`,
	}
	order := []string{"uuid", "time", "title", "severity", "engine", "handled"}
	for i := 0; i+1 < len(fields); i += 2 {
		if _, ok := base[fields[i]]; !ok {
			order = append(order, fields[i])
		}
		base[fields[i]] = fields[i+1]
	}
	var b strings.Builder
	b.WriteByte('{')
	for i, k := range order {
		if base[k] == "" {
			continue // removed
		}
		if i > 0 && b.Len() > 1 {
			b.WriteByte(',')
		}
		b.WriteString(`"` + k + `":` + base[k]) // keys are plain; not Quote, which escapes bad bytes
	}
	b.WriteByte('}')
	return b.String()
}

func TestSensorSeverityAndEngine(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"Critical", SeverityHigh}, {"Major", SeverityMedium}, {"Minor", SeverityLow}, {"Warning", SeverityLow},
		{"critical", SeverityHigh}, {" MAJOR ", SeverityMedium}, {"warning", SeverityLow},
		{"High", SeverityHigh}, {"informational", SeverityInformational}, {"", ""},
	} {
		t.Run("severity "+tc.in, func(t *testing.T) {
			inc, err := ParseSensorAlert([]byte(sensorAlert("severity", strconv.Quote(tc.in))))
			require.NoError(t, err)
			require.Equal(t, tc.want, inc.Severity)
			require.Equal(t, tc.want, inc.Alerts[0].Severity)
		})
	}
	for _, tc := range []struct{ in, want string }{
		{"Policy Violation", "POLICY_VIOLATION"}, {"Protocol Violation", "PROTOCOL_VIOLATION"},
		{"Anomaly", "ANOMALY"}, {"Malware", "MALWARE"}, {"Operational", "OPERATIONAL"},
		{"policy violation", "POLICY_VIOLATION"}, {"MALWARE", "MALWARE"}, {"Custom Engine", "Custom Engine"}, {"", ""},
	} {
		t.Run("engine "+tc.in, func(t *testing.T) {
			inc, err := ParseSensorAlert([]byte(sensorAlert("engine", strconv.Quote(tc.in))))
			require.NoError(t, err)
			require.Equal(t, tc.want, inc.Alerts[0].Engine)
		})
	}
}

func TestSensorHandledAndTime(t *testing.T) {
	at := time.Date(2020, 7, 12, 10, 49, 3, 0, time.UTC)
	for _, tc := range []struct {
		name, key, val         string
		alertStatus, incStatus string
		isNew                  bool
		wantTime               time.Time
	}{
		{name: "handled", key: "handled", val: `true`, alertStatus: "Resolved", incStatus: StatusClosed, wantTime: at},
		{name: "handled string", key: "handled", val: `"True"`, alertStatus: "Resolved", incStatus: StatusClosed, wantTime: at},
		{name: "unhandled", key: "handled", val: `false`, alertStatus: "New", incStatus: StatusNew, isNew: true, wantTime: at},
		{name: "handled missing", key: "handled", val: ``, alertStatus: "New", incStatus: StatusNew, isNew: true, wantTime: at},
		{name: "time string ms", key: "time", val: `"1594550943000"`, alertStatus: "New", incStatus: StatusNew, isNew: true, wantTime: at},
		{name: "time float ms", key: "time", val: `1.594550943e12`, alertStatus: "New", incStatus: StatusNew, isNew: true, wantTime: at},
		{name: "time RFC 3339", key: "time", val: `"2020-07-12T12:49:03+02:00"`, alertStatus: "New", incStatus: StatusNew, isNew: true, wantTime: at},
		{name: "time missing", key: "time", val: ``, alertStatus: "New", incStatus: StatusNew, isNew: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			inc, err := ParseSensorAlert([]byte(sensorAlert(tc.key, tc.val)))
			require.NoError(t, err)
			a := inc.Alerts[0]
			require.Equal(t, tc.alertStatus, a.Status)
			require.Equal(t, tc.incStatus, inc.Status)
			require.Equal(t, tc.isNew, a.IsNew)
			require.Equal(t, tc.wantTime, a.StartTime)
			require.Equal(t, tc.wantTime, a.TimeGenerated)
			require.Equal(t, tc.wantTime, inc.Created)
			require.Equal(t, tc.wantTime, inc.FirstActivity)
		})
	}
}

func TestSensorAlertFields(t *testing.T) {
	t.Run("addresses", func(t *testing.T) {
		inc, err := ParseSensorAlert([]byte(sensorAlert(
			"sourceDeviceAddress", `"00:1a:2b:3c:4d:5e"`, "destinationDeviceAddress", `" fe80::1 "`,
			"siteName", `"Rotterdam Plant"`, "zoneName", `"Line 3"`, "sensorName", `"sensor-rtm"`)))
		require.NoError(t, err)
		require.Equal(t, []Device{
			{MAC: "00:1a:2b:3c:4d:5e", Site: "Rotterdam Plant", Zone: "Line 3", Sensor: "sensor-rtm"},
			{IP: "fe80::1", Site: "Rotterdam Plant", Zone: "Line 3", Sensor: "sensor-rtm"},
		}, inc.Devices)
		require.Equal(t, []string{"fe80::1"}, inc.IPs)
		require.Equal(t, "Line 3", inc.Zone())
	})
	t.Run("same address twice, and one neither IP nor MAC", func(t *testing.T) {
		inc, err := ParseSensorAlert([]byte(sensorAlert("sourceDeviceAddress", `"10.0.0.1"`, "destinationDeviceAddress", `"10.0.0.1"`)))
		require.NoError(t, err)
		require.Len(t, inc.Devices, 1)
		inc, err = ParseSensorAlert([]byte(sensorAlert("sourceDeviceAddress", `"N/A"`, "destinationDeviceAddress", `""`)))
		require.NoError(t, err)
		require.Nil(t, inc.Devices)
		require.Equal(t, "N/A", inc.Alerts[0].SourceAddress)
	})
	t.Run("description from additionalInformation", func(t *testing.T) {
		inc, err := ParseSensorAlert([]byte(sensorAlert("message", `""`, "additionalInformation", `{"description":"External Addresses","information":["x"]}`)))
		require.NoError(t, err)
		require.Equal(t, "External Addresses", inc.Description)
	})
	t.Run("remediation steps as a list", func(t *testing.T) {
		inc, err := ParseSensorAlert([]byte(sensorAlert("remediationSteps", `["Check the PLC.","Restore the program."]`)))
		require.NoError(t, err)
		require.Equal(t, []string{"Check the PLC.", "Restore the program."}, inc.Alerts[0].RemediationSteps)
	})
	t.Run("keys ignore case", func(t *testing.T) {
		inc, err := ParseSensorAlert([]byte(`{"UUID":"1-1594550943000","Title":"t","Severity":"minor","SiteName":"s","SourceDeviceAddress":"10.0.0.9"}`))
		require.NoError(t, err)
		require.Equal(t, SeverityLow, inc.Severity)
		require.Equal(t, "s", inc.Site())
	})
	t.Run("long text is clipped", func(t *testing.T) {
		title := strings.Repeat("ä", maxTitleRunes+10)
		msg := strings.Repeat("x", maxTextBytes-4) + "é" + "tail" // the é straddles the cut before the ellipsis
		inc, err := ParseSensorAlert([]byte(sensorAlert("title", strconv.Quote(title), "message", strconv.Quote(msg))))
		require.NoError(t, err)
		require.Equal(t, strings.Repeat("ä", maxTitleRunes-1)+"…", inc.Title)
		require.Equal(t, strings.Repeat("x", maxTextBytes-4)+"…", inc.Description)
		require.LessOrEqual(t, len(inc.Description), maxTextBytes)
	})
}

func TestParseSensorAlertErrors(t *testing.T) {
	for _, tc := range []struct {
		name, body, path, msg string
	}{
		{"not JSON", `{"uuid":`, "body", "not JSON"},
		{"not an object", `[]`, "body", "must be a JSON object, not array"},
		{"missing uuid", sensorAlert("uuid", ``), "uuid", "missing"},
		{"blank uuid", sensorAlert("uuid", `"  "`), "uuid", "missing"},
		{"uuid as spelled", `{"UUID":null,"title":"t"}`, "UUID", "missing"},
		{"uuid object", sensorAlert("uuid", `{}`), "uuid", "must be a string, not object"},
		{"uuid too long", sensorAlert("uuid", strconv.Quote(strings.Repeat("1", 300))), "uuid", "longer than 256 bytes"},
		{"missing title", sensorAlert("title", ``), "title", "missing"},
		{"title with a control character", sensorAlert("title", `"Port\u001b[2J Scan"`), "title", "control character U+001B"},
		{"title with a newline", sensorAlert("title", `"Port\nScan"`), "title", "control character U+000A"},
		{"message with a control character", sensorAlert("message", `"a\u0000b"`), "message", "control character U+0000"},
		{"C1 control", sensorAlert("sensorName", `"s\u009bx"`), "sensorName", "control character U+009B"},
		{"unknown severity", sensorAlert("severity", `"Severe"`), "severity", `not a severity: "Severe"`},
		{"bad time", sensorAlert("time", `"yesterday"`), "time", `not a time: "yesterday"`},
		{"time out of range", sensorAlert("time", `999999999999999999`), "time", "out of range"},
		{"time object", sensorAlert("time", `{}`), "time", "must be epoch milliseconds or a time, not object"},
		{"handled", sensorAlert("handled", `"maybe"`), "handled", "not a boolean"},
		{"additionalInformation", sensorAlert("message", `""`, "additionalInformation", `"x"`), "additionalInformation", "must be an object, not string"},
		{"nested description", sensorAlert("message", `""`, "additionalInformation", `{"description":"\u0007"}`), "additionalInformation.description", "control character U+0007"},
		{"remediation steps", sensorAlert("remediationSteps", `{}`), "remediationSteps", "must be an array of strings, not object"},
		{"remediation step control", sensorAlert("remediationSteps", `["ok","\u0001"]`), "remediationSteps", "step 2 contains a control character U+0001"},
		{"invalid UTF-8", sensorAlert("message", "\"caf\xe9\""), "message", "invalid UTF-8"},
		{"invalid UTF-8 in a key", sensorAlert("x\xff", `1`), "x\uFFFD", "invalid UTF-8"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseSensorAlert([]byte(tc.body))
			var fe *FieldError
			require.True(t, errors.As(err, &fe), "%T %v", err, err)
			require.Equal(t, tc.path, fe.Path, fe.Error())
			require.Contains(t, fe.Msg, tc.msg)
		})
	}
}

func TestParseAlertsForms(t *testing.T) {
	record := readFixture(t, fixtureRecord)
	recordLine := compactJSON(t, record)
	recordInc, err := ParseAlertRecord(record)
	require.NoError(t, err)
	sensorInc := wantSensorV2Incident()

	type want struct {
		line int
		form string
		id   string
	}
	for _, tc := range []struct {
		name   string
		body   string
		ndjson bool
		want   []want
	}{
		{"single record", string(record), false, []want{{0, FormSecurityAlert, recordInc.ID}}},
		{"single sensor alert", "\n  " + sensorV2Alert + "\n", false, []want{{0, FormSensor, sensorInc.ID}}},
		{"single object forced NDJSON", sensorV2Alert, true, []want{{1, FormSensor, sensorInc.ID}}},
		{"array", "[" + string(record) + ",\n" + sensorV2Alert + "]", false,
			[]want{{0, FormSecurityAlert, recordInc.ID}, {0, FormSensor, sensorInc.ID}}},
		{"NDJSON", recordLine + "\n" + sensorV2Alert + "\n" + sensorV1Alert, false,
			[]want{{1, FormSecurityAlert, recordInc.ID}, {2, FormSensor, sensorInc.ID}, {3, FormSensor, "d4iot-sensor-1-1509881077000"}}},
		{"NDJSON CRLF, blank lines, trailing newline", "\r\n" + sensorV2Alert + "\r\n\r\n  \t\r\n" + recordLine + "\r\n", true,
			[]want{{2, FormSensor, sensorInc.ID}, {5, FormSecurityAlert, recordInc.ID}}},
		{"NDJSON with a byte order mark", "\uFEFF" + sensorV2Alert + "\n" + sensorV1Alert + "\n", false,
			[]want{{1, FormSensor, sensorInc.ID}, {2, FormSensor, "d4iot-sensor-1-1509881077000"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			recs, err := ParseAlerts([]byte(tc.body), tc.ndjson)
			require.NoError(t, err)
			require.Len(t, recs, len(tc.want))
			for i, w := range tc.want {
				r := recs[i]
				require.NoError(t, r.Err, "record %d", i)
				require.Equal(t, i, r.Index)
				require.Equal(t, w.line, r.Line, "record %d", i)
				require.Equal(t, w.form, r.Form, "record %d", i)
				require.Equal(t, w.id, r.Incident.ID, "record %d", i)
				switch r.Incident.ID {
				case recordInc.ID:
					require.Equal(t, recordInc, r.Incident)
				case sensorInc.ID:
					require.Equal(t, sensorInc, r.Incident)
				}
			}
		})
	}
}

func TestParseAlertsHostileLines(t *testing.T) {
	record := compactJSON(t, readFixture(t, fixtureRecord))
	huge := `{"uuid":"1-1594550943000","title":"t","message":"` + strings.Repeat("A", 2<<20) + `"}`
	lines := []struct {
		line       string
		path, msg  string // want an error when msg is set
		form, id   string // else this incident
		skipRecord bool   // a blank line: no record
	}{
		{line: sensorV2Alert, form: FormSensor, id: "d4iot-sensor-3-1594808285000"},
		{line: `{"uuid": "1-1", "title": `, msg: "not JSON: unexpected end of input"},
		{line: `42`, msg: "must be a JSON object, not number"},
		{line: ``, skipRecord: true},
		{line: `{}`, msg: "not an alert: expected a Defender for IoT SecurityAlert record (VendorOriginalId) or an OT sensor alert (uuid, title)"},
		{line: `{"title":"Port Scan Detected","severity":"Critical"}`, form: FormSensor, path: "uuid", msg: "missing"},
		{line: record, form: FormSecurityAlert, id: "d4iot-5c3e8a1d-2b7f-4e90-8d1a-3f6b2c9e0a47"},
		{line: "{\"uuid\":\"2-1594550943000\",\"title\":\"Scan \xff\xfe\"}", form: FormSensor, path: "title", msg: "invalid UTF-8"},
		{line: `{"uuid":"2-1594550943000","title":"Scan\u0008"}`, form: FormSensor, path: "title", msg: "control character U+0008"},
		{line: huge, msg: "line longer than 1 MiB"},
		{line: "[" + sensorV1Alert + "]", msg: "must be a JSON object, not array"},
		{line: `null`, msg: "must be a JSON object, not null"},
		{line: `{"VendorOriginalId":"v","ExtendedProperties":"{\"isNew\":\"perhaps\"}"}`, form: FormSecurityAlert,
			path: "ExtendedProperties.isNew", msg: `not a boolean: "perhaps"`},
		{line: `{"VendorOriginalId":"v\u0000"}`, form: FormSecurityAlert, path: "VendorOriginalId", msg: "control character U+0000"},
		{line: `{"VendorOriginalId":"v","AlertName":"a\u001bb"}`, form: FormSecurityAlert, path: "AlertName", msg: "control character U+001B"},
		{line: "  " + sensorV1Alert + "  ", form: FormSensor, id: "d4iot-sensor-1-1509881077000"},
	}
	var body bytes.Buffer
	for _, l := range lines {
		body.WriteString(l.line + "\n")
	}
	for _, ndjson := range []bool{true, false} {
		t.Run("ndjson="+strconv.FormatBool(ndjson), func(t *testing.T) {
			recs, err := ParseAlerts(body.Bytes(), ndjson)
			require.NoError(t, err)
			idx := 0
			for i, l := range lines {
				if l.skipRecord {
					continue
				}
				require.Greater(t, len(recs), idx)
				r := recs[idx]
				require.Equal(t, idx, r.Index)
				require.Equal(t, i+1, r.Line, "record %d", idx)
				require.Equal(t, l.form, r.Form, "line %d", i+1)
				if l.msg != "" {
					var fe *FieldError
					require.True(t, errors.As(r.Err, &fe), "line %d: %T %v", i+1, r.Err, r.Err)
					require.Equal(t, l.path, fe.Path, "line %d: %v", i+1, fe)
					require.Contains(t, fe.Msg, l.msg, "line %d", i+1)
					require.Empty(t, r.Incident.ID)
				} else {
					require.NoError(t, r.Err, "line %d", i+1)
					require.Equal(t, l.id, r.Incident.ID)
					require.Len(t, r.Incident.Alerts, 1)
				}
				idx++
			}
			require.Len(t, recs, idx)
		})
	}
}

func TestParseAlertsArray(t *testing.T) {
	recs, err := ParseAlerts([]byte(`[`+sensorV2Alert+`, 7, {}, null, "x", `+sensorV1Alert+`]`), false)
	require.NoError(t, err)
	require.Len(t, recs, 6)
	for i, r := range recs {
		require.Equal(t, i, r.Index)
		require.Zero(t, r.Line)
	}
	require.NoError(t, recs[0].Err)
	require.NoError(t, recs[5].Err)
	for i, msg := range map[int]string{1: "must be a JSON object, not number", 2: "not an alert", 3: "not null", 4: "not string"} {
		var fe *FieldError
		require.True(t, errors.As(recs[i].Err, &fe))
		require.Empty(t, fe.Path)
		require.Contains(t, fe.Msg, msg)
	}
}

func TestParseAlertsBodyErrors(t *testing.T) {
	many := func(n int, sep string) string { return strings.Repeat(`{}`+sep, n) }
	for _, tc := range []struct {
		name, body string
		ndjson     bool
		msg        string
	}{
		{"empty", ``, false, "empty"},
		{"white space", " \r\n\t\n", false, "empty"},
		{"blank NDJSON", "\n\n\r\n", true, "empty"},
		{"empty array", `[ ]`, false, "empty"},
		{"malformed array", `[` + sensorV2Alert + `,`, false, "not JSON: unexpected end of input"},
		{"array with garbage after it", `[` + sensorV2Alert + `] x`, false, "not JSON"},
		{"plain text", "hello\nworld\n", false, "not JSON or NDJSON"},
		{"HTML", "<html><body>502</body></html>", true, "not JSON or NDJSON"},
		{"a bare number", `42`, false, "not JSON or NDJSON"},
		{"a string", `"x"`, false, "not JSON or NDJSON"},
		{"too many NDJSON lines", many(MaxBatchRecords+1, "\n"), false, "more than 10000 records"},
		{"too many NDJSON lines with garbage", many(MaxBatchRecords, "\n") + "x\n", true, "more than 10000 records"},
		{"too many array elements", "[" + strings.TrimSuffix(many(MaxBatchRecords+1, ","), ",") + "]", false, "more than 10000 records"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			recs, err := ParseAlerts([]byte(tc.body), tc.ndjson)
			require.Nil(t, recs)
			var fe *FieldError
			require.True(t, errors.As(err, &fe), "%T %v", err, err)
			require.Equal(t, "body", fe.Path)
			require.Contains(t, fe.Msg, tc.msg)
		})
	}
	// The limit itself is fine.
	recs, err := ParseAlerts([]byte(many(MaxBatchRecords, "\n")), false)
	require.NoError(t, err)
	require.Len(t, recs, MaxBatchRecords)
}

// compactJSON puts a JSON document on one line, for NDJSON.
func compactJSON(tb testing.TB, data []byte) string {
	tb.Helper()
	return string(encodeGeneric(tb, decodeGeneric(tb, data)))
}

func BenchmarkParseAlertsNDJSON(b *testing.B) {
	line := compactJSON(b, readFixture(b, fixtureRecord))
	body := []byte(strings.Repeat(line+"\n", 1000))
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		recs, err := ParseAlerts(body, true)
		if err != nil || len(recs) != 1000 || recs[999].Err != nil {
			b.Fatal(err, len(recs))
		}
	}
	b.ReportMetric(float64(b.N)*1000/b.Elapsed().Seconds(), "records/s")
}

func FuzzParseAlerts(f *testing.F) {
	record := readFixture(f, fixtureRecord)
	line := compactJSON(f, record)
	f.Add(record, false)
	f.Add([]byte(sensorV2Alert), false)
	f.Add([]byte(sensorV1Alert), true)
	f.Add([]byte(line+"\r\n\n"+sensorV2Alert+"\n42\n{}\n["+sensorV1Alert+"]\n"), true)
	f.Add([]byte("["+line+","+sensorV2Alert+",null]"), false)
	f.Add([]byte(sensorAlert("time", `"2020-07-12T12:49:03Z"`, "remediationSteps", `"[\"a\"]"`, "sourceDeviceAddress", `"00:1a:2b:3c:4d:5e"`)), false)
	f.Fuzz(func(t *testing.T, data []byte, ndjson bool) {
		recs, err := ParseAlerts(data, ndjson)
		if err != nil {
			var fe *FieldError
			require.True(t, errors.As(err, &fe), "%T %v", err, err)
			require.Equal(t, "body", fe.Path)
			require.Nil(t, recs)
			return
		}
		require.NotEmpty(t, recs)
		require.LessOrEqual(t, len(recs), MaxBatchRecords)
		for i, r := range recs {
			require.Equal(t, i, r.Index)
			if r.Err != nil {
				_, ok := r.Err.(*FieldError)
				require.True(t, ok, "%T %v", r.Err, r.Err)
				require.Empty(t, r.Incident.ID)
				continue
			}
			require.Contains(t, []string{FormSecurityAlert, FormSensor}, r.Form)
			require.NotEmpty(t, r.Incident.ID)
			require.Len(t, r.Incident.Alerts, 1)
			require.NotEmpty(t, r.Incident.Alerts[0].VendorOriginalID)
			requireRoundTrip(t, r.Incident)
		}
	})
}
