#!/usr/bin/env python3
"""A tiny authoritative DNS server for the tests: answers A queries for
NAME.test with 192.0.2.N where N is len(NAME), or with the address a
NAME.test=A.B.C.D argument gives; NXDOMAIN for anything else (and AAAA
queries get no records); prints one line per query on stdout. Usage:
dns_server.py ADDR PORT [NAME.test=A.B.C.D ...] (an IPv6 ADDR listens on
IPv6)."""
import socket
import sys


FIXED = {}


def answer(q):
    if len(q) < 12:
        return None
    off, labels = 12, []
    while off < len(q) and q[off]:
        n = q[off]
        labels.append(q[off + 1:off + 1 + n].decode('ascii', 'replace'))
        off += 1 + n
    off += 1
    if off + 4 > len(q):
        return None
    qtype = q[off] << 8 | q[off + 1]
    question = q[12:off + 4]
    name = '.'.join(labels)
    print(f'query {name} type {qtype}', flush=True)
    head = bytearray(q[:12])
    head[2] = 0x80 | (q[2] & 1)    # QR, RD copied
    head[3] = 0x80                 # RA
    head[6:12] = b'\0' * 6
    if not name.endswith('.test'):
        head[3] |= 3               # NXDOMAIN
        return bytes(head) + question
    if qtype != 1:
        return bytes(head) + question   # the name exists, no such record
    head[7] = 1                    # ANCOUNT
    addr = FIXED.get(name, bytes([192, 0, 2, len(labels[0]) & 255]))
    rr = b'\xc0\x0c' + b'\x00\x01\x00\x01' + b'\x00\x00\x00\x3c' + \
        b'\x00\x04' + addr
    return bytes(head) + question + rr


def main():
    addr, port = sys.argv[1], int(sys.argv[2])
    for arg in sys.argv[3:]:
        name, ip = arg.split('=')
        FIXED[name] = socket.inet_aton(ip)
    fam = socket.AF_INET6 if ':' in addr else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.bind((addr, port))
    print('ready', flush=True)
    while True:
        q, peer = s.recvfrom(4096)
        r = answer(q)
        if r:
            s.sendto(r, peer)


main()
