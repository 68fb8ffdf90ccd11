// Package devserver embeds a Temporal server (SQLite persistence, or
// PostgreSQL for benchmarks that compare the two) and its Web UI in the calling
// process, so that `worker -dev` and the end-to-end tests need no separately
// installed Temporal. The wiring follows temporalio/cli's devserver.
package devserver

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/google/uuid"
	uiserver "github.com/temporalio/ui-server/v2/server"
	uiconfig "github.com/temporalio/ui-server/v2/server/config"
	uiserveroptions "github.com/temporalio/ui-server/v2/server/server_options"
	"go.temporal.io/server/common/authorization"
	"go.temporal.io/server/common/cluster"
	"go.temporal.io/server/common/config"
	"go.temporal.io/server/common/dynamicconfig"
	tlog "go.temporal.io/server/common/log"
	"go.temporal.io/server/common/membership/static"
	sqliteplugin "go.temporal.io/server/common/persistence/sql/sqlplugin/sqlite"
	"go.temporal.io/server/common/primitives"
	sqliteschema "go.temporal.io/server/schema/sqlite"
	"go.temporal.io/server/temporal"
	"go.uber.org/zap"
)

const clusterName = "active"

// Options configure the embedded server. Zero values pick free loopback ports
// and an in-memory database.
type Options struct {
	// Address is the frontend gRPC host:port; "" or port 0 picks a free port.
	Address string
	// Namespace is registered at start.
	Namespace string
	// DBFile keeps the server's state in a SQLite file; "" keeps it in memory.
	DBFile string
	// PostgresURL, when set, keeps Temporal's state in PostgreSQL (a database
	// of its own, created with its schema if missing) instead of SQLite, e.g.
	// postgres://postgres@127.0.0.1:5432/temporal_bench?sslmode=disable.
	// Visibility goes to a second database, <name>_visibility. Both are
	// created and migrated to this server's schema versions at every start;
	// the namespace is registered through the frontend once it is up.
	// Mutually exclusive with DBFile.
	PostgresURL string
	// UIAddress serves the Web UI; "" runs no UI.
	UIAddress string
	// CodecEndpoint is handed to the UI so operators see decoded payloads.
	CodecEndpoint string
	Logger        *zap.Logger
}

// Server is a running embedded Temporal server.
type Server struct {
	server    temporal.Server
	ui        *uiserver.Server
	address   string
	uiURL     string
	namespace string
}

// Start starts the server and, when asked, the UI. It returns once the
// frontend accepts connections.
func Start(o Options) (*Server, error) {
	if o.Namespace == "" {
		o.Namespace = "default"
	}
	if o.Logger == nil {
		o.Logger = zap.NewNop()
	}
	if o.PostgresURL != "" && o.DBFile != "" {
		return nil, errors.New("devserver: DBFile and PostgresURL are mutually exclusive")
	}
	host, port, err := hostPort(o.Address)
	if err != nil {
		return nil, fmt.Errorf("temporal address: %w", err)
	}
	if port == 0 {
		if port, err = freePort(host); err != nil {
			return nil, err
		}
	}
	logger := tlog.NewZapLogger(o.Logger.WithOptions(zap.IncreaseLevel(zap.WarnLevel)))
	conf, err := buildConfig(host, port, o, logger)
	if err != nil {
		return nil, err
	}
	authorizer, err := authorization.GetAuthorizerFromConfig(&conf.Global.Authorization)
	if err != nil {
		return nil, err
	}
	claimMapper, err := authorization.GetClaimMapperFromConfig(&conf.Global.Authorization, logger)
	if err != nil {
		return nil, err
	}
	hosts := map[primitives.ServiceName]static.Hosts{}
	for _, svc := range []primitives.ServiceName{primitives.FrontendService, primitives.MatchingService, primitives.HistoryService, primitives.WorkerService} {
		hosts[svc] = static.SingleLocalHost(net.JoinHostPort(host, strconv.Itoa(conf.Services[string(svc)].RPC.GRPCPort)))
	}
	dyn := dynamicconfig.StaticClient{
		dynamicconfig.HistoryCacheHostLevelMaxSize.Key():                 8096,
		dynamicconfig.FrontendMaxNamespaceVisibilityRPSPerInstance.Key(): 100,
		// Updates and eager start are used by the intake; enable them explicitly
		// so that an older default never turns them off under us.
		dynamicconfig.FrontendEnableUpdateWorkflowExecution.Key():              true,
		dynamicconfig.FrontendEnableUpdateWorkflowExecutionAsyncAccepted.Key(): true,
		dynamicconfig.EnableEagerWorkflowStart.Key():                           true,
		// Tests and the dev stack look orders up by search attribute right after
		// a change; SQL visibility (SQLite or PostgreSQL) is immediate, so no
		// refresh interval applies.
	}
	srv, err := temporal.NewServer(
		temporal.WithConfig(conf),
		temporal.ForServices(temporal.DefaultServices),
		temporal.WithStaticHosts(hosts),
		temporal.WithLogger(logger),
		temporal.WithAuthorizer(authorizer),
		temporal.WithClaimMapper(func(*config.Config) authorization.ClaimMapper { return claimMapper }),
		temporal.WithDynamicConfigClient(dyn),
	)
	if err != nil {
		return nil, fmt.Errorf("temporal server: %w", err)
	}
	if err := srv.Start(); err != nil {
		return nil, fmt.Errorf("temporal server start: %w", err)
	}
	s := &Server{server: srv, address: net.JoinHostPort(host, strconv.Itoa(port)), namespace: o.Namespace}
	if o.PostgresURL != "" {
		if err := registerNamespace(s.address, o.Namespace); err != nil {
			srv.Stop()
			return nil, fmt.Errorf("namespace %q: %w", o.Namespace, err)
		}
	}
	if o.UIAddress != "" {
		if err := s.startUI(o); err != nil {
			srv.Stop()
			return nil, err
		}
	}
	return s, nil
}

func (s *Server) startUI(o Options) error {
	host, port, err := hostPort(o.UIAddress)
	if err != nil {
		return fmt.Errorf("ui address: %w", err)
	}
	// The UI's Start blocks and cannot report a bound port, so check the port
	// is free first: a clear error beats a goroutine that dies later.
	l, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(port)))
	if err != nil {
		return fmt.Errorf("web ui: %w", err)
	}
	if port == 0 {
		port = l.Addr().(*net.TCPAddr).Port
	}
	_ = l.Close()
	s.ui = uiserver.NewServer(uiserveroptions.WithConfigProvider(&uiconfig.Config{
		Host:                host,
		Port:                port,
		TemporalGRPCAddress: s.address,
		EnableUI:            true,
		DefaultNamespace:    o.Namespace,
		Codec:               uiconfig.Codec{Endpoint: o.CodecEndpoint},
		CORS:                uiconfig.CORS{CookieInsecure: true},
		HideLogs:            true,
		DisableNewsFetch:    true,
	}))
	s.uiURL = "http://" + net.JoinHostPort(host, strconv.Itoa(port))
	go func() {
		if err := s.ui.Start(); err != nil && !errors.Is(err, net.ErrClosed) {
			o.Logger.Error("web ui stopped", zap.Error(err))
		}
	}()
	return nil
}

// Address is the frontend's host:port.
func (s *Server) Address() string { return s.address }

// UIURL is the Web UI's base URL, "" without a UI.
func (s *Server) UIURL() string { return s.uiURL }

// Namespace is the namespace registered at start.
func (s *Server) Namespace() string { return s.namespace }

// Stop stops the UI and the server.
func (s *Server) Stop() {
	if s.ui != nil {
		s.ui.Stop()
	}
	s.server.Stop()
}

func buildConfig(host string, port int, o Options, logger tlog.Logger) (*config.Config, error) {
	httpPort, err := freePort(host)
	if err != nil {
		return nil, err
	}
	var conf config.Config
	conf.Global.Membership.MaxJoinDuration = 30 * time.Second
	conf.Global.Membership.BroadcastAddress = host
	// One shard, as temporalio/cli's dev server. The count is fixed forever
	// for a database: the server records it in the cluster metadata at the
	// first start and afterwards uses the recorded count whatever this says.
	conf.Persistence.NumHistoryShards = 1
	if o.PostgresURL != "" {
		conf.Persistence.NumHistoryShards = postgresShards
		main, visibility, err := postgresStores(o.PostgresURL)
		if err != nil {
			return nil, err
		}
		if err := setupPostgres(main, visibility, logger); err != nil {
			return nil, fmt.Errorf("temporal postgres: %w", err)
		}
		conf.Persistence.DefaultStore = "postgres-default"
		conf.Persistence.VisibilityStore = "postgres-visibility"
		conf.Persistence.DataStores = map[string]config.DataStore{
			"postgres-default":    {SQL: main},
			"postgres-visibility": {SQL: visibility},
		}
	} else {
		sqlConf, err := sqlConfig(o)
		if err != nil {
			return nil, err
		}
		conf.Persistence.DefaultStore = "sqlite-default"
		conf.Persistence.VisibilityStore = "sqlite-default"
		conf.Persistence.DataStores = map[string]config.DataStore{"sqlite-default": {SQL: sqlConf}}
	}
	conf.ClusterMetadata = &cluster.Config{
		FailoverVersionIncrement: 10,
		MasterClusterName:        clusterName,
		CurrentClusterName:       clusterName,
		ClusterInformation: map[string]cluster.ClusterInformation{
			clusterName: {
				Enabled:                true,
				InitialFailoverVersion: 1,
				RPCAddress:             net.JoinHostPort(host, strconv.Itoa(port)),
				HTTPAddress:            net.JoinHostPort(host, strconv.Itoa(httpPort)),
				ClusterID:              uuid.NewString(),
			},
		},
	}
	conf.DCRedirectionPolicy.Policy = "noop"
	conf.Services = map[string]config.Service{}
	for _, name := range []string{"frontend", "history", "matching", "worker"} {
		var svc config.Service
		svc.RPC.BindOnIP = host
		if name == "frontend" {
			svc.RPC.GRPCPort = port
			svc.RPC.HTTPPort = httpPort
		} else if svc.RPC.GRPCPort, err = freePort(host); err != nil {
			return nil, err
		}
		conf.Services[name] = svc
	}
	conf.Archival.History.State = "disabled"
	conf.Archival.Visibility.State = "disabled"
	conf.NamespaceDefaults.Archival.History.State = "disabled"
	conf.NamespaceDefaults.Archival.Visibility.State = "disabled"
	conf.PublicClient.HostPort = net.JoinHostPort(host, strconv.Itoa(port))
	return &conf, nil
}

func sqlConfig(o Options) (*config.SQL, error) {
	conf := config.SQL{PluginName: sqliteplugin.PluginName}
	if o.DBFile == "" {
		conf.ConnectAttributes = map[string]string{"mode": "memory", "cache": "shared"}
		conf.DatabaseName = randomID()
	} else {
		conf.ConnectAttributes = map[string]string{"mode": "rwc", "_journal_mode": "WAL"}
		conf.DatabaseName = o.DBFile
		if _, err := os.Stat(o.DBFile); errors.Is(err, os.ErrNotExist) {
			if _, err := os.Stat(filepath.Dir(o.DBFile)); err != nil {
				return nil, fmt.Errorf("dev database directory: %w", err)
			}
			if err := sqliteschema.SetupSchema(&conf); err != nil {
				return nil, fmt.Errorf("dev database schema: %w", err)
			}
		}
	}
	// Custom search attributes are registered later through the operator
	// service, the same way as on any other cluster.
	ns, err := sqliteschema.NewNamespaceConfig(clusterName, o.Namespace, false, nil)
	if err != nil {
		return nil, err
	}
	if err := sqliteschema.CreateNamespaces(&conf, ns); err != nil {
		return nil, fmt.Errorf("namespace %q: %w", o.Namespace, err)
	}
	return &conf, nil
}

func hostPort(addr string) (string, int, error) {
	if addr == "" {
		return "127.0.0.1", 0, nil
	}
	h, p, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, err
	}
	port, err := strconv.Atoi(p)
	if err != nil || port < 0 || port > 65535 {
		return "", 0, fmt.Errorf("bad port in %q", addr)
	}
	if h == "" {
		h = "127.0.0.1"
	}
	return h, port, nil
}

func freePort(host string) (int, error) {
	l, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return 0, fmt.Errorf("free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func randomID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
