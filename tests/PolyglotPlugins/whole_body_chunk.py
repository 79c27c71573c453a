#!/usr/bin/python3
"""A plugin author's mistake the C# Sdk cannot make: a route that answers with its
whole 17 MiB body as one chunk, over the 16 MiB a message between host and plugin
may carry. The host must answer 502 and say how to fix it."""
import os

from worker import plugin_pb2, plugin_pb2_grpc, serve, stop_soon


class Plugin(plugin_pb2_grpc.PluginServicer):
    def Describe(self, request, context):
        return plugin_pb2.DescribeResponse(id=os.environ["PLUGIN_ID"], version="1.0.0", runtime="python")

    def Configure(self, request, context):
        return plugin_pb2.ConfigureResponse(accepted=True)

    def HandleHttp(self, request_iterator, context):
        for _ in request_iterator:
            pass
        yield plugin_pb2.HttpResponseFrame(head=plugin_pb2.HttpResponseHead(status_code=200))
        yield plugin_pb2.HttpResponseFrame(body_chunk=bytes(17 * 1024 * 1024))

    def Shutdown(self, request, context):
        stop_soon()
        return plugin_pb2.ShutdownResponse()


serve(Plugin())
