#!/usr/bin/env python3
"""The host end of the test guest's net-tcp (guest/net_tcp.c), for
tests/integration/net_tcp.sh and guest/check-qemu.sh.

Usage: net_tcp_server.py tx|rx PORTFILE BYTES

Listens on a free port of 127.0.0.1 (the guest reaches it as 10.0.2.2
through slirp), writes the port to PORTFILE once it listens, and serves
one connection. tx (the guest transmits): reads to EOF, checking every
byte against the pattern. rx: sends BYTES of the pattern, half-closes
and reads to EOF. Then prints

    server: dir=tx|rx bytes=N crc32=XXXXXXXX pattern_ok=0|1

The pattern is the guest's: little-endian 64-bit words
0x5a5a5a5a5a5a5a5a + k * 0x9e3779b1, k = 0, 1, ...; the CRC is zlib's.
"""
import array
import os
import socket
import sys
import zlib

BASE, MUL = 0x5A5A5A5A5A5A5A5A, 0x9E3779B1


def pattern(off, n):
    k0, k1 = off // 8, (off + n + 7) // 8
    w = array.array("Q", range(BASE + k0 * MUL, BASE + k1 * MUL, MUL)).tobytes()
    return w[off % 8:off % 8 + n]


def main():
    mode, portfile, nbytes = sys.argv[1], sys.argv[2], int(sys.argv[3])
    assert sys.byteorder == "little" and mode in ("tx", "rx")
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(1)
    with open(portfile + ".tmp", "w") as f:
        f.write("%d\n" % s.getsockname()[1])
    os.rename(portfile + ".tmp", portfile)
    c, _ = s.accept()
    s.close()
    crc = n = 0
    ok = True
    if mode == "tx":
        while True:
            d = c.recv(1 << 16)
            if not d:
                break
            ok = ok and d == pattern(n, len(d))
            crc = zlib.crc32(d, crc)
            n += len(d)
    else:
        while n < nbytes:
            d = pattern(n, min(1 << 16, nbytes - n))
            c.sendall(d)
            crc = zlib.crc32(d, crc)
            n += len(d)
        c.shutdown(socket.SHUT_WR)
        while c.recv(1 << 16):
            pass
    c.close()
    print("server: dir=%s bytes=%d crc32=%08x pattern_ok=%d" % (mode, n, crc, ok),
          flush=True)


if __name__ == "__main__":
    main()
