package main

import (
	"context"
	"errors"
	"fmt"
	"net"

	"github.com/interlock-soar/interlock/internal/config"
	"github.com/interlock-soar/interlock/internal/snowstandin"
)

// runStandin serves the local ServiceNow stand-in on its own, for docker compose or a test rig;
// interlock dev starts one itself.
func runStandin(ctx context.Context, e env, args []string) error {
	fs, cfgPath := newFlags(e, "standin", "standin [--listen ADDR] [--file FILE]\n\nServes a local stand-in for the ServiceNow Table API (not a real instance): records in memory or in\n--file, basic auth with servicenow.username and its password (INTERLOCK_SERVICENOW_PASSWORD), and a\npage listing the records at /.")
	listen := fs.String("listen", "127.0.0.1:8490", "address to listen on")
	file := fs.String("file", "", "keep the records in this JSON file between runs")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := config.Load(*cfgPath, e.getenv)
	if err != nil {
		return err
	}
	if cfg.ServiceNow.Username == "" || !cfg.ServiceNow.Password.IsSet() {
		return errors.New("the stand-in needs servicenow.username and a password (INTERLOCK_SERVICENOW_PASSWORD) to check clients against")
	}
	logger := newLogger(cfg.Log, e.stderr)
	stub, err := snowstandin.Open(snowstandin.Options{
		Username: cfg.ServiceNow.Username, Password: cfg.ServiceNow.Password.Value(), File: *file, Logger: logger,
	})
	if err != nil {
		return err
	}
	defer stub.Close()
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return fmt.Errorf("stand-in: %w", err)
	}
	logger.Info("ServiceNow stand-in listening (not a real instance)", "addr", ln.Addr().String())
	return serveHTTP(ctx, ln, stub, logger)
}
