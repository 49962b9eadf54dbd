package defender

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/interlock-soar/interlock/activities/arm"
)

// Sensor actions of the on-premises alert API.
const (
	ActionHandle         = "handle"
	ActionHandleAndLearn = "handleAndLearn"
)

// SensorConfig configures a Sensor client.
type SensorConfig struct {
	// URL is the sensor's or management console's base URL (https).
	URL string
	// Token is the API access token made in the sensor's System Settings → Integrations → Access Tokens.
	Token   string
	RootCAs *x509.CertPool
	Timeout time.Duration
}

// Sensor calls an OT sensor's or on-premises management console's alert API:
// PUT /external/v1/alerts/{UUID} {"action": "handle" | "handleAndLearn"}, with the token as the raw
// value of the Authorization header (the API takes no "Bearer" prefix).
type Sensor struct {
	base  string
	token string
	http  *http.Client
}

// NewSensor makes a Sensor client.
func NewSensor(cfg SensorConfig) (*Sensor, error) {
	u, err := url.Parse(cfg.URL)
	if err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return nil, errors.New("defender: the sensor URL must be an https URL without credentials, query or fragment")
	}
	if cfg.Token == "" {
		return nil, errors.New("defender: no sensor access token")
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{RootCAs: cfg.RootCAs, MinVersion: tls.VersionTLS12}
	timeout := cfg.Timeout
	if timeout <= 0 {
		timeout = 15 * time.Second
	}
	return &Sensor{
		base:  strings.TrimRight(u.String(), "/"),
		token: cfg.Token,
		http: &http.Client{Transport: tr, Timeout: timeout,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }},
	}, nil
}

var sensorUUIDRe = regexp.MustCompile(`^[0-9]{1,9}-[0-9]{10,16}$`)

// IsSensorAlertUUID says whether s has the shape of an on-premises alert UUID, like 1-1594550943000.
func IsSensorAlertUUID(s string) bool { return sensorUUIDRe.MatchString(s) }

// SensorError is a failed answer of the sensor API, with its own explanation ({"error": …}).
type SensorError struct {
	Status  int
	Message string
}

func (e *SensorError) Error() string {
	msg := fmt.Sprintf("sensor alert API: %d %s", e.Status, http.StatusText(e.Status))
	if e.Message != "" {
		msg += ": " + e.Message
	}
	return msg
}

// Retryable says whether trying later may help: the API answers 500 for bad actions and unknown alerts
// too, which are not.
func (e *SensorError) Retryable() bool {
	if e.Status == http.StatusTooManyRequests || e.Status == http.StatusBadGateway || e.Status == http.StatusServiceUnavailable || e.Status == http.StatusGatewayTimeout {
		return true
	}
	if e.Status == http.StatusInternalServerError {
		m := strings.ToLower(e.Message)
		return !strings.Contains(m, "invalid action") && !strings.Contains(m, "no alert was found")
	}
	return false
}

// HandleAlert closes an alert on the sensor (learning its traffic with handleAndLearn), returning the
// API's "content" message, which says whether it was already handled.
func (s *Sensor) HandleAlert(ctx context.Context, uuid, action string) (string, error) {
	if !IsSensorAlertUUID(uuid) {
		return "", fmt.Errorf("defender: %q is not a sensor alert UUID", uuid)
	}
	if action != ActionHandle && action != ActionHandleAndLearn {
		return "", fmt.Errorf("defender: %q is not a sensor alert action", action)
	}
	body, _ := json.Marshal(map[string]string{"action": action})
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, s.base+"/external/v1/alerts/"+url.PathEscape(uuid), bytes.NewReader(body))
	if err != nil {
		return "", err
	}
	req.Header.Set("Authorization", s.token)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	resp, err := s.http.Do(req)
	if err != nil {
		return "", fmt.Errorf("sensor alert API: PUT /external/v1/alerts/%s: %s", uuid, arm.Clip(err.Error()))
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	var answer struct {
		Content string `json:"content"`
		Error   string `json:"error"`
	}
	_ = json.Unmarshal(raw, &answer)
	if resp.StatusCode != http.StatusOK || answer.Error != "" {
		msg := answer.Error
		if msg == "" && !bytes.HasPrefix(bytes.TrimSpace(raw), []byte("<")) {
			msg = string(raw)
		}
		return "", &SensorError{Status: resp.StatusCode, Message: arm.Clip(msg)}
	}
	return arm.Clip(answer.Content), nil
}
