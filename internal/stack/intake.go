// Package stack composes Interlock's parts the way the commands run them, so the commands and the
// end-to-end tests build the same thing.
package stack

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"go.temporal.io/sdk/client"

	"github.com/interlock-soar/interlock/internal/answer"
	"github.com/interlock-soar/interlock/internal/assets"
	"github.com/interlock-soar/interlock/internal/backlog"
	"github.com/interlock-soar/interlock/internal/config"
	"github.com/interlock-soar/interlock/internal/intake"
	"github.com/interlock-soar/interlock/internal/otincident"
	"github.com/interlock-soar/interlock/internal/rules"
	"github.com/interlock-soar/interlock/internal/workbook"
	"github.com/interlock-soar/interlock/internal/workbook/web"
	"github.com/interlock-soar/interlock/playbooks"
	"github.com/interlock-soar/interlock/workflows"
)

// Intake is the intake with what it needs besides the HTTP server.
type Intake struct {
	Handler http.Handler
	Rules   *rules.Set
	// Known are the playbook names rules may run.
	Known []string
	// Backlog reads the playbook task queue's backlog for intake.maxBacklog; run it (Run) for as long
	// as the intake serves, or the bound never applies.
	Backlog *backlog.Monitor
	// Workbook is the workbook's store when workbook.enabled (the process closes it at exit).
	Workbook *workbook.Store
}

// NewIntake builds the intake: rules, playbook registry, Temporal starter, answer-link handler.
func NewIntake(cfg config.Config, c client.Client, logger *slog.Logger) (*Intake, error) {
	return NewIntakeOn(cfg, c, nil, logger)
}

// NewIntakeOn is NewIntake with the intake's metrics on reg, which /metrics serves (nil: a private
// registry), so a replica's worker metrics share its /metrics. reg must also be a prometheus.Gatherer.
func NewIntakeOn(cfg config.Config, c client.Client, reg prometheus.Registerer, logger *slog.Logger) (*Intake, error) {
	registry := playbooks.Shipped(cfg.Playbooks)
	known := registry.Names()
	set, err := rules.LoadSet(cfg.Intake.RulesFile, known, playbooks.WorkstationTypes(cfg.Playbooks))
	if err != nil {
		return nil, err
	}
	dir, err := assets.FromConfig(cfg.Incidents)
	if err != nil {
		return nil, err
	}
	var assetDir intake.AssetDirectory
	if dir != nil {
		assetDir = dir
	}
	mounts := map[string]http.Handler{}
	if cfg.Intake.AnswerSecret.IsSet() {
		signer, err := answer.SignerFromConfig(cfg.Intake)
		if err != nil {
			return nil, err
		}
		mounts["/v1/answers/"] = intake.Public(answer.NewHandler(signer, answer.TemporalAnswerer{Client: c}, logger))
	} else {
		logger.Warn("intake.answerSecret not set: the one-click answer links of PLC notices will not work", "key", "intake.answerSecret")
	}
	if cfg.Intake.AllowUnauthenticated && !loopback(cfg.Intake.Listen) {
		return nil, fmt.Errorf("intake.allowUnauthenticated is only allowed on a loopback listen address, not %s", cfg.Intake.Listen)
	}
	store, err := openWorkbook(cfg, mounts, logger)
	if err != nil {
		return nil, err
	}
	var recorder intake.Recorder
	if store != nil {
		recorder = store
	}
	mon := backlog.New(c.WorkflowService(), backlog.Options{Namespace: cfg.Temporal.Namespace, TaskQueue: workflows.TaskQueue, Logger: logger})
	srv, err := intake.New(intake.Options{
		Rules:     set,
		Playbooks: registry,
		Starter:   &intake.TemporalStarter{Client: c, TaskQueue: workflows.TaskQueue},
		Auth: intake.AuthConfig{
			Tokens:               cfg.Intake.TokenList(),
			HMACSecret:           []byte(cfg.Intake.HMACSecret.Value()),
			ReplayWindow:         cfg.Intake.ReplayWindow,
			AllowUnauthenticated: cfg.Intake.AllowUnauthenticated,
		},
		MaxBodyBytes: cfg.Intake.MaxBodyBytes,
		Logger:       logger,
		Registerer:   reg,
		UIURL:        cfg.Temporal.UIURL,
		Namespace:    cfg.Temporal.Namespace,
		Ready: func(ctx context.Context) error {
			_, err := c.CheckHealth(ctx, &client.CheckHealthRequest{})
			return err
		},
		Mounts:      mounts,
		RuleChanges: cfg.Intake.WriteRuleChanges,

		Incidents:          &otincident.Client{Temporal: c, Namespace: cfg.Temporal.Namespace, TaskQueue: workflows.TaskQueue},
		IncidentRules:      set,
		Assets:             assetDir,
		MaxAlertBatchBytes: cfg.Incidents.MaxAlertBatchBytes,

		Backlog:       mon,
		MaxBacklog:    cfg.Intake.MaxBacklog,
		MaxBacklogAge: cfg.Intake.MaxBacklogAge,
		RetryAfter:    cfg.Intake.RetryAfter,
		Recorder:      recorder,
	})
	if err != nil {
		return nil, err
	}
	return &Intake{Handler: srv, Rules: set, Known: known, Backlog: mon, Workbook: store}, nil
}

func loopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// openWorkbook opens the workbook's store and mounts its page and API, when workbook.enabled; nil
// when not.
func openWorkbook(cfg config.Config, mounts map[string]http.Handler, logger *slog.Logger) (*workbook.Store, error) {
	if !cfg.Workbook.Enabled {
		return nil, nil
	}
	store, err := workbook.Open(context.Background(), workbook.StoreOptions{
		Database: cfg.Workbook.DatabaseOr("."), UIURL: cfg.Temporal.UIURL, Namespace: cfg.Temporal.Namespace,
	})
	if err != nil {
		return nil, err
	}
	if err := mountWorkbook(mounts, cfg.Intake, store, logger); err != nil {
		return nil, errors.Join(err, store.Close())
	}
	return store, nil
}

// mountWorkbook mounts the workbook's page and API. They check their own credentials — the intake's
// bearer tokens, or the session cookie a browser gets by signing in with one — since a browser cannot
// send a bearer header.
func mountWorkbook(mounts map[string]http.Handler, cfg config.Intake, store *workbook.Store, logger *slog.Logger) error {
	auth := web.NewAuth(web.AuthConfig{Tokens: cfg.TokenList(), AllowUnauthenticated: cfg.AllowUnauthenticated})
	page, err := web.NewPage(auth, web.PageOptions{Logger: logger})
	if err != nil {
		return fmt.Errorf("workbook page: %w", err)
	}
	maps.Copy(mounts, web.Mounts(auth, page, workbook.NewAPI(store, workbook.APIOptions{Logger: logger})))
	return nil
}
