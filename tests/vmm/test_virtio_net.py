# SPDX-License-Identifier: GPL-2.0-or-later
"""virtio-net on tap devices, seen by a real guest.

Each test has a network namespace of its own holding the taps and a peer
(a Python program, as root in the namespace) that the guest talks to: ICMP
both ways, TCP both ways with MD5 sums of the data, and a packet socket on
the tap that records the largest frame seen in each direction (a frame
longer than the MTU crossed only if segmentation offload worked).
"""
import fcntl
import os
import shutil
import struct
import subprocess

import pytest

MIB = 1 << 20
HOST_IP, GUEST_IP = "10.0.2.1", "10.0.2.15"
# Not a multiple of anything the stacks batch by.
BIG = 3 * MIB + 12345
ETH_FRAME_MAX = 1514

# virtio-net feature bits, as /sys/class/net/ethN/device/features lists them.
F_CSUM, F_GUEST_CSUM, F_MAC, F_GUEST_TSO4, F_GUEST_TSO6 = 0, 1, 5, 7, 8
F_HOST_TSO4, F_HOST_TSO6, F_MRG_RXBUF, F_STATUS = 11, 12, 15, 16
OFFLOADS = (F_CSUM, F_GUEST_CSUM, F_GUEST_TSO4, F_GUEST_TSO6, F_HOST_TSO4, F_HOST_TSO6)

# The peer: takes n bytes on port 5001, pings the guest, sends n bytes on
# port 5002, then reports the largest frames seen on the tap. One
# "KEY value..." line per step on stdout.
PEER = r"""
import hashlib, os, socket, struct, sys, threading, time
host_ip, guest_ip, n, tap = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
largest = {"from-guest": 0, "to-guest": 0}
cap = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))
cap.bind((tap, 0))
def sniff():
    buf = bytearray(64)
    while True:
        size, addr = cap.recvfrom_into(buf, 0, socket.MSG_TRUNC)
        way = {socket.PACKET_HOST: "from-guest", socket.PACKET_OUTGOING: "to-guest"}.get(addr[2])
        if way:
            largest[way] = max(largest[way], size)
threading.Thread(target=sniff, daemon=True).start()
def listener(port):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((host_ip, port)); s.listen(1); s.settimeout(300)
    return s
def checksum(b):
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    s = (s >> 16) + (s & 0xffff)
    return ~(s + (s >> 16)) & 0xffff
def ping(ident):
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    s.settimeout(5)
    for seq in range(1, 6):
        body = struct.pack("!HH", ident, seq) + b"duvisor-ping"
        s.sendto(struct.pack("!BBH", 8, 0, checksum(b"\x08\x00\x00\x00" + body)) + body,
                 (guest_ip, 0))
        try:
            while True:
                data, addr = s.recvfrom(2048)
                icmp = data[(data[0] & 15) * 4:]
                if addr[0] == guest_ip and icmp[0] == 0 and icmp[4:] == body:
                    return "ok"
        except socket.timeout:
            pass
    return "no-reply"
a, b = listener(5001), listener(5002)
print("PEER-READY", flush=True)
c, _ = a.accept(); c.settimeout(300); got = bytearray()
while True:
    chunk = c.recv(1 << 16)
    if not chunk: break
    got += chunk
c.close()
print("PEER-GOT", len(got), hashlib.md5(got).hexdigest(), flush=True)
print("PEER-PING", ping(os.getpid() & 0xffff), flush=True)
data = os.urandom(n)
c, _ = b.accept(); c.settimeout(300); c.sendall(data); c.close()
print("PEER-SENT", len(data), hashlib.md5(data).hexdigest(), flush=True)
time.sleep(0.5)
print("PEER-FRAMES", largest["from-guest"], largest["to-guest"], flush=True)
"""


def ns_cmd(ns, *cmd):
    return ["ip", "netns", "exec", ns, *cmd]


@pytest.fixture
def netns():
    if os.geteuid() != 0 or not shutil.which("ip"):
        pytest.skip("needs root and ip(8) for a network namespace with taps")
    name = f"dvnet{os.getpid()}"
    subprocess.run(["ip", "netns", "add", name], check=True)
    subprocess.run(ns_cmd(name, "ip", "link", "set", "lo", "up"), check=True)
    yield name
    subprocess.run(["ip", "netns", "del", name], check=False)


def add_tap(ns, name, host_ip):
    """A tap with a virtio-net header, made in the namespace."""
    subprocess.run(ns_cmd(ns, "ip", "tuntap", "add", "dev", name, "mode", "tap", "vnet_hdr"),
                   check=True)
    configure(ns, name, host_ip)


def configure(ns, name, host_ip):
    subprocess.run(ns_cmd(ns, "ip", "addr", "add", f"{host_ip}/24", "dev", name), check=True)
    subprocess.run(ns_cmd(ns, "ip", "link", "set", name, "up"), check=True)


def open_tap(ns, name, host_ip, vnet_hdr):
    """Opens a tap as a manager would and moves it into the namespace;
    returns the descriptor (the tap lives as long as it is open)."""
    IFF_TAP, IFF_NO_PI, IFF_VNET_HDR, TUNSETIFF = 0x0002, 0x1000, 0x4000, 0x400454ca
    flags = IFF_TAP | IFF_NO_PI | (IFF_VNET_HDR if vnet_hdr else 0)
    fd = os.open("/dev/net/tun", os.O_RDWR)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", name.encode(), flags))
    subprocess.run(["ip", "link", "set", name, "netns", ns], check=True)
    configure(ns, name, host_ip)
    return fd


def guest_setup(*nics):
    """Shell commands bringing up (ifname, address) pairs."""
    return " && ".join(f"ip link set {ifname} up && ip addr add {addr}/24 dev {ifname}"
                       for ifname, addr in nics)


def transfer_command(nbytes):
    """The guest side of PEER: ping, send, receive; MD5 sums on markers."""
    return (f"{guest_setup(('eth0', GUEST_IP))}; "
            "echo NET-MAC=$(cat /sys/class/net/eth0/address); "
            "echo NET-FEATURES=$(cat /sys/class/net/eth0/device/features); "
            f"ping -c 3 -W 10 {HOST_IP} >/dev/null && echo NET-PING=ok; "
            f"head -c {nbytes} /dev/urandom > /tmp/out; "
            "echo NET-SENT=$(md5sum < /tmp/out | cut -d' ' -f1); "
            f"timeout 300 nc {HOST_IP} 5001 < /tmp/out; "
            f"echo NET-GOT=$(timeout 300 nc {HOST_IP} 5002 | md5sum | cut -d' ' -f1); "
            "cd /sys/class/net/eth0/statistics && "
            "echo NET-RX-ERRORS=$(cat rx_length_errors rx_frame_errors rx_dropped)")


def start_peer(ns, tap, nbytes):
    peer = subprocess.Popen(ns_cmd(ns, "/usr/bin/python3", "-c", PEER, HOST_IP, GUEST_IP,
                                   str(nbytes), tap),
                            stdout=subprocess.PIPE, text=True)
    assert peer.stdout.readline().strip() == "PEER-READY"
    return peer


def peer_report(peer, vm):
    """The peer's KEY value... lines, once it finished."""
    try:
        out, _ = peer.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        peer.kill()
        out, _ = peer.communicate()
    assert peer.returncode == 0, (f"peer: {out}\n--- console ---\n{vm.output()[-3000:]}"
                                  f"\n--- stderr ---\n{vm.stderr()}")
    return {line.split()[0]: line.split()[1:] for line in out.splitlines() if line}


def run_transfer(run_vmm, ns, tap, nbytes, vmm_args, **kw):
    peer = start_peer(ns, tap, nbytes)
    try:
        vm = run_vmm(command=transfer_command(nbytes), extra_args=vmm_args, **kw)
        vm.wait_for("DUVISOR-CMD-EXIT=", timeout=600)
        assert vm.wait_exit() == 0, vm.stderr()
        report = peer_report(peer, vm)
    finally:
        peer.kill()
        peer.wait()
    # The data crossed intact both ways, and ICMP both ways.
    assert vm.value("NET-PING") == "ok"
    assert report["PEER-GOT"] == [str(nbytes), vm.value("NET-SENT")]
    assert report["PEER-SENT"][0] == str(nbytes)
    assert vm.value("NET-GOT") == report["PEER-SENT"][1]
    assert report["PEER-PING"] == ["ok"]
    # The guest's driver found every received frame well formed.
    assert vm.value("NET-RX-ERRORS").split() == ["0", "0", "0"]
    return vm, [int(x) for x in report["PEER-FRAMES"]]


def features(vm):
    bits = vm.value("NET-FEATURES")
    return {i for i, c in enumerate(bits) if c == "1"}


def test_tcp_both_ways_with_offloads(netns, run_vmm):
    add_tap(netns, "dvtap0", HOST_IP)
    mac = "52:54:00:d0:0d:01"
    # A tap by name is looked up in the VMM's own namespace.
    vm, (from_guest, to_guest) = run_transfer(run_vmm, netns, "dvtap0", BIG,
                                              ["--net", f"tap=dvtap0,mac={mac}"],
                                              wrapper=ns_cmd(netns))
    assert vm.value("NET-MAC") == mac
    negotiated = features(vm)
    assert {F_MAC, F_STATUS, F_MRG_RXBUF, *OFFLOADS} <= negotiated, negotiated
    # Segmentation offload at work: frames longer than Ethernet's crossed
    # the tap in both directions (the kernel segments them on the wire).
    assert from_guest > ETH_FRAME_MAX and to_guest > ETH_FRAME_MAX, (from_guest, to_guest)


@pytest.mark.parametrize("vnet_hdr", [True, False], ids=["vnet-hdr", "plain"])
def test_tap_handed_in_as_fd(netns, run_vmm, vnet_hdr):
    fd = open_tap(netns, "dvfd0", HOST_IP, vnet_hdr)
    # As a manager starts it: the tap's only way in is the descriptor, and
    # the data path runs under the seccomp allowlist.
    try:
        vm, (from_guest, to_guest) = run_transfer(
            run_vmm, netns, "dvfd0", MIB, ["--net", f"fd={fd}", "--sandbox", "on"],
            pass_fds=(fd,))
    finally:
        os.close(fd)
    negotiated = features(vm)
    assert F_MAC in negotiated and F_MRG_RXBUF in negotiated
    if vnet_hdr:
        assert set(OFFLOADS) <= negotiated, negotiated
    else:
        # Without the tap's header there is nothing to carry offloads.
        assert not set(OFFLOADS) & negotiated, negotiated
        assert max(from_guest, to_guest) <= ETH_FRAME_MAX, (from_guest, to_guest)
        assert "no virtio-net header" in vm.stderr()


def test_two_nics_in_order(netns, run_vmm):
    nics = [("dvtapa", "10.0.2.1", "10.0.2.15", "52:54:00:d0:0d:0a"),
            ("dvtapb", "10.0.3.1", "10.0.3.15", "52:54:00:d0:0d:0b")]
    args = []
    for tap, host_ip, _, mac in nics:
        add_tap(netns, tap, host_ip)
        args += ["--net", f"tap={tap},mac={mac}"]
    cmd = (guest_setup(("eth0", nics[0][2]), ("eth1", nics[1][2])) + "; " +
           "; ".join(f"echo NET-MAC{i}=$(cat /sys/class/net/eth{i}/address); "
                     f"ping -c 2 -W 10 {host_ip} >/dev/null && echo NET-PING{i}=ok"
                     for i, (_, host_ip, _, _) in enumerate(nics)))
    vm = run_vmm(command=cmd, extra_args=args, wrapper=ns_cmd(netns))
    vm.wait_for("DUVISOR-CMD-EXIT=", timeout=300)
    assert vm.wait_exit() == 0, vm.stderr()
    for i, (tap, _, _, mac) in enumerate(nics):
        assert vm.value(f"NET-MAC{i}") == mac
        assert vm.value(f"NET-PING{i}") == "ok"
