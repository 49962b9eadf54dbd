package activities

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// maxFeedBytes bounds a vulnerability feed file; maxDeviceCVEs the CVEs returned for one device.
const (
	maxFeedBytes  = 64 << 20
	maxDeviceCVEs = 100
)

// CVEDevice names one device to look up; any of its identifiers may match a feed row.
type CVEDevice struct {
	ID   string `json:"id,omitempty"`
	Name string `json:"name,omitempty"`
	IP   string `json:"ip,omitempty"`
}

// CVERequest asks for the CVEs of the given devices.
type CVERequest struct {
	Devices []CVEDevice `json:"devices"`
}

// CVEResult lists each requested device's CVEs, in request order (a device without CVEs has none).
type CVEResult struct {
	// Configured is false when no feed file is set: nothing was looked up.
	Configured bool    `json:"configured"`
	Devices    [][]CVE `json:"devices,omitempty"`
	// Truncated names the devices whose CVE list was cut at maxDeviceCVEs.
	Truncated []int `json:"truncated,omitempty"`
}

type feedRow struct {
	deviceID, deviceName, ip string
	cve                      CVE
}

// CVEFeed reads device vulnerabilities from a CSV or JSON file and reads it again when its size or
// modification time changes, so an exported feed can be replaced without restarting the worker. A new
// file that does not parse keeps the previous contents (and is logged), as the rules file does.
type CVEFeed struct {
	path   string
	logger *slog.Logger

	mu      sync.Mutex
	modTime time.Time
	size    int64
	rows    []feedRow
}

// NewCVEFeed loads the feed at path; an empty path makes a feed that reports itself unconfigured.
func NewCVEFeed(path string, logger *slog.Logger) (*CVEFeed, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	f := &CVEFeed{path: path, logger: logger}
	if path == "" {
		return f, nil
	}
	if err := f.refresh(); err != nil {
		return nil, err
	}
	return f, nil
}

// FindDeviceCVEs returns the CVEs the feed lists for each device.
func (f *CVEFeed) FindDeviceCVEs(ctx context.Context, req CVERequest) (CVEResult, error) {
	if f.path == "" {
		return CVEResult{}, nil
	}
	if err := f.refresh(); err != nil {
		f.mu.Lock()
		loaded := f.rows != nil
		f.mu.Unlock()
		if !loaded {
			return CVEResult{}, err // retryable: the file may be mid-copy
		}
		f.logger.WarnContext(ctx, "vulnerability feed changed but does not load; keeping the previous contents", "err", err)
	}
	f.mu.Lock()
	rows := f.rows
	f.mu.Unlock()
	res := CVEResult{Configured: true, Devices: make([][]CVE, len(req.Devices))}
	for i, d := range req.Devices {
		seen := map[string]bool{}
		for _, r := range rows {
			if !r.matches(d) || seen[strings.ToUpper(r.cve.ID)] {
				continue
			}
			if len(res.Devices[i]) == maxDeviceCVEs {
				res.Truncated = append(res.Truncated, i)
				break
			}
			seen[strings.ToUpper(r.cve.ID)] = true
			res.Devices[i] = append(res.Devices[i], r.cve)
		}
	}
	return res, nil
}

func (r feedRow) matches(d CVEDevice) bool {
	eq := func(a, b string) bool {
		a = strings.TrimSpace(a)
		return a != "" && strings.EqualFold(a, strings.TrimSpace(b))
	}
	return eq(r.deviceID, d.ID) || eq(r.deviceName, d.Name) || eq(r.ip, d.IP)
}

// refresh reloads the file when it changed since the last load.
func (f *CVEFeed) refresh() error {
	st, err := os.Stat(f.path)
	if err != nil {
		return fmt.Errorf("vulnerability feed %s: %w", f.path, err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.rows != nil && st.ModTime().Equal(f.modTime) && st.Size() == f.size {
		return nil
	}
	if st.Size() > maxFeedBytes {
		return fmt.Errorf("vulnerability feed %s: %d bytes, more than %d", f.path, st.Size(), maxFeedBytes)
	}
	data, err := os.ReadFile(f.path)
	if err != nil {
		return fmt.Errorf("vulnerability feed %s: %w", f.path, err)
	}
	rows, err := ParseCVEFeed(data, filepath.Ext(f.path))
	if err != nil {
		return fmt.Errorf("vulnerability feed %s: %w", f.path, err)
	}
	f.rows, f.modTime, f.size = rows, st.ModTime(), st.Size()
	return nil
}

// feedColumns maps a normalised column or key name to the field it fills.
var feedColumns = map[string]string{
	"deviceid": "deviceId", "id": "deviceId",
	"devicename": "deviceName", "name": "deviceName", "device": "deviceName",
	"ip": "ip", "ipaddress": "ip", "deviceip": "ip", "ipaddresses": "ip",
	"cve": "cve", "cveid": "cve", "cvename": "cve", "vulnerabilityid": "cve",
	"cvss": "cvss", "cvssscore": "cvss", "score": "cvss", "basescore": "cvss",
	"severity": "severity", "severityscore": "severity", "cveseverity": "severity",
	"description": "description", "cvedescription": "description",
	"fix": "fix", "remediation": "fix", "remediationsteps": "fix", "solution": "fix",
}

func feedKey(s string) string {
	return strings.Map(func(r rune) rune {
		switch r {
		case ' ', '_', '-', '.', '\ufeff':
			return -1
		}
		return r
	}, strings.ToLower(strings.TrimSpace(s)))
}

// ParseCVEFeed parses a feed: ext ".json" is an array of objects (or {"value": [...]}, as ARG and REST
// exports wrap them), anything else CSV with a header row. Column and key names are matched ignoring
// case, spaces, dashes and underscores. A row needs a CVE id and a device id, name or IP.
func ParseCVEFeed(data []byte, ext string) ([]feedRow, error) {
	var records []map[string]string
	var err error
	if strings.EqualFold(ext, ".json") {
		records, err = jsonRecords(data)
	} else {
		records, err = csvRecords(data)
	}
	if err != nil {
		return nil, err
	}
	rows := make([]feedRow, 0, len(records))
	var errs []error
	for i, rec := range records {
		r := feedRow{deviceID: rec["deviceId"], deviceName: rec["deviceName"], ip: rec["ip"], cve: CVE{
			ID: strings.TrimSpace(rec["cve"]), CVSS: strings.TrimSpace(rec["cvss"]), Severity: strings.TrimSpace(rec["severity"]),
			Description: strings.TrimSpace(rec["description"]), Remediation: strings.TrimSpace(rec["fix"]),
		}}
		if r.cve.ID == "" || (r.deviceID == "" && r.deviceName == "" && r.ip == "") {
			errs = append(errs, fmt.Errorf("record %d: needs a CVE id and a device id, name or IP", i+1))
			continue
		}
		if r.cve.CVSS != "" {
			if _, err := strconv.ParseFloat(r.cve.CVSS, 64); err != nil {
				errs = append(errs, fmt.Errorf("record %d: CVSS score %q is not a number", i+1, r.cve.CVSS))
				continue
			}
		}
		rows = append(rows, r)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs[:min(len(errs), 10)]...)
	}
	return rows, nil
}

func csvRecords(data []byte) ([]map[string]string, error) {
	cr := csv.NewReader(bytes.NewReader(data))
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("read the CSV header: %w", err)
	}
	cols := make([]string, len(header))
	for i, h := range header {
		cols[i] = feedColumns[feedKey(h)]
	}
	out := []map[string]string{}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("read CSV: %w", err)
		}
		m := map[string]string{}
		for i, v := range rec {
			if i < len(cols) && cols[i] != "" && m[cols[i]] == "" {
				m[cols[i]] = v
			}
		}
		out = append(out, m)
	}
}

func jsonRecords(data []byte) ([]map[string]string, error) {
	var list []map[string]any
	if err := json.Unmarshal(data, &list); err != nil {
		var wrapped struct {
			Value []map[string]any `json:"value"`
			Data  []map[string]any `json:"data"`
		}
		if err2 := json.Unmarshal(data, &wrapped); err2 != nil {
			return nil, fmt.Errorf("parse JSON: %w", err)
		}
		list = append(wrapped.Value, wrapped.Data...)
	}
	out := make([]map[string]string, len(list))
	for i, obj := range list {
		m := map[string]string{}
		flatten(obj, m)
		out[i] = m
	}
	return out, nil
}

// genericKeys fill a field only when no specific key did ("name" loses to "deviceName").
var genericKeys = []string{"id", "name", "device", "score"}

// flatten fills m from the nested "properties" object (the ARG shape) first, then obj's own keys;
// specific keys win over generic ones, and keys are taken in sorted order, so a result never depends
// on map order.
func flatten(obj map[string]any, m map[string]string) {
	for k, v := range obj {
		if nested, ok := v.(map[string]any); ok && feedKey(k) == "properties" {
			flatten(nested, m)
		}
	}
	keys := slices.Sorted(maps.Keys(obj))
	for _, generic := range []bool{false, true} {
		for _, k := range keys {
			if slices.Contains(genericKeys, feedKey(k)) == generic {
				setFeedValue(m, feedColumns[feedKey(k)], obj[k])
			}
		}
	}
}

func setFeedValue(m map[string]string, col string, v any) {
	if col == "" || m[col] != "" {
		return
	}
	switch x := v.(type) {
	case string:
		m[col] = x
	case float64:
		m[col] = strconv.FormatFloat(x, 'f', -1, 64)
	case []any:
		if len(x) > 0 {
			if s, ok := x[0].(string); ok {
				m[col] = s
			}
		}
	}
}

// IsCriticalCVE says whether c is critical: severity "Critical" (Microsoft's test), or a CVSS score of
// at least minCVSS.
func IsCriticalCVE(c CVE, minCVSS float64) bool {
	if strings.EqualFold(strings.TrimSpace(c.Severity), "critical") {
		return true
	}
	score, err := strconv.ParseFloat(strings.TrimSpace(c.CVSS), 64)
	return err == nil && minCVSS > 0 && score >= minCVSS
}
