#!/usr/bin/env python3
"""Write the binary seed inputs of the virtq, devices, images and net fuzz
targets (tests/fuzz/corpus/TARGET/seed-*): well-formed requests that the
fuzzer then mutates. The encodings are those documented at the top of
fuzz_virtq.c, fuzz_devices.c, fuzz_images.c and fuzz_net.c. Run from the
top of the tree."""
import os
import struct

def u8(v): return struct.pack('<B', v & 0xff)
def u16(v): return struct.pack('<H', v & 0xffff)
def u32(v): return struct.pack('<I', v & 0xffffffff)
def u64(v): return struct.pack('<Q', v)

# ---- virtq ----
BUF, TABLE = 0, 1          # pick_addr edge indexes

def addr(edge, off): return u8(edge) + u16(off)
def length(n):
    return u8(n // 4) if n % 4 == 0 and n // 4 < 0xf0 else u8(0xf0) + u32(n)

def desc(q, i, edge, off, n, flags, nxt):
    return u8(0) + u8(q) + u16(i) + addr(edge, off) + length(n) + u16(flags) + u16(nxt)

def idesc(i, edge, off, n, flags, nxt):
    return u8(5) + u8(0) + u8(i) + addr(edge, off) + length(n) + u16(flags) + u16(nxt)

def put(q, off, data):
    return u8(3) + u8(q) + u16(off) + u8(len(data)) + data

def avail(q, head): return u8(1) + u8(q) + u16(head)
def kick(q): return u8(4) + u8(q)
NEXT, WRITE, INDIRECT = 1, 2, 4

def blk_req(dev, typ, sector, dlen, dwrite, q=0):
    s = u8(dev) + u8(0) + u8(3)
    s += put(q, 0, u32(typ) + u32(0) + u64(sector))
    s += desc(q, 0, BUF, 0, 16, NEXT, 1)
    if dlen:
        s += desc(q, 1, BUF, 0x1000, dlen, NEXT | (WRITE if dwrite else 0), 2)
        s += desc(q, 2, BUF, 0x3000, 1, WRITE, 0)
    else:
        s += desc(q, 1, BUF, 0x3000, 1, WRITE, 0)
    return s + avail(q, 0) + kick(q)

def write(d, name, data):
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, 'seed-' + name), 'wb') as f:
        f.write(data)

vq = 'tests/fuzz/corpus/virtq'
for dev, eng in ((0, 'sync'), (1, 'uring')):
    write(vq, eng + '-read', blk_req(dev, 0, 0, 512, True))
    write(vq, eng + '-write', blk_req(dev, 1, 8, 1024, False, q=1))
    write(vq, eng + '-flush', blk_req(dev, 4, 0, 0, False))
    write(vq, eng + '-getid', blk_req(dev, 8, 0, 20, True))
    write(vq, eng + '-discard', blk_req(dev, 11, 0, 16, False))
    write(vq, eng + '-zeroes', blk_req(dev, 13, 0, 16, False))
    # the same read through an indirect table
    s = u8(dev) + u8(0) + u8(3) + put(0, 0, u32(0) + u32(0) + u64(1))
    s += idesc(0, BUF, 0, 16, NEXT, 1) + idesc(1, BUF, 0x1000, 512, NEXT | WRITE, 2)
    s += idesc(2, BUF, 0x3000, 1, WRITE, 0)
    s += desc(0, 0, TABLE, 0, 48, INDIRECT, 0) + avail(0, 0) + kick(0)
    write(vq, eng + '-indirect', s)
# console: transmit on queue 1, receive on queue 0 with host input
s = u8(2) + u8(0) + u8(3) + put(1, 0, b'hello, fuzzer\n')
s += desc(1, 0, BUF, 0, 14, 0, 0) + avail(1, 0) + kick(1)
write(vq, 'console-tx', s)
s = u8(2) + u8(0) + u8(3) + desc(0, 0, BUF, 0x100, 64, WRITE, 0) + avail(0, 0)
s += kick(0) + u8(7) + u8(0) + u8(5) + b'input'
write(vq, 'console-rx', s)
# entropy: one writable buffer, then a chain of two
s = u8(3) + u8(0) + u8(3) + desc(0, 0, BUF, 0, 64, WRITE, 0) + avail(0, 0) + kick(0)
s += desc(0, 1, BUF, 0x100, 16, WRITE | NEXT, 2) + desc(0, 2, BUF, 0x200, 16, WRITE, 0)
s += avail(0, 1) + kick(0)
write(vq, 'rng', s)
# control plane: status and config accesses
write(vq, 'config', u8(0) + u8(0) + u8(3) + u8(8) + u8(0) + u8(1) + u8(0) + u8(2) +
      u8(8) + u8(0) + u8(0) + u8(0) + u8(0) + u8(8) + u8(0) + u8(3) + u8(0) + u8(0))

# ---- devices ----
def acc(kind, size, write):
    return u8(kind | ({1: 0, 2: 1, 4: 2, 8: 3}[size] << 3) | (0x20 if write else 0))

def region(which, off, size=4, write=False, v=0):
    return acc(0, size, write) + u8(which) + u16(off) + (u64(v) if write else b'')

def port(p, size=1, write=False, v=0):
    return acc(2, size, write) + u16(p) + (u64(v) if write else b'')

def mmio(a, size=4, write=False, v=0):
    return acc(3, size, write) + u64(a) + (u64(v) if write else b'')

def conf1(devfn, reg, size=4, write=False, v=0):
    return acc(4, size, write) + (u64(v) if write else b'') + u8(devfn) + u8(reg)

def ecam(devfn, reg, size=4, write=False, v=0):
    return acc(5, size, write) + u8(devfn) + u16(reg) + (u64(v) if write else b'')

dv = 'tests/fuzz/corpus/devices'
# every placed range, its first registers
write(dv, 'regions', b''.join(region(w, o) for w in range(40) for o in (0, 4, 0x10, 0x70)))
# 16550A: divisor latch, line control, a byte out, status
write(dv, 'uart', port(0x3fb, write=True, v=0x80) + port(0x3f8, write=True, v=1) +
      port(0x3fb, write=True, v=3) + port(0x3f9, write=True, v=0xf) +
      port(0x3f8, write=True, v=0x41) + port(0x3fd) + port(0x3fa) + port(0x3fe))
# PL011: data, flags, interrupt mask and clear
write(dv, 'pl011', mmio(0x9000000, write=True, v=0x41) + mmio(0x9000018) +
      mmio(0x9000038, write=True, v=0x7ff) + mmio(0x9000044, write=True, v=0x7ff) +
      mmio(0x9000fe0))
# RTC: every CMOS register
write(dv, 'rtc', b''.join(port(0x70, write=True, v=r) + port(0x71) for r in range(0, 0x40, 3)) +
      port(0x70, write=True, v=0xb) + port(0x71, write=True, v=0x42))
# i8042: read command byte, self test, write to the aux port, data
write(dv, 'i8042', port(0x64, write=True, v=0x20) + port(0x60) + port(0x64, write=True, v=0xaa) +
      port(0x60) + port(0x64, write=True, v=0x60) + port(0x60, write=True, v=0x47) +
      port(0x64, write=True, v=0xd4) + port(0x60, write=True, v=0xff) + port(0x64) + port(0x60))
# PCI: ids of every slot, BAR sizing, command, capabilities; the same by ECAM
s = b''.join(conf1(d << 3, 0) for d in range(8))
for d in range(1, 5):
    s += conf1(d << 3, 0x10 + 4 * 4, write=True, v=0xffffffff) + conf1(d << 3, 0x10 + 16)
    s += conf1(d << 3, 0x04, size=2, write=True, v=0x6) + conf1(d << 3, 0x34, size=1)
    s += b''.join(conf1(d << 3, r) for r in range(0x40, 0x100, 4))
write(dv, 'pci-conf1', s)
write(dv, 'pci-ecam', b''.join(ecam(d << 3, r) for d in range(5) for r in (0, 8, 0x10, 0x34, 0x40, 0x50)) +
      ecam(1 << 3, 0x10, write=True, v=0xffffffff) + ecam(1 << 3, 0x10) + port(0xcf9, write=True, v=2))
# virtio-mmio at 0xfeb10000: identify, negotiate, one queue, notify
b0 = 0xfeb10000
s = mmio(b0) + mmio(b0 + 4) + mmio(b0 + 8) + mmio(b0 + 0x70, write=True, v=3)
s += mmio(b0 + 0x14, write=True, v=1) + mmio(b0 + 0x10) + mmio(b0 + 0x24, write=True, v=1)
s += mmio(b0 + 0x20, write=True, v=1) + mmio(b0 + 0x70, write=True, v=0xb)
s += mmio(b0 + 0x30, write=True, v=0) + mmio(b0 + 0x34) + mmio(b0 + 0x38, write=True, v=8)
s += mmio(b0 + 0x80, write=True, v=0x100000) + mmio(b0 + 0x90, write=True, v=0x101000)
s += mmio(b0 + 0xa0, write=True, v=0x102000) + mmio(b0 + 0x44, write=True, v=1)
s += mmio(b0 + 0x70, write=True, v=0xf) + mmio(b0 + 0x50, write=True, v=0) + u8(7)
s += mmio(b0 + 0x60) + mmio(b0 + 0x64, write=True, v=1) + mmio(b0 + 0x100, size=8)
write(dv, 'virtio-mmio', s)
# LSI 53C895A at 00:04.0 (the first free slot): I/O BAR at 0xc100, then a SCRIPTS INQUIRY to
# target 0 (select with ATN, IDENTIFY, CDB, data in, status, message in,
# INT) from RAM at 0x1000, started by a DSP write; ISTAT, DSTAT, DSPS;
# then target 2's READ CAPACITY; then a jump to itself (the budget).
def ram(a, data): return u8(6) + u32(a) + u8(len(data)) + data
def lsi_prog(cdb, dlen):
    p = [0x41000000 | 0 << 16, 0x1100, 0x0e000001, 0x1200, 0x0a000000 | len(cdb), 0x1210,
         0x09000000 | dlen, 0x1300, 0x0b000001, 0x1400, 0x0f000001, 0x1401, 0x98080000, 1]
    return b''.join(u32(w) for w in p)
io = 0xc100
s = conf1(4 << 3, 0x10, write=True, v=io) + conf1(4 << 3, 0x04, size=2, write=True, v=7)
s += port(io + 0x04, write=True, v=0x47)   # SCID: ID 7, as the drivers set it
s += ram(0x1200, u8(0x80)) + ram(0x1210, bytes([0x12, 0, 0, 0, 36, 0]))
s += ram(0x1000, lsi_prog(bytes([0x12, 0, 0, 0, 36, 0]), 36))
s += port(io + 0x2c, size=4, write=True, v=0x1000) + u8(7)
s += port(io + 0x14) + port(io + 0x0c) + port(io + 0x30, size=4)
prog = bytearray(lsi_prog(bytes([0x25] + [0] * 9), 8))
prog[0:4] = u32(0x41000000 | 2 << 16)
s += ram(0x1210, bytes([0x25] + [0] * 9)) + ram(0x1000, bytes(prog))
s += port(io + 0x2c, size=4, write=True, v=0x1000) + u8(7) + port(io + 0x14) + port(io + 0x0c)
s += ram(0x1000, u32(0x80080000) + u32(0x1000)) + port(io + 0x2c, size=4, write=True, v=0x1000)
s += port(io + 0x14) + port(io + 0x0c)
write(dv, 'lsi', s)

# ---- images: 7-byte header (flags, le32 address, le16 initrd size) ----
def hdr(flags, addr=0, rd=0): return u8(flags) + u32(addr) + u16(rd)

def elf(is64, notes=b'', entry=0x100000, machine=None):
    code = bytes(range(256))
    if is64:
        ehsz, phsz = 64, 56
    else:
        ehsz, phsz = 52, 32
    nph = 2 if notes else 1
    code_off = ehsz + nph * phsz
    note_off = code_off + len(code)
    machine = machine or (62 if is64 else 3)
    ident = b'\x7fELF' + u8(2 if is64 else 1) + u8(1) + u8(1) + bytes(9)
    if is64:
        eh = ident + u16(2) + u16(machine) + u32(1) + u64(entry) + u64(ehsz) + u64(0)
        eh += u32(0) + u16(ehsz) + u16(phsz) + u16(nph) + u16(64) + u16(0) + u16(0)
        ph = u32(1) + u32(7) + u64(code_off) + u64(0xffffffff80100000 if machine == 62 and not notes else 0x100000)
        ph += u64(0x100000) + u64(len(code)) + u64(0x2000) + u64(0x1000)
        if notes:
            ph += u32(4) + u32(4) + u64(note_off) + u64(0) + u64(0) + u64(len(notes)) + u64(len(notes)) + u64(4)
    else:
        eh = ident + u16(2) + u16(machine) + u32(1) + u32(entry) + u32(ehsz) + u32(0)
        eh += u32(0) + u16(ehsz) + u16(phsz) + u16(nph) + u16(40) + u16(0) + u16(0)
        ph = u32(1) + u32(code_off) + u32(0x100000) + u32(0x100000) + u32(len(code)) + u32(0x2000) + u32(7) + u32(0x1000)
        if notes:
            ph += u32(4) + u32(note_off) + u32(0) + u32(0) + u32(len(notes)) + u32(len(notes)) + u32(4) + u32(4)
    return eh + ph + code + notes

def xen_note(entry, descsz=4):
    desc = u32(entry) if descsz == 4 else u64(entry)
    return u32(4) + u32(descsz) + u32(18) + b'Xen\x00' + desc

def mb_header(flags, addrs=None):
    h = u32(0x1BADB002) + u32(flags) + u32((-(0x1BADB002 + flags)) & 0xffffffff)
    if addrs:
        h += b''.join(u32(a) for a in addrs)
    return h

im = 'tests/fuzz/corpus/images'
write(im, 'pvh64', hdr(3, rd=100) + elf(True, xen_note(0x100010)))
write(im, 'pvh32', hdr(2) + elf(False, xen_note(0x100010)))
write(im, 'pvh64-note8', hdr(0) + elf(True, xen_note(0x100010, 8)))
write(im, 'vmlinux', hdr(0x13, rd=64) + elf(True, entry=0xffffffff80100000))
write(im, 'elf-multiboot', hdr(1, rd=8) + elf(False) + mb_header(3))
# multiboot by address: the header at 0 says where the file goes
mb = mb_header(0x10003, [0x100000, 0x100000, 0, 0, 0x100020]) + bytes(range(200))
write(im, 'multiboot-addr', hdr(0x1b, rd=4) + mb)
# a bzImage: one setup sector after the boot sector, a 4 KiB kernel
bz = bytearray(2 * 512 + 4096)
bz[0x1f1] = 1                                      # setup_sects
bz[0x200:0x202] = b'\xeb\x6a'                       # jump: header to 0x26c
bz[0x1f4:0x1f8] = u32(4096 // 16)                  # syssize
bz[0x1fe:0x200] = u16(0xAA55)
bz[0x202:0x206] = u32(0x53726448)                  # "HdrS"
bz[0x206:0x208] = u16(0x020f)
bz[0x211] = 1 | 0x80                               # LOADED_HIGH, CAN_USE_HEAP
bz[0x22c:0x230] = u32(0x7fffffff)                  # initrd_addr_max
bz[0x230:0x234] = u32(0x200000)                    # kernel_alignment
bz[0x234] = 1                                      # relocatable
bz[0x236:0x238] = u16(1)                           # XLF_KERNEL_64
bz[0x238:0x23c] = u32(2047)                        # cmdline_size
bz[0x260:0x264] = u32(0x100000)                    # init_size
write(im, 'bzimage', hdr(0x53, rd=256) + bytes(bz))
write(im, 'bzimage-high', hdr(0x83, rd=256) + bytes(bz))
write(im, 'raw', hdr(0x16, 0x100000) + bytes(range(256)) * 4)
write(im, 'raw-low', hdr(0x04, 0x7c00) + bytes(512))

# ---- net (fuzz_net.c): lengths are a byte * 8, ops 7-13 drive the backend ----
def nlength(n):
    return u8(n // 8) if n % 8 == 0 and n // 8 < 0xf0 else u8(0xf0) + u32(n)

def ndesc(q, i, edge, off, n, flags, nxt):
    return u8(0) + u8(q) + u16(i) + addr(edge, off) + nlength(n) + u16(flags) + u16(nxt)

def nput(off, data):   # the data window, 63 bytes per op
    return b''.join(put(0, off + k, data[k:k + 63]) for k in range(0, len(data), 63))

def nframe(pair, kind, sel, hdr=b'', data=b''):
    return u8(7) + u8(0) + u8(pair) + u8(kind) + sel + hdr + u8(len(data)) + data

def nethdr(flags=0, gso=0, hlen=0, gsz=0, cs=0, co=0):
    return struct.pack('<BBHHHHH', flags, gso, hlen, gsz, cs, co, 0)

def rxbufs(q, n, size, base=0x1000):
    s = b''.join(ndesc(q, i, BUF, base + i * size, size, WRITE, 0) + avail(q, i) for i in range(n))
    return s + kick(q)

def arp(tip=3):
    return (b'\xff' * 6 + b'\x02\x00\x00\x00\x00\x01' + b'\x08\x06' +
            b'\x00\x01\x08\x00\x06\x04\x00\x01' + b'\x02\x00\x00\x00\x00\x01' +
            bytes([10, 0, 2, 15]) + bytes(6) + bytes([10, 0, 2, tip]) + bytes(18))

def ctrl(q, cmd):
    return (nput(0x100, cmd) + put(0, 0x200, b'\xee') +
            ndesc(q, 0, BUF, 0x100, len(cmd), NEXT, 1) + ndesc(q, 1, BUF, 0x200, 1, WRITE, 0) +
            avail(q, 0) + kick(q))

nt = 'tests/fuzz/corpus/net'
USER, TAP = u8(0) + u8(0) + u8(6), u8(1) + u8(0) + u8(6)
write(nt, 'user-tx', USER + nput(0, nethdr() + arp()) + ndesc(1, 0, BUF, 0, 72, 0, 0) +
      avail(1, 0) + kick(1))
write(nt, 'user-tx-split', USER + nput(0, nethdr() + arp()) + ndesc(1, 0, BUF, 0, 6, NEXT, 1) +
      ndesc(1, 1, BUF, 6, 6, NEXT, 2) + ndesc(1, 2, BUF, 12, 60, 0, 0) + avail(1, 0) + kick(1))
write(nt, 'user-rx', USER + rxbufs(0, 4, 2048) + nframe(0, 0, u8(8)) + nframe(0, 8, u8(188)))
write(nt, 'user-rx-mrg', USER + rxbufs(0, 16, 64) + nframe(0, 0, u8(187)) + nframe(0, 2, u8(8)))
write(nt, 'user-rx-nomrg', u8(0) + u8(1) + u8(6) + rxbufs(0, 4, 8) + nframe(0, 0, u8(8)))
write(nt, 'backlog', USER + u8(11) + u8(0) + u16(300) + u8(0) + rxbufs(0, 64, 128) + kick(0))
write(nt, 'tap-tx-csum', TAP + nput(0, nethdr(1, 0, 0, 0, 34, 6) + arp()) +
      ndesc(1, 0, BUF, 0, 72, 0, 0) + avail(1, 0) + kick(1))
write(nt, 'tap-tx-tso', TAP + nput(0, nethdr(1, 1, 54, 1448, 34, 16) + arp()) +
      ndesc(1, 0, BUF, 0, 12, NEXT, 1) + ndesc(1, 1, BUF, 12, 9000, 0, 0) + avail(1, 0) + kick(1))
write(nt, 'tap-rx-gso', TAP + rxbufs(0, 32, 4096) +
      nframe(0, 1, u8(0xf0) + u32(65000), nethdr(1, 1, 54, 1448, 34, 16)) +
      nframe(1, 1, u8(8), nethdr(2)) + u8(10) + u8(0) + u8(0))
write(nt, 'ctrl-promisc', USER + ctrl(2, b'\x00\x00\x00'))
write(nt, 'ctrl-mac-table', USER + ctrl(2, b'\x01\x00' + u32(1) + b'\x02\x00\x00\x00\x00\x09' +
                                        u32(1) + b'\x01\x00\x5e\x00\x00\x01'))
write(nt, 'ctrl-mac-addr', USER + ctrl(2, b'\x01\x01\x02\x00\x00\x00\x00\x07'))
write(nt, 'ctrl-mq', TAP + ctrl(4, b'\x04\x00' + u16(2)) + ctrl(4, b'\x04\x00' + u16(3)))
write(nt, 'link', USER + u8(9) + u8(0) + u8(0) + u8(9) + u8(0) + u8(1) + u8(8) + u8(0) + u8(1) +
      u8(6) + u8(1))
query = u16(0x3412) + b'\x01\x00' + u16(0x100) + bytes(6) + b'\x07example\x03com\x00' + b'\x00\x01\x00\x01'
for kind, name in ((1, 'dns4'), (2, 'dns6')):
    s = USER + rxbufs(0, 4, 2048)
    s += u8(12) + u8(0) + u8(kind) + u8(0) + u8(len(query) - 12) + u8(len(query)) + query
    s += u8(13) + u8(0) + u8(0x81) + u8(2) + u16(len(query) + 16 - 12) + u8(0)
    write(nt, name, s)
write(nt, 'dns-raw', USER + u8(12) + u8(0) + u8(0) + u8(0) + u8(0) + u16(60) + u8(0))
