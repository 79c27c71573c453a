"""What every Python test worker here does the same way: the generated stubs
on the path, the handshake line, health, and exit when the host's stdin closes
or Shutdown asks. Each test worker is a module that builds its servicer and calls
serve()."""
import os
import sys
import threading
from concurrent import futures

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "examples", "python-plugin", "gen"))

import grpc  # noqa: E402
from plugin.v1 import plugin_pb2, plugin_pb2_grpc  # noqa: E402,F401 (re-exported for the workers)

SOCKET = os.path.join(os.environ["PLUGIN_SOCKET_DIR"], "plugin.sock")
stopping = threading.Event()


def stop_soon():
    """Shutdown's answer must reach the host before the server stops."""
    threading.Timer(0.05, stopping.set).start()


def serving_health(_request_bytes, _context):
    # grpc.health.v1.HealthCheckResponse{status: SERVING}: field 1, varint 1.
    return b"\x08\x01"


def watch_stdin():
    while sys.stdin.buffer.read(256):
        pass
    stopping.set()


def serve(servicer, health_check=serving_health):
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
    plugin_pb2_grpc.add_PluginServicer_to_server(servicer, server)
    server.add_generic_rpc_handlers([grpc.method_handlers_generic_handler("grpc.health.v1.Health", {
        "Check": grpc.unary_unary_rpc_method_handler(health_check, request_deserializer=None, response_serializer=None),
    })])
    server.add_insecure_port("unix:" + SOCKET)
    server.start()
    threading.Thread(target=watch_stdin, daemon=True).start()
    print(f"1|1|unix|{SOCKET}|grpc", flush=True)
    stopping.wait()
    server.stop(grace=1).wait()
    os._exit(0)
