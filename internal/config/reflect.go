package config

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/interlock-soar/interlock/internal/incident"
)

// Keys are described once, in struct tags: `yaml` names the key, `default` gives the default and `doc`
// says what it does. Defaults, environment overrides and the README table are all derived from them.
// A default that another package owns comes from codeDefaults instead of a tag.

var (
	durationType = reflect.TypeFor[time.Duration]()
	secretType   = reflect.TypeFor[Secret]()
)

// KeyDoc documents one configuration key.
type KeyDoc struct {
	Key     string
	Env     string
	Default string
	Doc     string
}

// Docs lists every key, in the order of the Config struct.
func Docs() []KeyDoc {
	var out []KeyDoc
	walk(reflect.TypeFor[Config](), "", func(key string, f reflect.StructField) {
		if f.Type == secretType {
			return
		}
		def := defaultOf(key, f)
		out = append(out, KeyDoc{Key: key, Env: envName(key), Default: def, Doc: f.Tag.Get("doc")})
	}, func(key string, f reflect.StructField) {
		out = append(out, KeyDoc{Key: key, Env: "", Default: "", Doc: f.Tag.Get("doc") + " (file only)"})
	})
	var c Config
	for _, s := range c.secrets() {
		out = append(out, KeyDoc{Key: s.key + ".file", Env: s.env + ", " + s.env + "_FILE", Default: "",
			Doc: "Secret: from the env variable, else from the file it names. Never logged."})
	}
	return out
}

// MarkdownTable renders Docs as the README's table.
func MarkdownTable() string {
	var b strings.Builder
	b.WriteString("| key | env | default | what it does |\n|---|---|---|---|\n")
	for _, d := range Docs() {
		env := ""
		if d.Env != "" {
			env = "`" + strings.ReplaceAll(d.Env, ", ", "`, `") + "`"
		}
		def := ""
		if d.Default != "" {
			def = "`" + d.Default + "`"
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s |\n", d.Key, env, def, d.Doc)
	}
	return b.String()
}

// codeDefaults are the defaults written in code rather than in a tag, as the environment would give
// them (a list joined with commas): lists another package owns, so the two cannot drift apart.
func codeDefaults() map[string]string {
	return map[string]string{
		"playbooks.plcReprogramming.alertTitles": strings.Join(incident.PLCChangeTitles(), ","),
	}
}

// defaultOf is a key's default: its tag's, else its code default.
func defaultOf(key string, f reflect.StructField) string {
	if def, ok := f.Tag.Lookup("default"); ok {
		return def
	}
	return codeDefaults()[key]
}

// walk calls leaf for each scalar key and fileOnly for each key that only the file can set (lists of
// structs, maps).
func walk(t reflect.Type, prefix string, leaf, fileOnly func(key string, f reflect.StructField)) {
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "" || name == "-" {
			continue
		}
		key := name
		if prefix != "" {
			key = prefix + "." + name
		}
		switch {
		case f.Type == secretType:
			continue
		case f.Type.Kind() == reflect.Struct && f.Type != durationType:
			walk(f.Type, key, leaf, fileOnly)
		case isScalar(f.Type):
			leaf(key, f)
		default:
			if fileOnly != nil {
				fileOnly(key, f)
			}
		}
	}
}

func isScalar(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.String, reflect.Bool, reflect.Int, reflect.Int64, reflect.Float64:
		return true
	case reflect.Slice:
		return t.Elem().Kind() == reflect.String
	}
	return false
}

// envName turns "servicenow.baseURL" into "INTERLOCK_SERVICENOW_BASE_URL".
func envName(key string) string {
	var b strings.Builder
	b.WriteString("INTERLOCK")
	for part := range strings.SplitSeq(key, ".") {
		b.WriteByte('_')
		rs := []rune(part)
		for i, r := range rs {
			if i > 0 && unicode.IsUpper(r) && (unicode.IsLower(rs[i-1]) || (i+1 < len(rs) && unicode.IsLower(rs[i+1]))) {
				b.WriteByte('_')
			}
			b.WriteRune(unicode.ToUpper(r))
		}
	}
	return b.String()
}

func applyDefaults(c *Config) error {
	var firstErr error
	v := reflect.ValueOf(c).Elem()
	walk(v.Type(), "", func(key string, f reflect.StructField) {
		def := defaultOf(key, f)
		if def == "" {
			return
		}
		if err := setString(fieldByKey(v, key), def); err != nil && firstErr == nil {
			firstErr = fmt.Errorf("default of %s: %w", key, err)
		}
	}, nil)
	return firstErr
}

func applyEnv(c *Config, getenv func(string) string, errs *Errors) {
	v := reflect.ValueOf(c).Elem()
	walk(v.Type(), "", func(key string, f reflect.StructField) {
		env := envName(key)
		s := getenv(env)
		if s == "" {
			return
		}
		if err := setString(fieldByKey(v, key), s); err != nil {
			errs.add(key, "from %s: %v", env, err)
		}
	}, nil)
}

func fieldByKey(v reflect.Value, key string) reflect.Value {
	for part := range strings.SplitSeq(key, ".") {
		t := v.Type()
		for i := range t.NumField() {
			name, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
			if name == part {
				v = v.Field(i)
				break
			}
		}
	}
	return v
}

func setString(v reflect.Value, s string) error {
	switch {
	case v.Type() == durationType:
		d, err := time.ParseDuration(s)
		if err != nil {
			return fmt.Errorf("not a duration (like 30s or 5m): %q", s)
		}
		v.SetInt(int64(d))
	case v.Kind() == reflect.String:
		v.SetString(s)
	case v.Kind() == reflect.Bool:
		b, err := strconv.ParseBool(s)
		if err != nil {
			return fmt.Errorf("not true or false: %q", s)
		}
		v.SetBool(b)
	case v.Kind() == reflect.Int || v.Kind() == reflect.Int64:
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return fmt.Errorf("not a whole number: %q", s)
		}
		v.SetInt(n)
	case v.Kind() == reflect.Float64:
		n, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return fmt.Errorf("not a number: %q", s)
		}
		v.SetFloat(n)
	case v.Kind() == reflect.Slice:
		var list []string
		for item := range strings.SplitSeq(s, ",") {
			if item = strings.TrimSpace(item); item != "" {
				list = append(list, item)
			}
		}
		v.Set(reflect.ValueOf(list))
	default:
		return fmt.Errorf("unsupported kind %s", v.Kind())
	}
	return nil
}

// KeyValue is one key's effective value.
type KeyValue struct {
	Key, Value string
	// FromEnv says the value came from the key's INTERLOCK_* environment variable.
	FromEnv bool
	// Secret says Value is only whether the secret is set, never the secret.
	Secret bool
}

// Values lists the effective value of every scalar key of c, in the order of Docs, then the secrets,
// shown only as set or not set.
func Values(c Config, getenv func(string) string) []KeyValue {
	v := reflect.ValueOf(&c).Elem()
	var out []KeyValue
	walk(v.Type(), "", func(key string, _ reflect.StructField) {
		fromEnv := getenv != nil && getenv(envName(key)) != ""
		out = append(out, KeyValue{Key: key, Value: scalarString(fieldByKey(v, key)), FromEnv: fromEnv})
	}, nil)
	for _, s := range c.secrets() {
		state := "not set"
		if s.secret.IsSet() {
			state = "set (" + secretSource(*s.secret) + ")"
		}
		out = append(out, KeyValue{Key: s.key, Value: state, Secret: true})
	}
	return out
}

func secretSource(s Secret) string {
	if s.File != "" {
		return "from " + s.File
	}
	return "from the environment"
}

func scalarString(v reflect.Value) string {
	if v.Type() == durationType {
		return time.Duration(v.Int()).String()
	}
	if v.Kind() == reflect.Slice {
		parts := make([]string, v.Len())
		for i := range parts {
			parts[i] = v.Index(i).String()
		}
		return strings.Join(parts, ",")
	}
	return fmt.Sprint(v.Interface())
}
