package workbook

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	// The two drivers the store runs on: SQLite in pure Go (the binary stays static), PostgreSQL.
	_ "github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Store is the workbook's read model on SQLite or PostgreSQL.
type Store struct {
	db       *sql.DB
	postgres bool
	now      func() time.Time
	links    linker
	cat      catalogue
	// stmts are the write path's statements, prepared once: the SQL is fixed, and parsing it again on
	// every write cost the intake about as much as executing it.
	stmts sync.Map // query -> *sql.Stmt
}

// exec runs query in tx (or on the database when tx is nil) as a statement prepared once per store.
func (s *Store) exec(ctx context.Context, tx *sql.Tx, query string, args ...any) (sql.Result, error) {
	st, err := s.prepared(ctx, query)
	if err != nil {
		return nil, err
	}
	if tx != nil {
		st = tx.StmtContext(ctx, st) // closed with the transaction
	}
	return st.ExecContext(ctx, args...)
}

func (s *Store) prepared(ctx context.Context, query string) (*sql.Stmt, error) {
	if st, ok := s.stmts.Load(query); ok {
		return st.(*sql.Stmt), nil
	}
	st, err := s.db.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	if prev, loaded := s.stmts.LoadOrStore(query, st); loaded {
		_ = st.Close()
		return prev.(*sql.Stmt), nil
	}
	return st, nil
}

// StoreOptions configure Open.
type StoreOptions struct {
	// Database is a SQLite file path, or a postgres:// (postgresql://) DSN for PostgreSQL.
	Database string
	// UIURL and Namespace build the Temporal UI links of the summary; an empty UIURL leaves them out.
	UIURL     string
	Namespace string
	// Now is the clock for GeneratedAt; nil means time.Now.
	Now func() time.Time
}

// IsPostgres says whether a database setting names PostgreSQL.
func IsPostgres(database string) bool {
	return strings.HasPrefix(database, "postgres://") || strings.HasPrefix(database, "postgresql://")
}

// Open opens (creating when missing) the store and applies the embedded migrations.
func Open(ctx context.Context, opts StoreOptions) (*Store, error) {
	if opts.Database == "" {
		return nil, errors.New("workbook: no database configured")
	}
	s := &Store{postgres: IsPostgres(opts.Database), now: opts.Now, links: newLinker(opts.UIURL, opts.Namespace)}
	if s.now == nil {
		s.now = time.Now
	}
	var err error
	if s.cat, err = newCatalogue(); err != nil {
		return nil, err
	}
	if s.postgres {
		s.db, err = sql.Open("pgx", opts.Database)
	} else {
		if dir := filepath.Dir(opts.Database); dir != "" {
			if err := os.MkdirAll(dir, 0o750); err != nil {
				return nil, fmt.Errorf("workbook: create the database directory: %w", err)
			}
		}
		// WAL lets the page read while the projector writes; busy_timeout makes a second process wait
		// for the write lock instead of failing.
		dsn := "file:" + opts.Database + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)"
		s.db, err = sql.Open("sqlite", dsn)
		if err == nil {
			s.db.SetMaxOpenConns(4)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("workbook: open the database: %w", err)
	}
	if err := s.migrate(ctx); err != nil {
		_ = s.db.Close()
		return nil, err
	}
	return s, nil
}

// Close closes the statements and the database.
func (s *Store) Close() error {
	s.stmts.Range(func(_, st any) bool {
		_ = st.(*sql.Stmt).Close()
		return true
	})
	return s.db.Close()
}

// migrate applies the migrations not yet recorded in schema_migrations, in one transaction. On
// PostgreSQL a transaction-scoped advisory lock makes concurrent starts (several replicas) take turns.
func (s *Store) migrate(ctx context.Context) error {
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return fmt.Errorf("workbook: list migrations: %w", err)
	}
	sort.Strings(names)
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("workbook: begin migration: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	if s.postgres {
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(7215041313)`); err != nil {
			return fmt.Errorf("workbook: lock for migration: %w", err)
		}
	}
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version TEXT PRIMARY KEY, applied BIGINT NOT NULL)`); err != nil {
		return fmt.Errorf("workbook: create schema_migrations: %w", err)
	}
	for _, name := range names {
		version := strings.TrimSuffix(filepath.Base(name), ".sql")
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_migrations WHERE version = $1`, version).Scan(&n); err != nil {
			return fmt.Errorf("workbook: read schema_migrations: %w", err)
		}
		if n > 0 {
			continue
		}
		body, err := migrations.ReadFile(name)
		if err != nil {
			return fmt.Errorf("workbook: read migration %s: %w", version, err)
		}
		for _, stmt := range splitSQL(string(body)) {
			if _, err := tx.ExecContext(ctx, stmt); err != nil {
				return fmt.Errorf("workbook: migration %s: %w", version, err)
			}
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, applied) VALUES ($1, $2)`,
			version, time.Now().Unix()); err != nil {
			return fmt.Errorf("workbook: record migration %s: %w", version, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("workbook: commit migrations: %w", err)
	}
	return nil
}

// splitSQL splits a migration into statements at semicolons ending a line, dropping comment lines.
func splitSQL(body string) []string {
	var out []string
	var cur strings.Builder
	for _, line := range strings.Split(body, "\n") {
		t := strings.TrimSpace(line)
		if t == "" || strings.HasPrefix(t, "--") {
			continue
		}
		cur.WriteString(line)
		cur.WriteByte('\n')
		if strings.HasSuffix(t, ";") {
			out = append(out, strings.TrimSpace(cur.String()))
			cur.Reset()
		}
	}
	if rest := strings.TrimSpace(cur.String()); rest != "" {
		out = append(out, rest)
	}
	return out
}

// Empty says whether the store holds no incident and no run: a new or lost store, to rebuild.
func (s *Store) Empty(ctx context.Context) (bool, error) {
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT (SELECT COUNT(*) FROM incidents) + (SELECT COUNT(*) FROM runs)`).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("workbook: count rows: %w", err)
	}
	return n == 0, nil
}

// Reset deletes every row (not the schema), for a rebuild.
func (s *Store) Reset(ctx context.Context) error {
	for _, t := range []string{"alert_techniques", "alert_tactics", "alerts", "devices", "runs", "incidents"} {
		if _, err := s.db.ExecContext(ctx, "DELETE FROM "+t); err != nil {
			return fmt.Errorf("workbook: clear %s: %w", t, err)
		}
	}
	return nil
}
