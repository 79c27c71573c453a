'use strict';
// Connections from the host alone (docs/protocol.md, PLUGIN_HOST_PID).
//
// Every plugin runs as the host's user, so another plugin can read this one's token from
// /proc and connect to its socket. Node.js cannot ask the kernel who is at the other end
// of a Unix socket (SO_PEERCRED), but iproute2's `ss` can (netlink sock_diag): it names the
// socket at the other end of ours, and the processes holding that one. So this plugin
// listens itself, asks `ss` about each new connection (what arrives meanwhile waits in the
// socket's buffer, which grpc-js's HTTP/2 session reads first), and hands grpc-js only the
// host's connections (or its own); any other is closed without a byte of it served. An `ss`
// run takes a few ms and answers every connection waiting; the host opens one and keeps it.
const fs = require('fs');
const { execFile } = require('child_process');

// `ss -xpnH`: "u_str ESTAB 0 0 <local address> <inode> * <peer inode> users:((...,pid=N,fd=M),...)".
// The peer's address is always "*" here; the local one may be a path with spaces, so a line
// is read from its end.
const LINE = /\s(\d+)\s+\*\s+(\d+)(?:\s+users:\((.*)\))?\s*$/;

function unixSockets(text) {
  const byInode = new Map();
  for (const line of text.split('\n')) {
    const match = LINE.exec(line);
    if (match) {
      const pids = [...(match[3] || '').matchAll(/pid=(\d+)/g)].map(m => Number(m[1]));
      byInode.set(Number(match[1]), { peer: Number(match[2]), pids });
    }
  }
  return byInode;
}

/**
 * Asks `ss` who holds the other end of sockets: one run at a time, each answering every
 * socket that waited for it, so that a flood of connections costs a run per batch, not a
 * process per connection.
 */
function peerLookup() {
  let waiting = [];
  let running = false;
  function run() {
    running = true;
    const batch = waiting;
    waiting = [];
    execFile('ss', ['-xpnH'], { maxBuffer: 64 * 1024 * 1024, timeout: 5000 }, (error, stdout) => {
      const sockets = error ? null : unixSockets(stdout);
      for (const { inode, callback } of batch) {
        if (error) {
          callback(error);
          continue;
        }
        const ours = sockets.get(inode);
        const theirs = ours && sockets.get(ours.peer);
        callback(null, theirs ? theirs.pids : []);
      }
      running = false;
      if (waiting.length > 0) run();
    });
  }
  /** The pids holding the other end of Unix socket `fd`: empty when none can be seen (the peer is gone, or hidden). */
  return (fd, callback) => {
    let inode;
    try {
      inode = fs.fstatSync(fd).ino;
    } catch (error) {
      return callback(error);
    }
    waiting.push({ inode, callback });
    if (!running) run();
  };
}

/**
 * Listens on `path` and passes to `accept` each connection whose other end is held only
 * by the host or this process; `ready` is called once listening (or with the error).
 */
function listenHostOnly(path, hostPid, log, accept, ready) {
  const allowed = new Set([hostPid, process.pid]);
  const peerPids = peerLookup();
  let unchecked = false;
  const listener = require('net').createServer(connection => {
    const fd = connection._handle && connection._handle.fd;
    peerPids(fd, (error, pids) => {
      if (error && error.code === 'ENOENT') {
        // Without `ss` nothing can be checked: say so, once, and serve as a plugin without the check.
        if (!unchecked) log('warn', "cannot check who connects: `ss` (Debian's iproute2) is not installed; any process holding this plugin's token can call it");
        unchecked = true;
        return accept(connection);
      }
      if (error) {
        log('warn', `closed a connection whose other end could not be read (${error.message})`);
        return connection.destroy();
      }
      if (pids.length === 0 || pids.some(pid => !allowed.has(pid))) {
        log('warn', `cut a connection from pid ${pids.join(', ') || 'unknown'}: only the host, pid ${hostPid}, may call this plugin`);
        return connection.destroy();
      }
      accept(connection);
    });
  });
  listener.on('error', ready);
  listener.listen(path, () => ready(null));
  return listener;
}

module.exports = { listenHostOnly, unixSockets };
