package worker

import (
	"context"
	"fmt"
	"log/slog"

	"go.temporal.io/sdk/temporal"

	"github.com/interlock-soar/interlock/activities"
	"github.com/interlock-soar/interlock/activities/mail"
	"github.com/interlock-soar/interlock/activities/servicenow"
	"github.com/interlock-soar/interlock/internal/answer"
	"github.com/interlock-soar/interlock/internal/assets"
	"github.com/interlock-soar/interlock/internal/config"
	"github.com/interlock-soar/interlock/internal/otincident"
	"github.com/interlock-soar/interlock/internal/rules"
	"github.com/interlock-soar/interlock/playbooks"
)

// App is everything a worker registers: the playbooks and the activities behind them.
type App struct {
	Playbooks  *playbooks.Registry
	Activities Activities
	// Rules are the rules incidents Interlock keeps fire; watch them to reload.
	Rules *rules.Set
}

// Build makes the activities from the configuration: ServiceNow client, SMTP sender, answer-link
// signer, directory, maintenance windows and change requests, incident write-back (Sentinel, or the log
// when sentinel.writeBack says so), Defender for IoT alert status.
func Build(cfg config.Config, logger *slog.Logger) (*App, error) {
	pc := cfg.Playbooks
	tickets, changes, err := buildServiceNow(cfg, logger)
	if err != nil {
		return nil, err
	}
	notifier, err := buildNotifier(cfg, logger)
	if err != nil {
		return nil, err
	}
	planned, err := NewPlannedChanges(pc.PLCReprogramming, changes)
	if err != nil {
		return nil, err
	}
	directory, err := NewPLCDirectory(pc.PLCReprogramming)
	if err != nil {
		return nil, err
	}
	az, err := buildAzure(cfg, logger)
	if err != nil {
		return nil, err
	}
	registry := playbooks.Shipped(pc)
	set, err := rules.LoadSet(cfg.Intake.RulesFile, registry.Names(), playbooks.WorkstationTypes(pc))
	if err != nil {
		return nil, err
	}
	layer, err := buildLayer(cfg, set)
	if err != nil {
		return nil, err
	}
	cves, err := activities.NewCVEFeed(pc.CVEAutoWorkflow.FeedFile, logger)
	if err != nil {
		return nil, fmt.Errorf("playbooks.cveAutoWorkflow.feedFile: %w", err)
	}
	return &App{
		Playbooks: registry,
		Rules:     set,
		Activities: Activities{
			Tickets:        tickets,
			Notifier:       notifier,
			PlannedChanges: planned,
			Directory:      directory,
			// Interlock's own incidents take their write-backs themselves; the others go to the SIEM.
			Incidents:   &activities.Incidents{Writer: &activities.RoutedWriter{Interlock: &activities.InterlockWriter{}, Other: az.writer}},
			AlertStatus: az.status,
			Layer:       layer,
			CVEs:        cves,
		},
	}, nil
}

// buildServiceNow makes the ticket activities and the change-request source; without an instance,
// tickets fail their step and no change request is known.
func buildServiceNow(cfg config.Config, logger *slog.Logger) (*activities.Tickets, activities.ChangeRequests, error) {
	table := cfg.Playbooks.NewEngineeringStation.Table
	if cfg.ServiceNow.InstanceURL == "" {
		logger.Warn("no ServiceNow instance configured: the new-engineering-workstation playbook will fail its ticket step",
			"key", "servicenow.instanceURL")
		return &activities.Tickets{Client: notConfigured{}, InstanceURL: "http://servicenow.invalid", Table: table}, nil, nil
	}
	// One client, so its connection pool and retry budget serve tickets and change requests alike.
	client, err := servicenow.New(servicenow.Config{
		InstanceURL:  cfg.ServiceNow.InstanceURL,
		Username:     cfg.ServiceNow.Username,
		Password:     cfg.ServiceNow.Password.Value(),
		Token:        cfg.ServiceNow.Token.Value(),
		Timeout:      cfg.ServiceNow.Timeout,
		RetryMax:     cfg.ServiceNow.RetryMax,
		RetryWaitMin: cfg.ServiceNow.RetryWaitMin,
		RetryWaitMax: cfg.ServiceNow.RetryWaitMax,
		Logger:       logger,
	})
	if err != nil {
		return nil, nil, fmt.Errorf("servicenow: %w", err)
	}
	tickets, err := NewWorkstationTickets(client, cfg.ServiceNow, table)
	if err != nil {
		return nil, nil, fmt.Errorf("servicenow: %w", err)
	}
	return tickets, servicenow.ChangeRequests{Client: client}, nil
}

// buildNotifier makes the email activities: the SMTP sender and the signed answer links.
func buildNotifier(cfg config.Config, logger *slog.Logger) (*activities.Notifier, error) {
	rootCAs, err := cfg.SMTP.RootCAs()
	if err != nil {
		return nil, fmt.Errorf("smtp: %w", err)
	}
	sender, err := mail.NewSender(mail.Config{
		RootCAs:   rootCAs,
		Host:      cfg.SMTP.Host,
		Port:      cfg.SMTP.Port,
		TLSPolicy: cfg.SMTP.TLSPolicy,
		Username:  cfg.SMTP.Username,
		Password:  cfg.SMTP.Password.Value(),
		From:      cfg.SMTP.From,
		Timeout:   cfg.SMTP.Timeout,
	}, logger)
	if err != nil {
		return nil, fmt.Errorf("smtp: %w", err)
	}
	signer, err := answer.SignerFromConfig(cfg.Intake)
	if err != nil {
		return nil, err
	}
	links, err := answer.NewLinker(signer, cfg.Intake.PublicURL)
	if err != nil {
		return nil, err
	}
	return &activities.Notifier{Mailer: sender, Links: links}, nil
}

// buildLayer makes the incident layer's activities: the rules, the incident settings, and the asset
// directory when one is configured.
func buildLayer(cfg config.Config, set *rules.Set) (*activities.IncidentLayer, error) {
	layer := &activities.IncidentLayer{Rules: set, Settings: otincident.Settings{
		KeepClosedFor: cfg.Incidents.KeepClosedFor, MaxHistoryEvents: cfg.Incidents.MaxHistoryEvents,
	}}
	dir, err := assets.FromConfig(cfg.Incidents)
	if err != nil {
		return nil, err
	}
	if dir != nil {
		layer.Assets, layer.Places = dir, dir
	}
	return layer, nil
}

// notConfigured stands in for ServiceNow when no instance is configured: every call fails at once,
// without retries, saying which key to set.
type notConfigured struct{}

var _ activities.TicketAPI = notConfigured{}

func (notConfigured) err() error {
	return temporal.NewNonRetryableApplicationError(
		"no ServiceNow instance configured: set servicenow.instanceURL (INTERLOCK_SERVICENOW_INSTANCE_URL)", "ServiceNowNotConfigured", nil)
}

func (n notConfigured) Create(context.Context, string, map[string]string) (servicenow.Record, error) {
	return nil, n.err()
}

func (n notConfigured) Query(context.Context, string, servicenow.Query, []string, int) ([]servicenow.Record, error) {
	return nil, n.err()
}

func (n notConfigured) Get(context.Context, string, string, []string, bool) (servicenow.Record, error) {
	return nil, n.err()
}

func (n notConfigured) Update(context.Context, string, string, map[string]string) (servicenow.Record, error) {
	return nil, n.err()
}
