"""Calls from the host alone: a connection from any other process is cut.

Every plugin runs as the host's user, so another plugin can read this one's token
from /proc and connect to its socket (docs/protocol.md, PLUGIN_HOST_PID). grpcio
owns the listening socket and tells a call nothing of its connection, so the check
is made on the process instead: before each call, every Unix socket this process
holds is looked at, and one whose other end is neither the host's nor this
process's is shut down. While such a connection is open, every call is refused,
since any of them may have come through it. The kernel names a socket's other end
through sock_diag (netlink); each socket is looked up once, when it first appears.
A call costs one listing of the names in /proc/self/fd: the sockets behind them are
read again only when the names change, or a second after the last full look. So the
one way past the check is narrow: a connection of the host's closes, and within that
second a stranger's opens on the same number and calls.
"""
import os
import socket
import struct
import threading
import time

_NETLINK_SOCK_DIAG = 4
_SOCK_DIAG_BY_FAMILY = 20
_NLM_F_REQUEST = 0x1
_UDIAG_SHOW_PEER = 0x4
_UNIX_DIAG_PEER = 2
_NO_COOKIE = 0xFFFFFFFF


def _socket_inodes(pid):
    """fd -> inode of every socket process `pid` holds."""
    inodes = {}
    directory = f"/proc/{pid}/fd"
    for name in os.listdir(directory):
        try:
            link = os.readlink(f"{directory}/{name}")
        except OSError:
            continue  # closed meanwhile
        if link.startswith("socket:["):
            inodes[int(name)] = int(link[8:-1])
    return inodes


def _peer(inode):
    """The inode at the other end of Unix socket `inode`; 0 when none, None when not a Unix socket."""
    request = struct.pack("=BBHIIIII", socket.AF_UNIX, 0, 0, 0xFFFFFFFF, inode, _UDIAG_SHOW_PEER, _NO_COOKIE, _NO_COOKIE)
    header = struct.pack("=IHHII", 16 + len(request), _SOCK_DIAG_BY_FAMILY, _NLM_F_REQUEST, 1, 0)
    with socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, _NETLINK_SOCK_DIAG) as netlink:
        netlink.sendto(header + request, (0, 0))
        answer = netlink.recv(8192)
    length, kind = struct.unpack_from("=IH", answer, 0)
    if kind != _SOCK_DIAG_BY_FAMILY:
        return None  # an error: the inode is no Unix socket (a TCP one, or gone)
    offset = 16 + 16  # the netlink header, then unix_diag_msg; its attributes follow
    while offset + 4 <= length:
        size, attribute = struct.unpack_from("=HH", answer, offset)
        if size < 4:
            break
        if attribute == _UNIX_DIAG_PEER:
            return struct.unpack_from("=I", answer, offset + 4)[0]
        offset += (size + 3) & ~3
    return 0


def _holder(inode):
    """The pid holding socket `inode`, if this user may see it."""
    wanted = f"socket:[{inode}]"
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if any(os.readlink(f"/proc/{pid}/fd/{fd}") == wanted for fd in os.listdir(f"/proc/{pid}/fd")):
                return int(pid)
        except OSError:
            continue
    return None


class HostOnlyPeers:
    """Knows this process's connections, and cuts those not from the host."""

    def __init__(self, host_pid, log):
        self._host_pid = host_pid
        self._log = log
        self._lock = threading.Lock()
        self._allowed = {}  # fd -> inode whose other end is the host, this process, or none
        self._cut = {}      # fd -> inode of a stranger's connection, shut down, not yet closed
        self._names = None  # the names in /proc/self/fd at the last full look
        self._looked = 0.0  # and when it was

    def stranger_connected(self):
        """True while a connection from another process is open (each is shut down when first seen)."""
        if self._host_pid is None:
            return False
        names = frozenset(os.listdir("/proc/self/fd"))
        with self._lock:
            if names == self._names and time.monotonic() - self._looked < 1.0:
                return bool(self._cut)
            self._names, self._looked = names, time.monotonic()
            try:
                return self._look()
            except OSError as error:
                # A sandbox without sock_diag (some container runtimes): the token still guards.
                self._log("warn", f"cannot ask the kernel who is connected ({error}); calls are checked by the token alone")
                self._host_pid = None
                return False

    def _look(self):
        held = _socket_inodes("self")
        self._allowed = {fd: i for fd, i in self._allowed.items() if held.get(fd) == i}
        self._cut = {fd: i for fd, i in self._cut.items() if held.get(fd) == i}
        new = {fd: i for fd, i in held.items() if self._allowed.get(fd) != i and self._cut.get(fd) != i}
        host = None
        for fd, inode in new.items():
            peer = _peer(inode)
            if not peer or peer in held.values():
                self._allowed[fd] = inode
                continue
            if host is None:
                host = set(_socket_inodes(self._host_pid).values())
            if peer in host:
                self._allowed[fd] = inode
                continue
            self._cut[fd] = inode
            self._shut(fd)
            self._log("warn", f"cut a connection from pid {_holder(peer) or 'unknown'}: only the host, pid {self._host_pid}, may call this plugin")
        return bool(self._cut)

    @staticmethod
    def _shut(fd):
        # A shutdown acts on the connection itself, so grpcio's descriptor sees its end too.
        try:
            with socket.socket(fileno=os.dup(fd)) as connection:
                connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass  # already gone
