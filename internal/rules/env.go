package rules

import (
	"fmt"
	"reflect"
	"strings"
	"time"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/vm"

	"github.com/interlock-soar/interlock/internal/incident"
)

// PLCChangeTitles returns the alert titles behind the plcChangeTitles condition variable
// (incident.PLCChangeTitles, the default of playbooks.plcReprogramming.alertTitles too).
func PLCChangeTitles() []string { return incident.PLCChangeTitles() }

// env is what a condition sees. Field names come from the expr tags, so conditions are written in the
// lower camel case of the incident JSON. The helpers are func-typed fields rather than methods: expr
// calls a method through reflection (an allocation and a reflect.Call per call), while a field whose type
// is one of expr's generated signatures (func(any) bool, func(string) bool, func(string, string) bool) is
// called directly. Each pooled evaluator binds them to itself once.
type env struct {
	Incident        incidentView  `expr:"incident"`
	Previous        *incidentView `expr:"previous"`
	Alerts          []*alertView  `expr:"alerts"`
	Devices         []*deviceView `expr:"devices"`
	Entities        []*entityView `expr:"entities"`
	IPs             []string      `expr:"ips"`
	Event           eventView     `expr:"event"`
	Trigger         string        `expr:"trigger"`
	PLCChangeTitles []string      `expr:"plcChangeTitles"`

	AnyAlertTitle    func(any) bool            `expr:"anyAlertTitle"`
	AnyAlertCategory func(any) bool            `expr:"anyAlertCategory"`
	HasDevice        func(string) bool         `expr:"hasDevice"`
	HasWorkstation   func() bool               `expr:"hasEngineeringWorkstation"`
	SeverityAtLeast  func(string) bool         `expr:"severityAtLeast"`
	HasLabel         func(string) bool         `expr:"hasLabel"`
	SensorIn         func(any) bool            `expr:"sensorIn"`
	SiteIn           func(any) bool            `expr:"siteIn"`
	Changed          func(string) bool         `expr:"changed"`
	ChangedTo        func(string, string) bool `expr:"changedTo"`
	ChangedFrom      func(string, string) bool `expr:"changedFrom"`
}

type incidentView struct {
	ID              string    `expr:"id"`
	Number          int       `expr:"number"`
	Title           string    `expr:"title"`
	Description     string    `expr:"description"`
	Severity        string    `expr:"severity"`
	Status          string    `expr:"status"`
	Owner           ownerView `expr:"owner"`
	Labels          []string  `expr:"labels"`
	URL             string    `expr:"url"`
	Provider        string    `expr:"provider"`
	Tactics         []string  `expr:"tactics"`
	Techniques      []string  `expr:"techniques"`
	AnalyticRuleIDs []string  `expr:"analyticRuleIds"`
	Workspace       string    `expr:"workspace"`
	Created         time.Time `expr:"created"`
	LastModified    time.Time `expr:"lastModified"`
	FirstActivity   time.Time `expr:"firstActivity"`
	LastActivity    time.Time `expr:"lastActivity"`
}

type ownerView struct {
	ObjectID          string `expr:"objectId"`
	Email             string `expr:"email"`
	AssignedTo        string `expr:"assignedTo"`
	UserPrincipalName string `expr:"userPrincipalName"`
}

type alertView struct {
	ID                 string   `expr:"id"`
	Title              string   `expr:"title"`
	BareTitle          string   `expr:"bareTitle"`
	Description        string   `expr:"description"`
	Severity           string   `expr:"severity"`
	Status             string   `expr:"status"`
	VendorOriginalID   string   `expr:"vendorOriginalId"`
	ProviderName       string   `expr:"providerName"`
	ProductName        string   `expr:"productName"`
	Engine             string   `expr:"engine"`
	AlertType          string   `expr:"alertType"`
	Category           string   `expr:"category"`
	SensorID           string   `expr:"sensorId"`
	SourceAddress      string   `expr:"sourceAddress"`
	DestinationAddress string   `expr:"destinationAddress"`
	DestinationDevice  string   `expr:"destinationDevice"`
	Protocol           string   `expr:"protocol"`
	Tactics            []string `expr:"tactics"`
	Techniques         []string `expr:"techniques"`
	IsNew              bool     `expr:"isNew"`
	// DefenderProvider is IoTSecurity, "ASI Scheduled Alerts" or OTSensor for a Defender for IoT
	// alert, "" for any other (incident.Alert.DefenderProvider, the test the status sync uses too).
	DefenderProvider string    `expr:"defenderProvider"`
	StartTime        time.Time `expr:"startTime"`
	EndTime          time.Time `expr:"endTime"`
	TimeGenerated    time.Time `expr:"timeGenerated"`
}

type deviceView struct {
	ID            string    `expr:"id"`
	Name          string    `expr:"name"`
	DisplayName   string    `expr:"displayName"`
	Type          string    `expr:"type"`
	SubType       string    `expr:"subType"`
	Vendor        string    `expr:"vendor"`
	Model         string    `expr:"model"`
	OS            string    `expr:"os"`
	Firmware      string    `expr:"firmware"`
	Serial        string    `expr:"serial"`
	MAC           string    `expr:"mac"`
	IP            string    `expr:"ip"`
	Protocols     []string  `expr:"protocols"`
	Site          string    `expr:"site"`
	Zone          string    `expr:"zone"`
	Sensor        string    `expr:"sensor"`
	PurdueLayer   string    `expr:"purdueLayer"`
	Importance    string    `expr:"importance"`
	Owners        []string  `expr:"owners"`
	IsProgramming bool      `expr:"isProgramming"`
	IsAuthorized  bool      `expr:"isAuthorized"`
	IsScanner     bool      `expr:"isScanner"`
	FirstSeen     time.Time `expr:"firstSeen"`
	// IsEngineeringWorkstation is incident.Device.IsEngineeringWorkstation with the configured types.
	IsEngineeringWorkstation bool `expr:"isEngineeringWorkstation"`
}

type entityView struct {
	Kind    string `expr:"kind"`
	Name    string `expr:"name"`
	Address string `expr:"address"`
}

type eventView struct {
	ID   string `expr:"id"`
	Type string `expr:"type"`
}

func fillIncidentView(v *incidentView, inc *incident.Incident) {
	*v = incidentView{
		ID:          inc.ID,
		Number:      int(inc.Number),
		Title:       inc.Title,
		Description: inc.Description,
		Severity:    inc.Severity,
		Status:      inc.Status,
		Owner: ownerView{
			ObjectID:          inc.Owner.ObjectID,
			Email:             inc.Owner.Email,
			AssignedTo:        inc.Owner.AssignedTo,
			UserPrincipalName: inc.Owner.UserPrincipalName,
		},
		Labels:          inc.Labels,
		URL:             inc.URL,
		Provider:        inc.Provider,
		Tactics:         inc.Tactics,
		Techniques:      inc.Techniques,
		AnalyticRuleIDs: inc.AnalyticRuleIDs,
		Workspace:       inc.Workspace.Name,
		Created:         inc.Created,
		LastModified:    inc.LastModified,
		FirstActivity:   inc.FirstActivity,
		LastActivity:    inc.LastActivity,
	}
}

func makeAlertView(a *incident.Alert) alertView {
	return alertView{
		ID:                 a.ID,
		Title:              a.Title,
		BareTitle:          a.BareTitle(),
		Description:        a.Description,
		Severity:           a.Severity,
		Status:             a.Status,
		VendorOriginalID:   a.VendorOriginalID,
		ProviderName:       a.ProviderName,
		ProductName:        a.ProductName,
		Engine:             a.Engine,
		AlertType:          a.AlertType,
		Category:           a.Category,
		SensorID:           a.SensorID,
		SourceAddress:      a.SourceAddress,
		DestinationAddress: a.DestinationAddress,
		DestinationDevice:  a.DestinationDevice,
		Protocol:           a.Protocol,
		Tactics:            a.Tactics,
		Techniques:         a.Techniques,
		IsNew:              a.IsNew,
		DefenderProvider:   a.DefenderProvider(),
		StartTime:          a.StartTime,
		EndTime:            a.EndTime,
		TimeGenerated:      a.TimeGenerated,
	}
}

func makeDeviceView(d *incident.Device, wsTypes []string) deviceView {
	return deviceView{
		ID:            d.ID,
		Name:          d.Name,
		DisplayName:   d.DisplayName(),
		Type:          d.Type,
		SubType:       d.SubType,
		Vendor:        d.Vendor,
		Model:         d.Model,
		OS:            d.OS,
		Firmware:      d.Firmware,
		Serial:        d.Serial,
		MAC:           d.MAC,
		IP:            d.IP,
		Protocols:     d.Protocols,
		Site:          d.Site,
		Zone:          d.Zone,
		Sensor:        d.Sensor,
		PurdueLayer:   d.PurdueLayer,
		Importance:    d.Importance,
		Owners:        d.Owners,
		IsProgramming: d.IsProgramming,
		IsAuthorized:  d.IsAuthorized,
		IsScanner:     d.IsScanner,
		FirstSeen:     d.FirstSeen,

		IsEngineeringWorkstation: d.IsEngineeringWorkstation(wsTypes),
	}
}

// Limits on a condition. Real conditions are a line or two; the caps keep a pasted blob or a fuzzed
// input from making compilation expensive.
const (
	maxConditionLen   = 8 << 10
	maxConditionNodes = 2000
)

// compileCondition compiles one rule condition against env. Besides expr's own type checking it checks
// the helpers' constant arguments (an unknown severity, property or a non-string list item), so a typo
// fails when the file is loaded instead of silently never matching.
func compileCondition(src string) (*vm.Program, error) {
	if len(src) > maxConditionLen {
		return nil, fmt.Errorf("condition is %d bytes long; the limit is %d", len(src), maxConditionLen)
	}
	return compileChecked(src, env{}, expr.AsBool())
}

// compileChecked compiles src against envValue with every rule expression's restrictions, then checks
// the helpers' constant arguments.
func compileChecked(src string, envValue any, want expr.Option) (*vm.Program, error) {
	prog, err := expr.Compile(src,
		expr.Env(envValue),
		want,
		// Determinism: rules run in dry runs and replays and must give the same answer for the same
		// event. now() reads the clock (expiry uses the explicit now passed to Evaluate instead);
		// keys/values/toPairs return map entries in random order.
		expr.DisableBuiltin("now"),
		expr.DisableBuiltin("keys"),
		expr.DisableBuiltin("values"),
		expr.DisableBuiltin("toPairs"),
		expr.MaxNodes(maxConditionNodes),
	)
	if err != nil {
		return nil, err
	}
	c := &helperCheck{}
	node := prog.Node()
	ast.Walk(&node, c)
	if c.err != nil {
		return nil, c.err.Bind(file.NewSource(src))
	}
	return prog, nil
}

// helperCheck validates the arguments of helper calls after type checking.
type helperCheck struct{ err *file.Error }

var (
	stringType = reflect.TypeOf("")
	anyType    = reflect.TypeOf((*any)(nil)).Elem()
)

func (c *helperCheck) fail(n ast.Node, format string, args ...any) {
	if c.err == nil {
		c.err = &file.Error{Location: n.Location(), Message: fmt.Sprintf(format, args...)}
	}
}

func (c *helperCheck) Visit(node *ast.Node) {
	call, ok := (*node).(*ast.CallNode)
	if !ok {
		return
	}
	id, ok := call.Callee.(*ast.IdentifierNode)
	if !ok {
		return
	}
	args := call.Arguments
	switch id.Value {
	case "anyAlertTitle", "anyAlertCategory", "sensorIn", "siteIn", "titleIn", "categoryIn":
		if len(args) == 1 {
			c.checkList(id.Value, args[0])
		}
	case "titleHas":
		if len(args) == 1 {
			c.checkList(id.Value, args[0])
			c.checkPhrases(args[0])
		}
	case "severityAtLeast":
		if s, ok := constString(args, 0); ok && incident.SeverityRank(s) == 0 {
			c.fail(args[0], "severityAtLeast: unknown severity %q (want %s)", s, strings.Join(severities, ", "))
		}
	case "changed":
		if s, ok := constString(args, 0); ok && !isChangeField(s) {
			c.fail(args[0], "changed: unknown property %q (want %s)", s, strings.Join(changeFields, ", "))
		}
	case "changedTo", "changedFrom":
		f, ok := constString(args, 0)
		if !ok {
			return
		}
		if !isValueChangeField(f) {
			c.fail(args[0], "%s: unknown property %q (want %s)", id.Value, f, strings.Join(valueChangeFields, ", "))
			return
		}
		v, ok := constString(args, 1)
		if !ok {
			return
		}
		switch f {
		case "status":
			if canonical(v, statuses) == "" {
				c.fail(args[1], "%s: unknown status %q (want %s)", id.Value, v, strings.Join(statuses, ", "))
			}
		case "severity":
			if canonical(v, severities) == "" {
				c.fail(args[1], "%s: unknown severity %q (want %s)", id.Value, v, strings.Join(severities, ", "))
			}
		}
	}
}

// checkList accepts a list of strings, a single string, or a value whose element type is only known at
// run time (the helper checks it then).
func (c *helperCheck) checkList(fn string, arg ast.Node) {
	if k, ok := arg.(*ast.ConstantNode); ok {
		if items, ok := k.Value.([]any); ok {
			for _, it := range items {
				if _, ok := it.(string); !ok {
					c.fail(arg, "%s: list items must be strings, got %T %v", fn, it, it)
					return
				}
			}
			return
		}
	}
	t := arg.Type()
	if t == nil || t == anyType || t == stringType {
		return
	}
	if t.Kind() == reflect.Slice && (t.Elem() == stringType || t.Elem() == anyType) {
		return
	}
	c.fail(arg, "%s wants a list of strings, got %v", fn, t)
}

// checkPhrases refuses a constant titleHas phrase without letters or digits: it could never match.
func (c *helperCheck) checkPhrases(arg ast.Node) {
	var phrases []string
	switch k := arg.(type) {
	case *ast.StringNode:
		phrases = []string{k.Value}
	case *ast.ConstantNode:
		items, _ := k.Value.([]any)
		for _, it := range items {
			if s, ok := it.(string); ok {
				phrases = append(phrases, s)
			}
		}
	case *ast.ArrayNode:
		for _, n := range k.Nodes {
			if s, ok := n.(*ast.StringNode); ok {
				phrases = append(phrases, s.Value)
			}
		}
	}
	for _, p := range phrases {
		if len(splitTerms(p)) == 0 {
			c.fail(arg, "titleHas: %q has no letters or digits; it would match nothing", p)
			return
		}
	}
}

func constString(args []ast.Node, i int) (string, bool) {
	if i >= len(args) {
		return "", false
	}
	s, ok := args[i].(*ast.StringNode)
	if !ok {
		return "", false
	}
	return s.Value, true
}

// changeFields are what changed() compares; valueChangeFields also take a value (changedTo/changedFrom),
// as Sentinel's PropertyChanged conditions do for severity, status and owner.
var (
	changeFields      = []string{"status", "severity", "owner", "labels", "alerts", "tactics", "title", "description"}
	valueChangeFields = []string{"status", "severity", "owner"}
)

func isChangeField(s string) bool      { return contains(changeFields, s) }
func isValueChangeField(s string) bool { return contains(valueChangeFields, s) }

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
