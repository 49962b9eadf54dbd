package assets

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/interlock-soar/interlock/internal/safetext"
)

// Limits on what a directory file may hold; beyond them the file is refused rather than half-loaded.
const (
	MaxFileSize = 16 << 20 // bytes
	MaxAssets   = 100_000
	// maxProblems bounds a FileError: past a few dozen problems the file is wrong as a whole.
	maxProblems = 20
)

// Criticality values.
const (
	CriticalityHigh   = "high"
	CriticalityMedium = "medium"
	CriticalityLow    = "low"
)

// Directory is a loaded asset directory. It is immutable once built and safe for concurrent use. A nil
// *Directory is an empty directory: it knows no asset.
type Directory struct {
	sites []Site
	refs  []AssetRef // every asset in file order, with its place and effective owners
	// Indexes into refs by canonical IP, lower-case colon MAC and lower-case name.
	byIP, byMAC, byName map[string]int
}

// Site is a plant or facility.
type Site struct {
	Name   string   `yaml:"name"`
	Owners []string `yaml:"owners"`
	Lines  []Line   `yaml:"lines"`
}

// Line is a production line of a site.
type Line struct {
	Name   string   `yaml:"name"`
	Owners []string `yaml:"owners"`
	// Sensors are the Defender for IoT sensors that watch the line (as alerts name them in SensorId):
	// an alert from one of them concerns the line even when its devices are not in the directory. A
	// sensor belongs to at most one line.
	Sensors []string `yaml:"sensors"`
	Zones   []Zone   `yaml:"zones"`
}

// Zone is a network or process zone of a line.
type Zone struct {
	Name   string   `yaml:"name"`
	Owners []string `yaml:"owners"`
	Assets []Asset  `yaml:"assets"`
}

// Asset is one device of the directory.
type Asset struct {
	// Name is unique in the directory, ignoring case, e.g. "PLC-L3-01".
	Name string `yaml:"name"`
	// Type is the device type as Defender for IoT names it: "PLC", "Engineering Station", "HMI", ...
	Type    string `yaml:"type"`
	SubType string `yaml:"subType"` // e.g. "Safety PLC"
	// IP holds canonical IP addresses (netip form); no two assets share one.
	IP []string `yaml:"ip"`
	// MAC holds MAC addresses in lower-case colon form; no two assets share one.
	MAC []string `yaml:"mac"`
	// Criticality is high, medium or low.
	Criticality string `yaml:"criticality"`
	// Safety marks safety-relevant assets (SIS, safety PLCs).
	Safety bool `yaml:"safety"`
	// PurdueLevel is "0" to "5" or "3.5" (the DMZ); empty when not known.
	PurdueLevel string `yaml:"purdueLevel"`
	// Owners are OT owner email addresses as given; empty means the zone's, line's or site's apply.
	Owners []string `yaml:"owners"`
}

// AssetRef is an asset with its place in the directory.
type AssetRef struct {
	Asset            Asset
	Site, Line, Zone string
	// Owners are the effective owners: the asset's own, else the nearest of zone, line and site.
	Owners []string
}

// FileError is a refused directory file with everything wrong with it.
type FileError struct {
	File     string   // path as given to Load; empty for Parse
	Problems []string // each naming its place, at most maxProblems
	// Omitted counts problems found beyond Problems.
	Omitted int
}

func (e *FileError) Error() string {
	name := e.File
	if name == "" {
		name = "asset directory"
	}
	n := len(e.Problems) + e.Omitted
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %d problem", name, n)
	if n != 1 {
		b.WriteString("s")
	}
	b.WriteString(": ")
	b.WriteString(strings.Join(e.Problems, "; "))
	if e.Omitted > 0 {
		fmt.Fprintf(&b, "; and %d more", e.Omitted)
	}
	return b.String()
}

// Parse loads a directory from data in format "yaml" or "csv". Any problem refuses the whole file with a
// *FileError.
func Parse(data []byte, format string) (*Directory, error) {
	if len(data) > MaxFileSize {
		return nil, &FileError{Problems: []string{fmt.Sprintf("file is %d bytes, over the limit of %d", len(data), MaxFileSize)}}
	}
	// Spreadsheet and Windows tools like to start files with a byte order mark.
	data = trimBOM(data)
	var b builder
	switch strings.ToLower(format) {
	case "yaml", "yml":
		parseYAML(&b, data)
	case "csv":
		parseCSV(&b, data)
	default:
		return nil, fmt.Errorf("assets: unknown format %q, want yaml or csv", format)
	}
	return b.finish()
}

// Load reads a directory file; the extension (.yaml, .yml or .csv) says its format.
func Load(path string) (*Directory, error) {
	var format string
	switch strings.ToLower(filepath.Ext(path)) {
	case ".yaml", ".yml":
		format = "yaml"
	case ".csv":
		format = "csv"
	default:
		return nil, fmt.Errorf("assets: load %s: unknown extension, want .yaml, .yml or .csv", path)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("assets: load: %w", err)
	}
	defer f.Close()
	// Read one byte past the limit so an oversized file is detected without trusting Stat.
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("assets: load %s: %w", path, err)
	}
	d, err := Parse(data, format)
	if fe, ok := errors.AsType[*FileError](err); ok {
		fe.File = path
	}
	return d, err
}

func trimBOM(data []byte) []byte {
	if len(data) >= 3 && data[0] == 0xef && data[1] == 0xbb && data[2] == 0xbf {
		return data[3:]
	}
	return data
}

// Len is the number of assets.
func (d *Directory) Len() int {
	if d == nil {
		return 0
	}
	return len(d.refs)
}

// Sites returns a copy of the directory's sites as loaded (canonical IPs and MACs, owners as given).
func (d *Directory) Sites() []Site {
	if d == nil {
		return nil
	}
	out := make([]Site, len(d.sites))
	for i, s := range d.sites {
		out[i] = cloneSite(s)
	}
	return out
}

// Assets returns every asset with its place, in file order.
func (d *Directory) Assets() []AssetRef {
	if d == nil {
		return nil
	}
	out := make([]AssetRef, len(d.refs))
	for i, r := range d.refs {
		out[i] = cloneRef(r)
	}
	return out
}

// Lookup finds the asset whose IP, MAC (in any common spelling) or name is addr, ignoring case. IPs are
// tried first, then MACs, then names.
func (d *Directory) Lookup(addr string) (AssetRef, bool) {
	i, ok := d.lookup(addr)
	if !ok {
		return AssetRef{}, false
	}
	return cloneRef(d.refs[i]), true
}

func (d *Directory) lookup(addr string) (int, bool) {
	if d == nil {
		return 0, false
	}
	addr = strings.TrimSpace(addr)
	if addr == "" {
		return 0, false
	}
	if ip, ok := canonicalIP(addr); ok {
		if i, ok := d.byIP[ip]; ok {
			return i, true
		}
	}
	if mac, ok := canonicalMAC(addr); ok {
		if i, ok := d.byMAC[mac]; ok {
			return i, true
		}
	}
	i, ok := d.byName[strings.ToLower(addr)]
	return i, ok
}

// canonicalIP returns the netip spelling of s, with IPv4-mapped IPv6 addresses unmapped so both
// spellings of an IPv4 address match.
func canonicalIP(s string) (string, bool) {
	ip, err := netip.ParseAddr(s)
	if err != nil {
		return "", false
	}
	return ip.Unmap().String(), true
}

// canonicalMAC returns s as a lower-case colon-separated EUI-48. It accepts aa:bb:cc:dd:ee:ff,
// aa-bb-cc-dd-ee-ff, aabb.ccdd.eeff and aabbccddeeff in any case.
func canonicalMAC(s string) (string, bool) {
	if len(s) == 12 {
		for _, c := range []byte(s) {
			if !isHex(c) {
				return "", false
			}
		}
		s = s[0:4] + "." + s[4:8] + "." + s[8:12]
	}
	hw, err := net.ParseMAC(s)
	if err != nil || len(hw) != 6 {
		return "", false
	}
	return hw.String(), true
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

var criticalityRank = map[string]int{CriticalityHigh: 3, CriticalityMedium: 2, CriticalityLow: 1}

var purdueLevels = []string{"0", "1", "2", "3", "3.5", "4", "5"}

// purdueLayer maps a Purdue level to the coarse layer Defender for IoT records for a device
// ("Process control", "Supervisory", "Enterprise"), so enriched devices read like sensor-reported ones.
func purdueLayer(level string) string {
	switch level {
	case "0", "1":
		return "Process control"
	case "2", "3":
		return "Supervisory"
	case "3.5", "4", "5":
		return "Enterprise"
	}
	return level
}

// importance maps criticality to Defender for IoT's device importance.
func importance(criticality string) string {
	switch criticality {
	case CriticalityHigh:
		return "High"
	case CriticalityMedium:
		return "Normal"
	case CriticalityLow:
		return "Low"
	}
	return ""
}

func cloneRef(r AssetRef) AssetRef {
	r.Asset = cloneAsset(r.Asset)
	r.Owners = slices.Clone(r.Owners)
	return r
}

func cloneAsset(a Asset) Asset {
	a.IP = slices.Clone(a.IP)
	a.MAC = slices.Clone(a.MAC)
	a.Owners = slices.Clone(a.Owners)
	return a
}

func cloneSite(s Site) Site {
	s.Owners = slices.Clone(s.Owners)
	s.Lines = slices.Clone(s.Lines)
	for i := range s.Lines {
		l := &s.Lines[i]
		l.Owners = slices.Clone(l.Owners)
		l.Sensors = slices.Clone(l.Sensors)
		l.Zones = slices.Clone(l.Zones)
		for j := range l.Zones {
			z := &l.Zones[j]
			z.Owners = slices.Clone(z.Owners)
			z.Assets = slices.Clone(z.Assets)
			for k := range z.Assets {
				z.Assets[k] = cloneAsset(z.Assets[k])
			}
		}
	}
	return s
}

// quote renders a value for an error message: clipped, so a hostile file cannot make errors huge, and
// Go-quoted, so control characters show instead of breaking the message.
func quote(s string) string { return safetext.Quote(s, 64) }
