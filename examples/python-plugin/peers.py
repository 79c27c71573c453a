"""Calls from the host alone: a connection from any other process is cut.

Every plugin runs as the host's user, so another plugin can read this one's token
from /proc and connect to its socket (docs/protocol.md, PLUGIN_HOST_PID). grpcio
owns the listening socket and tells a call nothing of its connection, so the check
is made on the process instead: before each call, every socket this process holds
is looked at, and a Unix socket whose other end is neither the host nor this
process is shut down. While such a connection is open, every call is refused,
since any of them may have come through it. The kernel names a socket's other end
(SO_PEERCRED) once, when the socket first appears; after that a call costs one
look at /proc/self/fd, each descriptor's socket read again, so that a connection
that took over a closed descriptor's number is seen as new.
"""
import os
import socket
import stat
import struct
import threading

_CREDENTIALS = struct.Struct("3i")  # pid, uid, gid


def _socket_inodes():
    """fd -> inode of every socket this process holds."""
    inodes = {}
    for name in os.listdir("/proc/self/fd"):
        try:
            status = os.fstat(int(name))  # a third of a readlink's cost: no path through /proc
        except OSError:
            continue  # closed meanwhile, or the listing's own descriptor
        if stat.S_ISSOCK(status.st_mode):
            inodes[int(name)] = status.st_ino
    return inodes


def _peer_pid(fd):
    """The pid at the other end of Unix socket `fd`, or None for another kind of socket, or none."""
    try:
        with socket.socket(fileno=os.dup(fd)) as connection:
            if connection.family != socket.AF_UNIX:
                return None
            pid, _, _ = _CREDENTIALS.unpack(connection.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, _CREDENTIALS.size))
            return pid or None
    except OSError:
        return None  # closed meanwhile, or not connected


class HostOnlyPeers:
    """Knows this process's connections, and cuts those not from the host."""

    def __init__(self, host_pid, log):
        self._allowed_pids = {host_pid, os.getpid()}
        self._host_pid = host_pid
        self._log = log
        self._lock = threading.Lock()
        self._known = {}  # fd -> inode of a socket whose other end is allowed (or no Unix peer)
        self._cut = {}    # fd -> inode of a stranger's connection, shut down, not yet closed

    def stranger_connected(self):
        """True while a connection from another process is open (each is shut down when first seen)."""
        held = _socket_inodes()
        with self._lock:
            self._known = {fd: i for fd, i in self._known.items() if held.get(fd) == i}
            self._cut = {fd: i for fd, i in self._cut.items() if held.get(fd) == i}
            for fd, inode in held.items():
                if self._known.get(fd) == inode or self._cut.get(fd) == inode:
                    continue
                pid = _peer_pid(fd)
                if pid is None or pid in self._allowed_pids:
                    self._known[fd] = inode
                    continue
                self._cut[fd] = inode
                self._shut(fd)
                self._log("warn", f"cut a connection from pid {pid}: only the host, pid {self._host_pid}, may call this plugin")
            return bool(self._cut)

    @staticmethod
    def _shut(fd):
        # A shutdown acts on the connection itself, so grpcio's descriptor sees its end too.
        try:
            with socket.socket(fileno=os.dup(fd)) as connection:
                connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass  # already gone
