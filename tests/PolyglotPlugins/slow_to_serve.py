#!/usr/bin/python3
"""A worker that warms up after its handshake: its first health checks say
NOT_SERVING and it refuses Describe with UNAVAILABLE until it serves. Its hook
reports how many Describe calls it refused and answered, so a test can see the
host's start sequence from the worker's side."""
import os
import sys
import threading
from concurrent import futures

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "examples", "python-plugin", "gen"))

import grpc  # noqa: E402
from plugin.v1 import plugin_pb2, plugin_pb2_grpc  # noqa: E402

NOT_SERVING_CHECKS = 3
SOCKET = os.path.join(os.environ["PLUGIN_SOCKET_DIR"], "plugin.sock")
lock = threading.Lock()
state = {"checks": 0, "refused": 0, "answered": 0}
stopping = threading.Event()


def serving():
    return state["checks"] > NOT_SERVING_CHECKS


class Plugin(plugin_pb2_grpc.PluginServicer):
    def Describe(self, request, context):
        with lock:
            if not serving():
                state["refused"] += 1
                context.abort(grpc.StatusCode.UNAVAILABLE, "still warming up")
            state["answered"] += 1
        return plugin_pb2.DescribeResponse(
            id=os.environ["PLUGIN_ID"], version="1.0.0", runtime="python",
            hooks=[plugin_pb2.HookRegistration(point="request")])

    def Configure(self, request, context):
        return plugin_pb2.ConfigureResponse(accepted=True)

    def InvokeHook(self, request, context):
        with lock:
            body = f"describe refused {state['refused']}, answered {state['answered']}".encode()
        return plugin_pb2.HookResponse(modify=plugin_pb2.HookModify(body=body, replace_body=True))

    def Shutdown(self, request, context):
        threading.Timer(0.05, stopping.set).start()
        return plugin_pb2.ShutdownResponse()


def health_check(_request_bytes, _context):
    with lock:
        state["checks"] += 1
        # grpc.health.v1.HealthCheckResponse{status}: field 1, varint 1 (SERVING) or 2 (NOT_SERVING).
        return b"\x08\x01" if serving() else b"\x08\x02"


def watch_stdin():
    while sys.stdin.buffer.read(256):
        pass
    stopping.set()


server = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
plugin_pb2_grpc.add_PluginServicer_to_server(Plugin(), server)
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
