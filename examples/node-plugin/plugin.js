#!/usr/bin/env node
// A GrpcPlugins plugin in Node.js, written against protos/ and docs/protocol.md only:
// handshake, token check, connections from the host alone (peers.js), grpc.health.v1, Describe, Configure, one hook, two routes
// (GET /ping, and POST /count, which reads the request body in HandleHttp's frames),
// Shutdown, and exit when stdin closes. Only the required RPCs: Python's example also
// shows the optional HandleHttpBuffered and PluginHost.ReadHttpBody.
// With PLUGIN_ATTACH_LISTEN (and PLUGIN_TLS_CERT, PLUGIN_TLS_KEY, PLUGIN_TLS_CLIENT_CA) it
// serves attached instead (docs/protocol.md, section 8): mutual TLS on that address, no
// token, no handshake line, no stdin watch. It never calls the host, so it needs no way back.
'use strict';
const path = require('path');
const crypto = require('crypto');

const COOKIE_KEY = 'PLUGIN_MAGIC_COOKIE';
const COOKIE_VALUE = '7f3c5e1a-grpc-plugins-v1';
const VERSION = '1.0.0';
const log = (level, message) => process.stderr.write(`${level}: ${message}\n`); // stdout is the handshake's

const attach = process.env.PLUGIN_ATTACH_LISTEN;
if (!attach && process.env[COOKIE_KEY] !== COOKIE_VALUE) {
  process.stderr.write("This is a plugin for a GrpcPlugins host: it does not run by itself. Put it in the host's plugins directory and start the host.\n");
  process.exit(1);
}

const offered = attach ? [1] : (process.env.PLUGIN_PROTOCOL_VERSIONS || '').split(',').map(Number).filter(v => v > 0);
if (!offered.includes(1)) {
  log('fail', `the host speaks protocol versions ${offered}; this plugin speaks 1`);
  process.exit(1);
}

const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');
const fs = require('fs');
const { listenHostOnly } = require('./peers');
// The protos: from GRPC_PLUGINS_PROTOS, a protos/ folder beside this file (an installed copy), or the repository's.
const protosRoot = [process.env.GRPC_PLUGINS_PROTOS, path.join(__dirname, 'protos'), path.join(__dirname, '..', '..', 'protos')]
  .find(dir => dir && fs.existsSync(path.join(dir, 'plugin', 'v1', 'plugin.proto')));
const definition = protoLoader.loadSync('plugin/v1/plugin.proto', { includeDirs: [protosRoot], keepCase: false, longs: Number, defaults: true, oneofs: true });
const pluginV1 = grpc.loadPackageDefinition(definition).plugin.v1;

const pluginId = process.env.PLUGIN_ID || 'node-hello';
const token = attach ? null : Buffer.from(process.env.PLUGIN_TOKEN);
const socket = attach ? null : path.join(process.env.PLUGIN_SOCKET_DIR, 'plugin.sock');

// Every call must carry the host's per-spawn token; attached, TLS has already refused
// every caller without the host's certificate.
function authorized(call) {
  if (!token) return true;
  const presented = Buffer.from(String(call.metadata.get('plugin-token')[0] || ''));
  return presented.length === token.length && crypto.timingSafeEqual(presented, token);
}
const unauthenticated = { code: grpc.status.UNAUTHENTICATED, details: "missing or wrong 'plugin-token'" };

const server = new grpc.Server();
server.addService(pluginV1.Plugin.service, {
  describe(call, callback) {
    if (!authorized(call)) return callback(unauthenticated);
    callback(null, {
      id: pluginId, version: VERSION, runtime: `node/${process.versions.node}`,
      hooks: [{ point: 'request' }],
      routes: [{ method: 'GET', path: '/ping', allowAnonymous: true }, { method: 'POST', path: '/count' }],
    });
  },
  configure(call, callback) {
    if (!authorized(call)) return callback(unauthenticated);
    // This plugin keeps no settings. One that does keeps them per call.request.tenantId,
    // and drops a tenant's when call.request.removed is set (an admin deleted them).
    callback(null, { accepted: true });
  },
  invokeHook(call, callback) {
    if (!authorized(call)) return callback(unauthenticated);
    const body = Buffer.from(call.request.body).toString('utf8');
    if (body.includes('node-stop')) {
      return callback(null, { shortCircuit: { statusCode: 451, body: Buffer.from('stopped by the node plugin'), contentType: 'text/plain; charset=utf-8' } });
    }
    callback(null, { modify: { body: Buffer.from(`${body} (seen by node)`), replaceBody: true, setHeaders: { 'x-node-plugin': VERSION } } });
  },
  handleHttp(call) {
    if (!authorized(call)) return call.destroy(Object.assign(new Error(unauthenticated.details), unauthenticated));
    let head = null;
    let counted = 0;
    // The first frame is the head, then body chunks up to `end` (docs/protocol.md). A body is
    // counted as it streams, never held whole: the host sends the next chunk as this one is read.
    call.on('data', frame => {
      if (frame.frame === 'head') head = frame.head;
      else if (frame.frame === 'bodyChunk') counted += frame.bodyChunk.length;
    });
    // Answer once the host closed its side (docs/protocol.md).
    call.on('end', () => {
      const json = { name: 'content-type', value: 'application/json' };
      if (head && head.method === 'POST' && head.path === '/count') {
        call.write({ head: { statusCode: 200, headers: [json] } });
        call.write({ bodyChunk: Buffer.from(JSON.stringify({ bytes: counted, rpc: 'HandleHttp' })) });
      } else if (head && (head.method === 'GET' || head.method === 'HEAD') && head.path === '/ping') {
        call.write({ head: { statusCode: 200, headers: [json] } });
        call.write({ bodyChunk: Buffer.from(JSON.stringify({ plugin: pluginId, version: VERSION, pid: process.pid, runtime: `node/${process.versions.node}`, rpc: 'HandleHttp' })) });
      } else {
        call.write({ head: { statusCode: 404, headers: [] } });
      }
      call.end();
    });
  },
  shutdown(call, callback) {
    if (!authorized(call)) return callback(unauthenticated);
    log('info', `shutdown requested: ${call.request.reason}`);
    callback(null, {});
    setTimeout(stop, 50);
  },
});

// grpc.health.v1.Health/Check, answered SERVING (HealthCheckResponse{status: 1}) as raw bytes.
server.addService({
  check: {
    path: '/grpc.health.v1.Health/Check', requestStream: false, responseStream: false,
    requestSerialize: b => b, requestDeserialize: b => b, responseSerialize: b => b, responseDeserialize: b => b,
  },
}, {
  check(call, callback) {
    if (!authorized(call)) return callback(unauthenticated);
    callback(null, Buffer.from([0x08, 0x01]));
  },
});

let stopListening = () => {};
function stop() {
  stopListening();
  server.tryShutdown(() => process.exit(0));
  setTimeout(() => process.exit(0), 1000).unref();
}

if (attach) {
  const missing = ['PLUGIN_TLS_CERT', 'PLUGIN_TLS_KEY', 'PLUGIN_TLS_CLIENT_CA'].filter(name => !process.env[name]);
  if (missing.length > 0) {
    log('fail', `PLUGIN_ATTACH_LISTEN is set, so this plugin serves over mutual TLS, but ${missing.join(', ')} not set`);
    process.exit(1);
  }
  const read = name => fs.readFileSync(process.env[name]);
  // The last argument: a client certificate is required, and must chain to the hosts' CA.
  const credentials = grpc.ServerCredentials.createSsl(read('PLUGIN_TLS_CLIENT_CA'),
    [{ private_key: read('PLUGIN_TLS_KEY'), cert_chain: read('PLUGIN_TLS_CERT') }], true);
  server.bindAsync(attach, credentials, error => {
    if (error) {
      log('fail', `cannot listen on ${attach}: ${error.message}`);
      process.exit(2);
    }
    log('info', `node plugin ${pluginId} serving attached on ${attach}`);
  });
  // Whoever runs it stops it with a signal.
  process.on('SIGTERM', stop);
} else {
  const listening = error => {
    if (error) {
      log('fail', `cannot listen on ${socket}: ${error.message}`);
      process.exit(2);
    }
    process.stdout.write(`1|1|unix|${socket}|grpc\n`);
    log('info', `node plugin ${pluginId} serving on ${socket}`);
  };
  const hostPid = Number(process.env.PLUGIN_HOST_PID);
  if (hostPid > 0) {
    // Only the host's connections reach grpc-js (peers.js).
    const injector = server.createConnectionInjector(grpc.ServerCredentials.createInsecure());
    const listener = listenHostOnly(socket, hostPid, log, connection => injector.injectConnection(connection), listening);
    stopListening = () => listener.close();
  } else {
    // A host from before PLUGIN_HOST_PID: nothing to check against.
    server.bindAsync(`unix:${socket}`, grpc.ServerCredentials.createInsecure(), listening);
  }

  // The host holds stdin open; its end means the host is gone.
  process.stdin.on('data', () => {});
  process.stdin.on('end', stop);
  process.stdin.on('error', stop);
}
