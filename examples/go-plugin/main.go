// A GrpcPlugins plugin in Go, written against protos/ and docs/protocol.md only.
//
// It implements the handshake, the token check, grpc.health.v1, Describe, Configure,
// one hook ("request"), two routes (GET /ping, and POST /count, which reads the
// request body in HandleHttp's frames), Shutdown, and exits when its stdin closes.
//
// Run with PLUGIN_ATTACH_LISTEN (and PLUGIN_TLS_CERT, PLUGIN_TLS_KEY, PLUGIN_TLS_CLIENT_CA)
// it serves attached instead (docs/protocol.md, section 8): over mutual TLS on that address,
// without a token, handshake line or stdin watch, until SIGTERM. It never calls the host.
// Built by `make plugins` from Debian's Go and gRPC packages (GOPATH mode, offline),
// with stubs generated from protos/ by protoc-gen-go and protoc-gen-go-grpc.
package main

import (
	"context"
	"crypto/subtle"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	pluginv1 "goplugin/gen/pluginv1"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

const (
	cookieKey   = "PLUGIN_MAGIC_COOKIE"
	cookieValue = "7f3c5e1a-grpc-plugins-v1"
	version     = "1.0.0"
)

// supported are the protocol versions this plugin speaks.
var supported = map[int]bool{1: true}

// logf writes one line to stderr: stdout carries the handshake line only.
func logf(level, format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "%s: %s\n", level, fmt.Sprintf(format, args...))
}

func main() {
	if attach := os.Getenv("PLUGIN_ATTACH_LISTEN"); attach != "" {
		serveAttached(attach)
		return
	}
	if os.Getenv(cookieKey) != cookieValue {
		fmt.Fprintln(os.Stderr, "This is a plugin for a GrpcPlugins host: it does not run by itself. Put it in the host's plugins directory and start the host.")
		os.Exit(1)
	}

	chosen := 0
	for _, offered := range strings.Split(os.Getenv("PLUGIN_PROTOCOL_VERSIONS"), ",") {
		if v, err := strconv.Atoi(strings.TrimSpace(offered)); err == nil && supported[v] && v > chosen {
			chosen = v
		}
	}
	if chosen == 0 {
		logf("fail", "the host speaks protocol versions %q; this plugin speaks 1", os.Getenv("PLUGIN_PROTOCOL_VERSIONS"))
		os.Exit(1)
	}

	token := os.Getenv("PLUGIN_TOKEN")
	socket := filepath.Join(os.Getenv("PLUGIN_SOCKET_DIR"), "plugin.sock")
	listener, err := net.Listen("unix", socket)
	if err != nil {
		logf("fail", "cannot listen on %s: %v", socket, err)
		os.Exit(1)
	}
	if hostPid, err := strconv.Atoi(os.Getenv("PLUGIN_HOST_PID")); err == nil {
		// Every plugin runs as the host's user: another one can reach this socket and read our
		// token from /proc. Only the host's own connections get through (a host before
		// PLUGIN_HOST_PID sets none, and then the token alone guards).
		listener = hostOnlyListener{listener, hostPid}
	}

	stop := make(chan string, 2)
	server := serve(listener, os.Getenv("PLUGIN_ID"), stop,
		grpc.UnaryInterceptor(func(ctx context.Context, req interface{}, _ *grpc.UnaryServerInfo, next grpc.UnaryHandler) (interface{}, error) {
			if err := checkToken(ctx, token); err != nil {
				return nil, err
			}
			return next(ctx, req)
		}),
		grpc.StreamInterceptor(func(srv interface{}, ss grpc.ServerStream, _ *grpc.StreamServerInfo, next grpc.StreamHandler) error {
			if err := checkToken(ss.Context(), token); err != nil {
				return err
			}
			return next(srv, ss)
		}),
	)
	go func() {
		// The host holds our stdin open; EOF means it is gone, even after SIGKILL.
		_, _ = io.Copy(io.Discard, os.Stdin)
		stop <- "stdin closed"
	}()

	fmt.Printf("1|%d|unix|%s|grpc\n", chosen, socket)
	logf("info", "go plugin %s serving on %s", os.Getenv("PLUGIN_ID"), socket)

	stopServer(server, <-stop)
}

// hostOnlyListener closes every connection whose peer is not the host's process, as the kernel
// names it (SO_PEERCRED), before a byte of it is read.
type hostOnlyListener struct {
	net.Listener
	hostPid int
}

func (l hostOnlyListener) Accept() (net.Conn, error) {
	for {
		conn, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		pid, err := peerPid(conn)
		if err == nil && pid == l.hostPid {
			return conn, nil
		}
		logf("warn", "refused a connection from pid %d (%v): only the host, pid %d, may call this plugin", pid, err, l.hostPid)
		conn.Close()
	}
}

func peerPid(conn net.Conn) (int, error) {
	unix, ok := conn.(*net.UnixConn)
	if !ok {
		return 0, fmt.Errorf("not a unix socket")
	}
	raw, err := unix.SyscallConn()
	if err != nil {
		return 0, err
	}
	var credentials *syscall.Ucred
	var readErr error
	if err := raw.Control(func(fd uintptr) {
		credentials, readErr = syscall.GetsockoptUcred(int(fd), syscall.SOL_SOCKET, syscall.SO_PEERCRED)
	}); err != nil {
		return 0, err
	}
	if readErr != nil {
		return 0, readErr
	}
	return int(credentials.Pid), nil
}

// serveAttached serves over TCP with mutual TLS: only a client whose certificate the given CA
// signed (the host) gets through, so there is no token to check, and no stdin to watch.
func serveAttached(address string) {
	id := os.Getenv("PLUGIN_ID")
	if id == "" {
		id = "go-hello"
	}
	certificate, err := tls.LoadX509KeyPair(os.Getenv("PLUGIN_TLS_CERT"), os.Getenv("PLUGIN_TLS_KEY"))
	if err != nil {
		logf("fail", "PLUGIN_ATTACH_LISTEN is set, so this plugin serves over mutual TLS, but its certificate and key (PLUGIN_TLS_CERT, PLUGIN_TLS_KEY) do not load: %v", err)
		os.Exit(1)
	}
	hostsCa, err := os.ReadFile(os.Getenv("PLUGIN_TLS_CLIENT_CA"))
	hosts := x509.NewCertPool()
	if err != nil || !hosts.AppendCertsFromPEM(hostsCa) {
		logf("fail", "PLUGIN_TLS_CLIENT_CA must name the PEM file of the CA that signs the host's certificate: %v", err)
		os.Exit(1)
	}
	listener, err := net.Listen("tcp", address)
	if err != nil {
		logf("fail", "cannot listen on %s: %v", address, err)
		os.Exit(1)
	}

	stop := make(chan string, 2)
	server := serve(listener, id, stop, grpc.Creds(credentials.NewTLS(&tls.Config{
		Certificates: []tls.Certificate{certificate},
		ClientCAs:    hosts,
		ClientAuth:   tls.RequireAndVerifyClientCert,
		MinVersion:   tls.VersionTLS12,
	})))
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, syscall.SIGTERM, syscall.SIGINT)
	go func() { stop <- (<-signals).String() }()

	// Whoever runs an attached worker (a container's runtime) stops it with a signal.
	logf("info", "go plugin %s serving attached on %s", id, address)
	stopServer(server, <-stop)
}

// serve starts the plugin's gRPC server on listener: the Plugin service and grpc.health.v1
// (SERVING for "" from the start). A failure to serve is a reason to stop, sent on stop.
func serve(listener net.Listener, id string, stop chan string, options ...grpc.ServerOption) *grpc.Server {
	server := grpc.NewServer(options...)
	pluginv1.RegisterPluginServer(server, &plugin{id: id, stop: stop})
	healthpb.RegisterHealthServer(server, health.NewServer())
	go func() {
		if err := server.Serve(listener); err != nil {
			logf("fail", "serving: %v", err)
			stop <- "the server failed"
		}
	}()
	return server
}

// stopServer lets calls in flight finish, for a second at most, then exits.
func stopServer(server *grpc.Server, reason string) {
	logf("info", "stopping: %s", reason)
	stopped := make(chan struct{})
	go func() {
		server.GracefulStop()
		close(stopped)
	}()
	select {
	case <-stopped:
	case <-time.After(time.Second):
		server.Stop() // calls still running after a second end with the process
	}
	os.Exit(0)
}

// checkToken refuses a call without the host's per-spawn token: any local process can reach the socket.
func checkToken(ctx context.Context, token string) error {
	md, _ := metadata.FromIncomingContext(ctx)
	presented := md.Get("plugin-token")
	if len(presented) != 1 || subtle.ConstantTimeCompare([]byte(presented[0]), []byte(token)) != 1 {
		return status.Error(codes.Unauthenticated, "missing or wrong 'plugin-token'")
	}
	return nil
}

type plugin struct {
	pluginv1.UnimplementedPluginServer
	id       string
	stop     chan<- string
	stopOnce sync.Once
}

func (p *plugin) Describe(context.Context, *pluginv1.DescribeRequest) (*pluginv1.DescribeResponse, error) {
	return &pluginv1.DescribeResponse{
		Id:      p.id,
		Version: version,
		Runtime: "go/" + runtime.Version(),
		Hooks:   []*pluginv1.HookRegistration{{Point: "request"}},
		Routes: []*pluginv1.RouteRegistration{
			{Method: "GET", Path: "/ping", AllowAnonymous: true},
			{Method: "POST", Path: "/count"},
		},
	}, nil
}

// Configure accepts: this plugin keeps no settings. One that does keeps them per
// request.TenantId, and drops a tenant's when request.Removed is set.
func (p *plugin) Configure(context.Context, *pluginv1.ConfigureRequest) (*pluginv1.ConfigureResponse, error) {
	return &pluginv1.ConfigureResponse{Accepted: true}, nil
}

func (p *plugin) InvokeHook(_ context.Context, request *pluginv1.HookRequest) (*pluginv1.HookResponse, error) {
	body := string(request.Body)
	if strings.Contains(body, "go-stop") {
		return &pluginv1.HookResponse{Decision: &pluginv1.HookResponse_ShortCircuit{ShortCircuit: &pluginv1.HookShortCircuit{
			StatusCode: 418, Body: []byte("stopped by the go plugin"), ContentType: "text/plain; charset=utf-8",
		}}}, nil
	}
	return &pluginv1.HookResponse{Decision: &pluginv1.HookResponse_Modify{Modify: &pluginv1.HookModify{
		Body: []byte(body + " (seen by go)"), ReplaceBody: true, SetHeaders: map[string]string{"x-go-plugin": version},
	}}}, nil
}

func (p *plugin) HandleHttp(stream pluginv1.Plugin_HandleHttpServer) error {
	first, err := stream.Recv()
	if err != nil {
		return err
	}
	head := first.GetHead()
	if head == nil {
		return status.Error(codes.InvalidArgument, "the first frame must be the head")
	}

	// The body's frames, up to `end`: read to the end before answering (docs/protocol.md).
	counted := 0
	for {
		frame, err := stream.Recv()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		if _, end := frame.Frame.(*pluginv1.HttpRequestFrame_End); end {
			break
		}
		counted += len(frame.GetBodyChunk())
	}

	switch {
	case head.Method == "POST" && head.Path == "/count":
		return answer(stream, 200, map[string]interface{}{"bytes": counted, "rpc": "HandleHttp"})
	case (head.Method == "GET" || head.Method == "HEAD") && head.Path == "/ping":
		return answer(stream, 200, map[string]interface{}{
			"plugin": p.id, "version": version, "pid": os.Getpid(), "runtime": "go/" + runtime.Version(), "rpc": "HandleHttp",
		})
	default:
		return answer(stream, 404, map[string]interface{}{"error": "no route " + head.Path})
	}
}

// answer sends a JSON response: its head, then its body in one chunk.
func answer(stream pluginv1.Plugin_HandleHttpServer, statusCode int32, value map[string]interface{}) error {
	payload, err := json.Marshal(value)
	if err != nil {
		return err
	}
	if err := stream.Send(&pluginv1.HttpResponseFrame{Frame: &pluginv1.HttpResponseFrame_Head{Head: &pluginv1.HttpResponseHead{
		StatusCode: statusCode, Headers: []*pluginv1.HttpHeader{{Name: "content-type", Value: "application/json"}},
	}}}); err != nil {
		return err
	}
	return stream.Send(&pluginv1.HttpResponseFrame{Frame: &pluginv1.HttpResponseFrame_BodyChunk{BodyChunk: payload}})
}

func (p *plugin) Shutdown(_ context.Context, request *pluginv1.ShutdownRequest) (*pluginv1.ShutdownResponse, error) {
	logf("info", "shutdown requested: %s", request.Reason)
	// Answer first, then stop: the host waits for this call's answer.
	p.stopOnce.Do(func() { time.AfterFunc(50*time.Millisecond, func() { p.stop <- "shutdown" }) })
	return &pluginv1.ShutdownResponse{}, nil
}
