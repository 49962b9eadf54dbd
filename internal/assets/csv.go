package assets

import (
	"bytes"
	"encoding/csv"
	"errors"
	"io"
	"slices"
	"strconv"
	"strings"
)

// csvColumns are the column names as messages spell them; headers match them ignoring case, spaces,
// underscores and dashes, so "Purdue Level" and "purdue_level" both work.
var csvColumns = []string{"site", "line", "zone", "asset", "type", "subtype", "ip", "mac", "criticality", "safety", "purdueLevel", "owners"}

var csvRequired = []string{"site", "line", "zone", "asset", "criticality"}

func columnKey(s string) string {
	return strings.Map(func(r rune) rune {
		if r == ' ' || r == '_' || r == '-' {
			return -1
		}
		return r
	}, strings.ToLower(strings.TrimSpace(s)))
}

func parseCSV(b *builder, data []byte) {
	r := newCSVReader(data)
	header, err := r.Read()
	if errors.Is(err, io.EOF) {
		return
	}
	if err != nil {
		b.fatal("row 1", "invalid CSV: %v", csvErr(err))
		return
	}
	col, ok := readCSVHeader(b, header)
	if !ok {
		return
	}

	g := newCSVGroups()
	rows := 1
	for !b.stopped {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		rows++
		if err != nil {
			b.fatal(rowPos(rows), "invalid CSV: %v", csvErr(err))
			return
		}
		if len(rec) != len(header) {
			b.problem(rowPos(rows), "has %d fields, the header has %d", len(rec), len(header))
			continue
		}
		if !slices.ContainsFunc(rec, func(s string) bool { return strings.TrimSpace(s) != "" }) {
			continue // blank rows are common at the end of exports
		}
		if rows-1 > MaxAssets {
			b.fatal("", "more than %d assets", MaxAssets)
			return
		}
		csvRow(b, g, csvRecord{col: col, rec: rec, row: rows})
	}
}

func newCSVReader(data []byte) *csv.Reader {
	r := csv.NewReader(bytes.NewReader(data))
	r.FieldsPerRecord = -1 // checked by parseCSV, to report it per row
	r.TrimLeadingSpace = true
	// Spreadsheets in locales with a decimal comma export with semicolons.
	if first, _, _ := bytes.Cut(data, []byte("\n")); !bytes.Contains(first, []byte(",")) && bytes.Contains(first, []byte(";")) {
		r.Comma = ';'
	}
	return r
}

// readCSVHeader maps each known column's display name to its index. It reports every header problem
// and stops the build if there was any, since rows can't be read without a sound header.
func readCSVHeader(b *builder, header []string) (map[string]int, bool) {
	col := map[string]int{}
	for i, h := range header {
		k := columnKey(h)
		j := slices.IndexFunc(csvColumns, func(c string) bool { return strings.ToLower(c) == k })
		if j < 0 {
			b.problem("row 1, column "+quote(h), "unknown column%s", didYouMean(k, csvColumns))
			continue
		}
		if _, dup := col[csvColumns[j]]; dup {
			b.problem("row 1, column "+quote(h), "column is repeated")
			continue
		}
		col[csvColumns[j]] = i
	}
	for _, c := range csvRequired {
		if _, ok := col[c]; !ok {
			b.problem("row 1", "required column %s is missing", c)
		}
	}
	if len(b.problems) > 0 {
		b.stopped = true
		return nil, false
	}
	return col, true
}

// csvRecord is one data row with the header's column indexes.
type csvRecord struct {
	col map[string]int // display name → index
	rec []string
	row int // 1-based, counting the header
}

// cell is column c's value, positioned for messages; empty if the header has no such column.
func (r csvRecord) cell(c string) val {
	v := val{pos: rowPos(r.row) + ", column " + c}
	if i, ok := r.col[c]; ok {
		v.s = r.rec[i]
	}
	return v
}

// multi splits column c's value on ';' or '|', dropping empty parts.
func (r csvRecord) multi(c string) []val {
	v := r.cell(c)
	var out []val
	for _, part := range strings.FieldsFunc(v.s, func(r rune) bool { return r == ';' || r == '|' }) {
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, val{s: part, pos: v.pos})
		}
	}
	return out
}

func csvRow(b *builder, g *csvGroups, r csvRecord) {
	site, ok1 := b.text(r.cell("site"), true)
	line, ok2 := b.text(r.cell("line"), true)
	zone, ok3 := b.text(r.cell("zone"), true)
	in := assetIn{
		pos:     rowPos(r.row),
		name:    r.cell("asset"),
		typ:     r.cell("type"),
		subType: r.cell("subtype"),
		crit:    r.cell("criticality"),
		purdue:  r.cell("purdueLevel"),
		safety:  r.cell("safety"),
		ips:     r.multi("ip"),
		macs:    r.multi("mac"),
		owners:  r.multi("owners"),
	}
	if !(ok1 && ok2 && ok3) {
		// Still validate the asset itself, to report all of the row's problems at once.
		b.asset(in, site, line, zone, nil)
		return
	}
	a, ok := b.asset(in, site, line, zone, nil)
	if !ok {
		return
	}
	g.place(b, site, line, zone, a)
}

// csvGroups groups rows into sites, lines and zones by name, ignoring case; the first spelling wins.
type csvGroups struct {
	siteIdx map[string]int
	lineIdx map[string]int
	zoneIdx map[string]zoneAt
}

type zoneAt struct{ site, line, zone int }

func newCSVGroups() *csvGroups {
	return &csvGroups{siteIdx: map[string]int{}, lineIdx: map[string]int{}, zoneIdx: map[string]zoneAt{}}
}

// place adds a to its zone, creating the site, line and zone on first sight.
func (g *csvGroups) place(b *builder, site, line, zone string, a Asset) {
	sk := strings.ToLower(site)
	si, ok := g.siteIdx[sk]
	if !ok {
		si = len(b.sites)
		g.siteIdx[sk] = si
		b.sites = append(b.sites, Site{Name: site})
	}
	lk := sk + "\x00" + strings.ToLower(line)
	li, ok := g.lineIdx[lk]
	if !ok {
		li = len(b.sites[si].Lines)
		g.lineIdx[lk] = li
		b.sites[si].Lines = append(b.sites[si].Lines, Line{Name: line})
	}
	zk := lk + "\x00" + strings.ToLower(zone)
	z, ok := g.zoneIdx[zk]
	if !ok {
		z = zoneAt{si, li, len(b.sites[si].Lines[li].Zones)}
		g.zoneIdx[zk] = z
		b.sites[si].Lines[li].Zones = append(b.sites[si].Lines[li].Zones, Zone{Name: zone})
	}
	zp := &b.sites[z.site].Lines[z.line].Zones[z.zone]
	zp.Assets = append(zp.Assets, a)
	// The ref was recorded with this row's spelling; use the group's first spelling instead.
	ref := &b.refs[len(b.refs)-1]
	ref.Site, ref.Line, ref.Zone = b.sites[z.site].Name, b.sites[z.site].Lines[z.line].Name, zp.Name
}

func rowPos(n int) string { return "row " + strconv.Itoa(n) }

func csvErr(err error) error {
	if pe, ok := errors.AsType[*csv.ParseError](err); ok {
		return pe.Err
	}
	return err
}
