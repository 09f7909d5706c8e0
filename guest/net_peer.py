#!/usr/bin/env python3
"""A hostile far end for the test guest's IP stack, for guest/check-qemu.sh.

QEMU's `-netdev socket,connect=127.0.0.1:PORT` carries the guest's frames
over TCP, each behind a 4-byte big-endian length. This script listens on
a free port of 127.0.0.1 (written to PORTFILE once it listens), plays
10.0.2.2 for the guest's net-udp-echo (answers ARP, echoes UDP), and
around every echo sends the guest malformed or foreign frames it must
drop: short frames, bad IPv4 header lengths and checksums, fragments,
UDP lengths past the packet, bad UDP and ICMP checksums, other ports and
addresses, a frame longer than 1514 bytes. It also asks the guest for its
MAC (ARP request) and pings it, and checks both answers. When QEMU closes
the connection it prints one line:

    peer: echoed=N junk=N arp_reply=0|1 echo_reply=0|1

Usage: net_peer.py PORTFILE
"""
import os
import socket
import struct
import sys

MY_MAC = bytes.fromhex("020000000002")
MY_IP = bytes([10, 0, 2, 2])
GUEST_IP = bytes([10, 0, 2, 15])


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def ipv4(src, dst, proto, payload, flags=0x4000, ihl=5, tot=None, bad_csum=False):
    tot = 20 + len(payload) if tot is None else tot
    h = struct.pack("!BBHHHBBH4s4s", 0x40 | ihl, 0, tot, 1, flags, 64, proto, 0, src, dst)
    c = csum(h) ^ (0x5555 if bad_csum else 0)
    return h[:10] + struct.pack("!H", c) + h[12:] + payload


def udp(src, dst, sport, dport, data, ulen=None, bad_csum=False):
    ulen = 8 + len(data) if ulen is None else ulen
    u = struct.pack("!HHHH", sport, dport, ulen, 0) + data
    pseudo = src + dst + struct.pack("!BBH", 0, 17, 8 + len(data))
    c = csum(pseudo + u) or 0xFFFF
    if bad_csum:
        c ^= 0x00FF
    return u[:6] + struct.pack("!H", c) + u[8:]


def icmp(typ, ident, seq, data, bad_csum=False):
    m = struct.pack("!BBHHH", typ, 0, 0, ident, seq) + data
    c = csum(m) ^ (0x0F0F if bad_csum else 0)
    return m[:2] + struct.pack("!H", c) + m[4:]


def eth(dst, typ, payload):
    return dst + MY_MAC + struct.pack("!H", typ) + payload


def junk_frames(gmac, sport):
    """Frames the guest's stack must drop, each for its own reason."""
    ok_udp = udp(MY_IP, GUEST_IP, 7, sport, b"junk")
    return [
        gmac + MY_MAC,                                            # 12 bytes
        eth(gmac, 0x0806, b"\0\1\x08\0\6\4"),                     # short ARP
        eth(gmac, 0x86DD, b"\x60" + b"\0" * 60),                  # IPv6
        eth(gmac, 0x0800, b"\x45\0"),                             # 2-byte IPv4
        eth(gmac, 0x0800, ipv4(MY_IP, GUEST_IP, 17, ok_udp, ihl=4)),
        eth(gmac, 0x0800, ipv4(MY_IP, GUEST_IP, 17, ok_udp, ihl=15)),
        eth(gmac, 0x0800, ipv4(MY_IP, GUEST_IP, 17, ok_udp, tot=1400)),
        eth(gmac, 0x0800, ipv4(MY_IP, GUEST_IP, 17, ok_udp, tot=19)),
        eth(gmac, 0x0800, ipv4(MY_IP, GUEST_IP, 17, ok_udp, bad_csum=True)),
        eth(gmac, 0x0800, ipv4(MY_IP, GUEST_IP, 17, ok_udp, flags=0x2000)),
        eth(gmac, 0x0800, ipv4(MY_IP, GUEST_IP, 17, ok_udp, flags=0x0010)),
        eth(gmac, 0x0800, ipv4(MY_IP, GUEST_IP, 17,
                               udp(MY_IP, GUEST_IP, 7, sport, b"junk", ulen=200))),
        eth(gmac, 0x0800, ipv4(MY_IP, GUEST_IP, 17,
                               udp(MY_IP, GUEST_IP, 7, sport, b"junk", ulen=5))),
        eth(gmac, 0x0800, ipv4(MY_IP, GUEST_IP, 17,
                               udp(MY_IP, GUEST_IP, 7, sport, b"junk", bad_csum=True))),
        eth(gmac, 0x0800, ipv4(MY_IP, GUEST_IP, 17, b"\0\7\0")),   # 3-byte UDP
        eth(gmac, 0x0800, ipv4(MY_IP, GUEST_IP, 17,
                               udp(MY_IP, GUEST_IP, 7, sport + 1, b"other port"))),
        eth(gmac, 0x0800, ipv4(MY_IP, bytes([10, 0, 2, 99]), 17,
                               udp(MY_IP, bytes([10, 0, 2, 99]), 7, sport, b"not you"))),
        eth(bytes.fromhex("020000000099"), 0x0800, ipv4(MY_IP, GUEST_IP, 17, ok_udp)),
        eth(gmac, 0x0800, ipv4(MY_IP, GUEST_IP, 1, icmp(0, 1, 1, b"x", bad_csum=True))),
        eth(gmac, 0x0800, ipv4(MY_IP, GUEST_IP, 1, b"\0\0\xff")),  # 3-byte ICMP
        eth(gmac, 0x0800, ipv4(MY_IP, GUEST_IP, 17, ok_udp)) + b"\0" * 1600,  # > 1514
    ]


def main():
    lst = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    lst.bind(("127.0.0.1", 0))
    lst.listen(1)
    lst.settimeout(60)
    with open(sys.argv[1] + ".tmp", "w") as f:
        f.write("%d\n" % lst.getsockname()[1])
    os.rename(sys.argv[1] + ".tmp", sys.argv[1])
    conn, _ = lst.accept()
    conn.settimeout(60)
    rfile = conn.makefile("rb")

    def send(frame):
        conn.sendall(struct.pack("!I", len(frame)) + frame)

    echoed = junk = arp_reply = echo_reply = 0
    ping_data = bytes(range(48))
    while True:
        hdr = rfile.read(4)
        if len(hdr) < 4:
            break
        (n,) = struct.unpack("!I", hdr)
        f = rfile.read(n)
        if len(f) < n or n < 14:
            break
        typ = struct.unpack("!H", f[12:14])[0]
        src_mac = f[6:12]
        if typ == 0x0806 and len(f) >= 42:
            op = struct.unpack("!H", f[20:22])[0]
            if op == 1 and f[38:42] == MY_IP:        # who has 10.0.2.2?
                send(eth(src_mac, 0x0806, struct.pack("!HHBBH", 1, 0x0800, 6, 4, 2) +
                         MY_MAC + MY_IP + src_mac + f[28:32]))
            elif op == 2 and f[28:32] == GUEST_IP and f[32:38] == MY_MAC:
                arp_reply = 1
            continue
        if typ != 0x0800 or len(f) < 34:
            continue
        ip = f[14:]
        ihl = (ip[0] & 15) * 4
        tot = struct.unpack("!H", ip[2:4])[0]
        proto, src, dst = ip[9], ip[12:16], ip[16:20]
        body = ip[ihl:tot]
        if proto == 1 and body[:1] == b"\0" and body[8:] == ping_data:
            echo_reply = 1
            continue
        if proto != 17 or dst != MY_IP or len(body) < 8:
            continue
        sport, dport = struct.unpack("!HH", body[:4])
        data = body[8:]
        if echoed == 0:
            # The guest knows 10.0.2.2 now: ask for its MAC, ping it.
            send(eth(b"\xff" * 6, 0x0806, struct.pack("!HHBBH", 1, 0x0800, 6, 4, 1) +
                     MY_MAC + MY_IP + b"\0" * 6 + GUEST_IP))
            send(eth(src_mac, 0x0800,
                     ipv4(MY_IP, GUEST_IP, 1, icmp(8, 0x77, 1, ping_data))))
        frames = junk_frames(src_mac, sport)
        send(frames[echoed % len(frames)])
        junk += 1
        send(eth(src_mac, 0x0800,
                 ipv4(MY_IP, src, 17, udp(MY_IP, src, dport, sport, data))))
        echoed += 1
    print("peer: echoed=%d junk=%d arp_reply=%d echo_reply=%d" %
          (echoed, junk, arp_reply, echo_reply), flush=True)


if __name__ == "__main__":
    main()
