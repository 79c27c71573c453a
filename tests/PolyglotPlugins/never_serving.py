#!/usr/bin/python3
"""A worker that handshakes and answers every health check NOT_SERVING, as one
whose dependency never comes up would: its start must time out with what the
probes got, not only that they got nothing."""
from worker import plugin_pb2_grpc, serve


def not_serving(_request_bytes, _context):
    # grpc.health.v1.HealthCheckResponse{status: NOT_SERVING}: field 1, varint 2.
    return b"\x08\x02"


serve(plugin_pb2_grpc.PluginServicer(), not_serving)
