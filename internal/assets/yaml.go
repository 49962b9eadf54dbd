package assets

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// The YAML reader walks the node tree instead of decoding into structs: that way it can refuse unknown
// keys with a suggestion, name every value by path and line, and refuse aliases, which would otherwise
// let a small file expand into a huge one.

var (
	rootKeys  = []string{"sites"}
	siteKeys  = []string{"name", "owners", "lines"}
	lineKeys  = []string{"name", "owners", "sensors", "zones"}
	zoneKeys  = []string{"name", "owners", "assets"}
	assetKeys = []string{"name", "type", "subType", "ip", "mac", "criticality", "safety", "purdueLevel", "owners"}
)

type yamlReader struct {
	b      *builder
	assets int // assets read, valid or not, for the MaxAssets limit
}

func parseYAML(b *builder, data []byte) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if !errors.Is(err, io.EOF) {
			b.fatal("", "invalid YAML: %v", err)
		}
		return
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		b.fatal("", "the file must hold a single YAML document")
		return
	}
	r := &yamlReader{b: b}
	root := &doc
	if root.Kind == yaml.DocumentNode {
		if len(root.Content) == 0 {
			return
		}
		root = root.Content[0]
	}
	if isNull(root) {
		return
	}
	fields, _ := r.mapping(root, "", rootKeys...)
	if fields == nil {
		return
	}
	sites := r.seq(fields["sites"], "sites")
	for i, n := range sites {
		if r.b.stopped {
			return
		}
		if s, ok := r.site(n, fmt.Sprintf("sites[%d]", i)); ok {
			b.sites = append(b.sites, s)
		}
	}
}

func (r *yamlReader) site(n *yaml.Node, path string) (Site, bool) {
	f, shapeOK := r.mapping(n, path, siteKeys...)
	if f == nil {
		return Site{}, false
	}
	name, owners, ok := r.b.levelHeader(level{r.scalar(f["name"], n, path+".name"), r.list(f["owners"], n, path+".owners")})
	if ok {
		ok = r.b.unique("site:"+strings.ToLower(name), pos(f["name"], path+".name"), "site name "+quote(name)) && shapeOK
	}
	s := Site{Name: name, Owners: owners}
	for i, ln := range r.seq(f["lines"], path+".lines") {
		if r.b.stopped {
			return Site{}, false
		}
		l, good := r.line(ln, fmt.Sprintf("%s.lines[%d]", path, i), s)
		ok = ok && good
		s.Lines = append(s.Lines, l)
	}
	return s, ok
}

func (r *yamlReader) line(n *yaml.Node, path string, site Site) (Line, bool) {
	f, shapeOK := r.mapping(n, path, lineKeys...)
	if f == nil {
		return Line{}, false
	}
	name, owners, ok := r.b.levelHeader(level{r.scalar(f["name"], n, path+".name"), r.list(f["owners"], n, path+".owners")})
	if ok {
		ok = r.b.unique("line:"+strings.ToLower(site.Name+"\x00"+name), pos(f["name"], path+".name"), "line name "+quote(name)) && shapeOK
	}
	l := Line{Name: name, Owners: owners}
	for i, sv := range r.list(f["sensors"], n, path+".sensors") {
		s, good := r.b.text(sv, true)
		if good {
			good = r.b.unique("sensor:"+strings.ToLower(s), sv.pos, fmt.Sprintf("sensor %s (%s.sensors[%d])", quote(s), path, i))
		}
		ok = ok && good
		l.Sensors = append(l.Sensors, s)
	}
	for i, zn := range r.seq(f["zones"], path+".zones") {
		if r.b.stopped {
			return Line{}, false
		}
		z, good := r.zone(zn, fmt.Sprintf("%s.zones[%d]", path, i), site, l)
		ok = ok && good
		l.Zones = append(l.Zones, z)
	}
	return l, ok
}

func (r *yamlReader) zone(n *yaml.Node, path string, site Site, line Line) (Zone, bool) {
	f, shapeOK := r.mapping(n, path, zoneKeys...)
	if f == nil {
		return Zone{}, false
	}
	name, owners, ok := r.b.levelHeader(level{r.scalar(f["name"], n, path+".name"), r.list(f["owners"], n, path+".owners")})
	if ok {
		ok = r.b.unique("zone:"+strings.ToLower(site.Name+"\x00"+line.Name+"\x00"+name), pos(f["name"], path+".name"), "zone name "+quote(name)) && shapeOK
	}
	z := Zone{Name: name, Owners: owners}
	inherited := firstNonEmpty(owners, line.Owners, site.Owners)
	for i, an := range r.seq(f["assets"], path+".assets") {
		r.assets++
		if r.assets > MaxAssets {
			r.b.fatal("", "more than %d assets", MaxAssets)
		}
		if r.b.stopped {
			return Zone{}, false
		}
		ap := fmt.Sprintf("%s.assets[%d]", path, i)
		af, shapeOK := r.mapping(an, ap, assetKeys...)
		if af == nil {
			ok = false
			continue
		}
		in := assetIn{
			pos:     pos(an, ap),
			name:    r.scalar(af["name"], an, ap+".name"),
			typ:     r.scalar(af["type"], an, ap+".type"),
			subType: r.scalar(af["subType"], an, ap+".subType"),
			crit:    r.scalar(af["criticality"], an, ap+".criticality"),
			purdue:  r.scalar(af["purdueLevel"], an, ap+".purdueLevel"),
			safety:  r.scalar(af["safety"], an, ap+".safety"),
			ips:     r.list(af["ip"], an, ap+".ip"),
			macs:    r.list(af["mac"], an, ap+".mac"),
			owners:  r.list(af["owners"], an, ap+".owners"),
		}
		a, good := r.b.asset(in, site.Name, line.Name, name, inherited)
		ok = ok && good && shapeOK
		z.Assets = append(z.Assets, a)
	}
	return z, ok
}

func firstNonEmpty(lists ...[]string) []string {
	for _, l := range lists {
		if len(l) > 0 {
			return l
		}
	}
	return nil
}

func pos(n *yaml.Node, path string) string {
	if n == nil || n.Line == 0 {
		return path
	}
	return "line " + strconv.Itoa(n.Line) + ": " + path
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.Tag == "!!null"
}

// alias reports an alias node; they are refused outright.
func (r *yamlReader) alias(n *yaml.Node, path string) bool {
	if n.Kind == yaml.AliasNode {
		r.b.problem(pos(n, path), "YAML aliases are not supported")
		return true
	}
	return false
}

// mapping returns the values of mapping n by key, reporting unknown and repeated keys.
func (r *yamlReader) mapping(n *yaml.Node, path string, keys ...string) (map[string]*yaml.Node, bool) {
	if r.alias(n, path) {
		return nil, false
	}
	if n.Kind != yaml.MappingNode {
		if path == "" {
			r.b.fatal(pos(n, "file"), "must be a mapping with a sites key")
		} else {
			r.b.problem(pos(n, path), "must be a mapping with keys %s", strings.Join(keys, ", "))
		}
		return nil, false
	}
	out := make(map[string]*yaml.Node, len(n.Content)/2)
	ok := true
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			r.b.problem(pos(k, path), "keys must be plain strings")
			ok = false
			continue
		}
		kp := k.Value
		if path != "" {
			kp = path + "." + k.Value
		}
		switch {
		case !slices.Contains(keys, k.Value):
			r.b.problem(pos(k, kp), "unknown key%s", didYouMean(k.Value, keys))
			ok = false
		case out[k.Value] != nil:
			r.b.problem(pos(k, kp), "key is repeated")
			ok = false
		default:
			out[k.Value] = v
		}
	}
	return out, ok
}

// seq returns the items of a list; null or absent is an empty list.
func (r *yamlReader) seq(n *yaml.Node, path string) []*yaml.Node {
	if n == nil || isNull(n) || r.alias(n, path) {
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		r.b.problem(pos(n, path), "must be a list")
		return nil
	}
	return n.Content
}

// scalar reads a single value; parent and path place it when it is absent.
func (r *yamlReader) scalar(n, parent *yaml.Node, path string) val {
	if n == nil {
		return val{pos: pos(parent, path)}
	}
	v := val{pos: pos(n, path)}
	switch {
	case r.alias(n, path):
		v.bad = true
	case n.Kind != yaml.ScalarNode:
		r.b.problem(v.pos, "must be a single value, not a list or mapping")
		v.bad = true
	case !isNull(n):
		v.s = n.Value
	}
	return v
}

// list reads a single value or a list of values.
func (r *yamlReader) list(n, parent *yaml.Node, path string) []val {
	if n == nil || isNull(n) {
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		return []val{r.scalar(n, parent, path)}
	}
	out := make([]val, 0, len(n.Content))
	for i, item := range n.Content {
		out = append(out, r.scalar(item, n, fmt.Sprintf("%s[%d]", path, i)))
	}
	return out
}
