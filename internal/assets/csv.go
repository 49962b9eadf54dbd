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
	r := csv.NewReader(bytes.NewReader(data))
	r.FieldsPerRecord = -1 // checked here, to report it per row
	r.TrimLeadingSpace = true
	// Spreadsheets in locales with a decimal comma export with semicolons.
	if first, _, _ := bytes.Cut(data, []byte("\n")); !bytes.Contains(first, []byte(",")) && bytes.Contains(first, []byte(";")) {
		r.Comma = ';'
	}

	header, err := r.Read()
	if errors.Is(err, io.EOF) {
		return
	}
	if err != nil {
		b.fatal("row 1", "invalid CSV: %v", csvErr(err))
		return
	}
	col := map[string]int{} // display name → index
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
		return
	}

	type zoneAt struct{ site, line, zone int }
	siteIdx := map[string]int{}
	lineIdx := map[string]int{}
	zoneIdx := map[string]zoneAt{}
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
		cell := func(c string) val {
			v := val{pos: rowPos(rows) + ", column " + c}
			if i, ok := col[c]; ok {
				v.s = rec[i]
			}
			return v
		}
		multi := func(c string) []val {
			v := cell(c)
			var out []val
			for _, part := range strings.FieldsFunc(v.s, func(r rune) bool { return r == ';' || r == '|' }) {
				if part = strings.TrimSpace(part); part != "" {
					out = append(out, val{s: part, pos: v.pos})
				}
			}
			return out
		}

		site, ok1 := b.text(cell("site"), true)
		line, ok2 := b.text(cell("line"), true)
		zone, ok3 := b.text(cell("zone"), true)
		in := assetIn{
			pos:     rowPos(rows),
			name:    cell("asset"),
			typ:     cell("type"),
			subType: cell("subtype"),
			crit:    cell("criticality"),
			purdue:  cell("purdueLevel"),
			safety:  cell("safety"),
			ips:     multi("ip"),
			macs:    multi("mac"),
			owners:  multi("owners"),
		}
		if !(ok1 && ok2 && ok3) {
			// Still validate the asset itself, to report all of the row's problems at once.
			b.asset(in, site, line, zone, nil)
			continue
		}
		a, ok := b.asset(in, site, line, zone, nil)
		if !ok {
			continue
		}

		// Group rows into sites, lines and zones by name, ignoring case; the first spelling wins.
		sk := strings.ToLower(site)
		si, ok := siteIdx[sk]
		if !ok {
			si = len(b.sites)
			siteIdx[sk] = si
			b.sites = append(b.sites, Site{Name: site})
		}
		lk := sk + "\x00" + strings.ToLower(line)
		li, ok := lineIdx[lk]
		if !ok {
			li = len(b.sites[si].Lines)
			lineIdx[lk] = li
			b.sites[si].Lines = append(b.sites[si].Lines, Line{Name: line})
		}
		zk := lk + "\x00" + strings.ToLower(zone)
		z, ok := zoneIdx[zk]
		if !ok {
			z = zoneAt{si, li, len(b.sites[si].Lines[li].Zones)}
			zoneIdx[zk] = z
			b.sites[si].Lines[li].Zones = append(b.sites[si].Lines[li].Zones, Zone{Name: zone})
		}
		zp := &b.sites[z.site].Lines[z.line].Zones[z.zone]
		zp.Assets = append(zp.Assets, a)
		// The ref was recorded with this row's spelling; use the group's first spelling instead.
		ref := &b.refs[len(b.refs)-1]
		ref.Site, ref.Line, ref.Zone = b.sites[z.site].Name, b.sites[z.site].Lines[z.line].Name, zp.Name
	}
}

func rowPos(n int) string { return "row " + strconv.Itoa(n) }

func csvErr(err error) error {
	if pe, ok := errors.AsType[*csv.ParseError](err); ok {
		return pe.Err
	}
	return err
}
