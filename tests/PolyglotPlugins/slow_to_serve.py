#!/usr/bin/python3
"""A worker that warms up after its handshake: its first health checks say
NOT_SERVING and it refuses Describe with UNAVAILABLE until it serves. Its hook
reports how many Describe calls it refused and answered, so a test can see the
host's start sequence from the worker's side."""
import os
import threading

from worker import grpc, plugin_pb2, plugin_pb2_grpc, serve, stop_soon

NOT_SERVING_CHECKS = 3
lock = threading.Lock()
state = {"checks": 0, "refused": 0, "answered": 0}


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
        stop_soon()
        return plugin_pb2.ShutdownResponse()


def health_check(_request_bytes, _context):
    with lock:
        state["checks"] += 1
        # grpc.health.v1.HealthCheckResponse{status}: field 1, varint 1 (SERVING) or 2 (NOT_SERVING).
        return b"\x08\x01" if serving() else b"\x08\x02"


serve(Plugin(), health_check)
