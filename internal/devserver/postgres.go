package devserver

// PostgreSQL persistence for the embedded server: the same stores a
// production cluster on PostgreSQL has (temporal + temporal_visibility),
// created and migrated the way the server's temporal-sql-tool does it.
//
// The tool's packages (go.temporal.io/server/tools/sql and
// tools/common/schema) cannot be imported here: they pull in
// github.com/urfave/cli, which is not in go.sum. So the two steps that
// `temporal-sql-tool create-database` and `setup-schema -v 0.0` +
// `update-schema -d <embedded versioned dir>` perform are repeated below on
// the server's own building blocks: the postgres12 plugin's AdminDB
// (CreateDatabase, CreateSchemaVersionTables, ReadSchemaVersion,
// UpdateSchemaVersion, WriteSchemaUpdateLog), the embedded schema files
// (schema.Assets) and persistence.LoadAndSplitQueryFromReaders.

import (
	"bytes"
	"context"
	"crypto/md5" // #nosec G501 -- the schema tool records the manifest's md5; not for security
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"net"
	"net/url"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/server/common/config"
	tlog "go.temporal.io/server/common/log"
	"go.temporal.io/server/common/log/tag"
	"go.temporal.io/server/common/metrics"
	"go.temporal.io/server/common/persistence"
	persistencesql "go.temporal.io/server/common/persistence/sql"
	"go.temporal.io/server/common/persistence/sql/sqlplugin"
	postgresplugin "go.temporal.io/server/common/persistence/sql/sqlplugin/postgresql"
	"go.temporal.io/server/common/resolver"
	dbschemas "go.temporal.io/server/schema"
	pgschema "go.temporal.io/server/schema/postgresql/v12"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"
)

const (
	postgresMainSchema       = "postgresql/v12/temporal"
	postgresVisibilitySchema = "postgresql/v12/visibility"
	// namespaceRetention matches what the SQLite mode's NewNamespaceConfig sets.
	namespaceRetention = 24 * time.Hour
	// startTimeout bounds namespace registration at start.
	startTimeout = time.Minute
)

// dbNameRE keeps database names to plain lower-case identifiers: the plugin
// quotes the name in CREATE DATABASE but not in DROP DATABASE, so anything
// else would behave differently in the two. 52 = 63 - len("_visibility").
var dbNameRE = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,51}$`)

// postgresStores turns a postgres:// URL into the SQL configs of the default
// store (the URL's database) and the visibility store (<database>_visibility).
func postgresStores(rawURL string) (main, visibility *config.SQL, err error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, nil, fmt.Errorf("postgres url: %w", err)
	}
	if u.Scheme != "postgres" && u.Scheme != "postgresql" {
		return nil, nil, fmt.Errorf("postgres url: scheme %q, want postgres", u.Scheme)
	}
	name := strings.TrimPrefix(u.Path, "/")
	if !dbNameRE.MatchString(name) {
		return nil, nil, fmt.Errorf("postgres url: database name %q: want [a-z_][a-z0-9_]*, at most 52 characters", name)
	}
	port := u.Port()
	if port == "" {
		port = "5432"
	}
	host := u.Hostname()
	if host == "" {
		host = "127.0.0.1"
	}
	password, _ := u.User.Password()
	attrs := map[string]string{}
	for k, v := range u.Query() {
		if len(v) != 1 {
			return nil, nil, fmt.Errorf("postgres url: parameter %q given %d times", k, len(v))
		}
		attrs[k] = v[0]
	}
	main = &config.SQL{
		PluginName:        postgresplugin.PluginName,
		DatabaseName:      name,
		ConnectAddr:       net.JoinHostPort(host, port),
		ConnectProtocol:   "tcp",
		User:              u.User.Username(),
		Password:          password,
		ConnectAttributes: attrs,
		// As in the server's config/development-postgres12.yaml. Each of the
		// four services has its own pools: 4*(20+5) stays within PostgreSQL's
		// default max_connections of 100.
		MaxConns:        20,
		MaxIdleConns:    20,
		MaxConnLifetime: time.Hour,
	}
	vis := *main
	vis.DatabaseName = name + "_visibility"
	vis.ConnectAttributes = maps.Clone(attrs)
	vis.MaxConns, vis.MaxIdleConns = 5, 5
	return main, &vis, nil
}

// setupPostgres creates both databases if missing and brings their schemas to
// the versions this server build expects. Running it again is a no-op.
func setupPostgres(main, visibility *config.SQL, logger tlog.Logger) error {
	for _, s := range []struct {
		cfg    *config.SQL
		schema string
		want   string
	}{
		{main, postgresMainSchema, pgschema.Version},
		{visibility, postgresVisibilitySchema, pgschema.VisibilityVersion},
	} {
		if err := createDatabase(s.cfg, logger); err != nil {
			return fmt.Errorf("create database %s: %w", s.cfg.DatabaseName, err)
		}
		got, err := updateSchema(s.cfg, s.schema, logger)
		if err != nil {
			return fmt.Errorf("schema of %s: %w", s.cfg.DatabaseName, err)
		}
		if compareVersions(got, s.want) < 0 {
			return fmt.Errorf("schema of %s: at version %s after update, server needs %s", s.cfg.DatabaseName, got, s.want)
		}
	}
	return nil
}

func adminDB(cfg *config.SQL, logger tlog.Logger) (sqlplugin.AdminDB, error) {
	return persistencesql.NewSQLAdminDB(sqlplugin.DbKindUnknown, cfg, resolver.NewNoopResolver(), logger, metrics.NoopMetricsHandler)
}

// createDatabase is temporal-sql-tool create-database: it connects to the
// server's default database and creates cfg's database unless it exists.
func createDatabase(cfg *config.SQL, logger tlog.Logger) error {
	admin := *cfg
	admin.DatabaseName = "" // the plugin then tries "postgres", then "defaultdb"
	admin.MaxConns, admin.MaxIdleConns = 1, 1
	db, err := adminDB(&admin, logger)
	if err != nil {
		return err
	}
	defer func() { _ = db.Close() }()
	return db.CreateDatabase(cfg.DatabaseName)
}

// manifest is a versioned schema directory's manifest.json.
type manifest struct {
	CurrVersion          string
	MinCompatibleVersion string
	Description          string
	SchemaUpdateCqlFiles []string
	AllowNoCqlFiles      bool
}

// updateSchema is `setup-schema -v 0.0` followed by `update-schema` with the
// embedded versioned directory of schemaName: it records version 0.0 on a
// fresh database, then applies every versioned step above the recorded
// version in order, recording each one. It returns the final version.
func updateSchema(cfg *config.SQL, schemaName string, logger tlog.Logger) (string, error) {
	db, err := adminDB(cfg, logger)
	if err != nil {
		return "", err
	}
	defer func() { _ = db.Close() }()
	if err := db.CreateSchemaVersionTables(); err != nil {
		return "", fmt.Errorf("schema version tables: %w", err)
	}
	cur, err := db.ReadSchemaVersion(cfg.DatabaseName)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		cur = "0.0"
		if err := db.UpdateSchemaVersion(cfg.DatabaseName, cur, cur); err != nil {
			return "", err
		}
		if err := db.WriteSchemaUpdateLog("0", cur, "", "initial version"); err != nil {
			return "", err
		}
	case err != nil:
		return "", fmt.Errorf("read schema version: %w", err)
	}

	assets := dbschemas.Assets()
	dir := path.Join(schemaName, "versioned")
	entries, err := fs.ReadDir(assets, dir)
	if err != nil {
		return "", err
	}
	var versions []string
	for _, e := range entries {
		v, ok := strings.CutPrefix(e.Name(), "v")
		if e.IsDir() && ok && parseVersion(v) != nil && compareVersions(v, cur) > 0 {
			versions = append(versions, v)
		}
	}
	slices.SortFunc(versions, compareVersions)
	for _, v := range versions {
		vdir := path.Join(dir, "v"+v)
		raw, err := fs.ReadFile(assets, path.Join(vdir, "manifest.json"))
		if err != nil {
			return "", err
		}
		var m manifest
		if err := json.Unmarshal(raw, &m); err != nil {
			return "", fmt.Errorf("%s/manifest.json: %w", vdir, err)
		}
		if compareVersions(m.CurrVersion, v) != 0 {
			return "", fmt.Errorf("%s/manifest.json: version %s does not match its directory", vdir, m.CurrVersion)
		}
		if len(m.SchemaUpdateCqlFiles) == 0 && !m.AllowNoCqlFiles {
			return "", fmt.Errorf("%s/manifest.json: no files", vdir)
		}
		for _, f := range m.SchemaUpdateCqlFiles {
			text, err := fs.ReadFile(assets, path.Join(vdir, f))
			if err != nil {
				return "", err
			}
			stmts, err := persistence.LoadAndSplitQueryFromReaders([]io.Reader{bytes.NewReader(text)})
			if err != nil {
				return "", fmt.Errorf("%s/%s: %w", vdir, f, err)
			}
			for _, stmt := range stmts {
				if err := db.Exec(stmt); err != nil {
					// As the schema tool: a step that failed half-way is
					// retried whole, so what it already did is skipped.
					if msg := err.Error(); strings.Contains(msg, "already exist") || strings.Contains(msg, "not found") {
						continue
					}
					return "", fmt.Errorf("%s/%s: %w", vdir, f, err)
				}
			}
		}
		if err := db.UpdateSchemaVersion(cfg.DatabaseName, m.CurrVersion, m.MinCompatibleVersion); err != nil {
			return "", fmt.Errorf("record schema version %s: %w", v, err)
		}
		sum := md5.Sum(raw) // #nosec G401
		if err := db.WriteSchemaUpdateLog(cur, m.CurrVersion, hex.EncodeToString(sum[:]), m.Description); err != nil {
			return "", fmt.Errorf("record schema update %s: %w", v, err)
		}
		cur = m.CurrVersion
	}
	if len(versions) > 0 {
		logger.Info("temporal postgres schema updated", tag.NewStringTag("database", cfg.DatabaseName), tag.NewStringTag("version", cur))
	}
	return cur, nil
}

// parseVersion parses "major.minor[.patch]"; nil if it is not one.
func parseVersion(v string) []int {
	parts := strings.Split(v, ".")
	if len(parts) < 2 || len(parts) > 3 {
		return nil
	}
	out := make([]int, 3)
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 {
			return nil
		}
		out[i] = n
	}
	return out
}

// compareVersions orders schema versions; unparsable ones sort first.
func compareVersions(a, b string) int {
	pa, pb := parseVersion(a), parseVersion(b)
	switch {
	case pa == nil && pb == nil:
		return strings.Compare(a, b)
	case pa == nil:
		return -1
	case pb == nil:
		return 1
	}
	return slices.Compare(pa, pb)
}

// registerNamespace registers the namespace through the started frontend, as
// any client of a cluster on PostgreSQL would (the SQLite mode writes it into
// the database before start instead). An existing namespace is kept as is.
// It returns once DescribeNamespace finds the namespace.
func registerNamespace(address, namespace string) error {
	conn, err := grpc.NewClient(address, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return err
	}
	defer func() { _ = conn.Close() }()
	svc := workflowservice.NewWorkflowServiceClient(conn)
	deadline := time.Now().Add(startTimeout)
	const tick = 50 * time.Millisecond
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		_, err = svc.RegisterNamespace(ctx, &workflowservice.RegisterNamespaceRequest{
			Namespace:                        namespace,
			WorkflowExecutionRetentionPeriod: durationpb.New(namespaceRetention),
			HistoryArchivalState:             enumspb.ARCHIVAL_STATE_DISABLED,
			VisibilityArchivalState:          enumspb.ARCHIVAL_STATE_DISABLED,
		})
		cancel()
		if err == nil || status.Code(err) == codes.AlreadyExists {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("register namespace: %w", err)
		}
		time.Sleep(tick)
	}
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		_, err = svc.DescribeNamespace(ctx, &workflowservice.DescribeNamespaceRequest{Namespace: namespace})
		cancel()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("describe namespace: %w", err)
		}
		time.Sleep(tick)
	}
}

// postgresShards is the history shard count of a new Temporal database on
// PostgreSQL. One shard queues every workflow's transfer and timer tasks
// behind one reader, each a round trip to the database.
const postgresShards = 4
