#!/usr/bin/env python3
"""Check a disk image after the test guest's blk-verify workload.

The guest writes BLOCKS 4 KiB blocks (8 sectors each). Block i (0-based)
starts at sector  i * (nblk - 1) // (BLOCKS - 1) * 8  where
nblk = capacity // 8 and capacity = image size // 512 (block 0 only when
BLOCKS is 1): the first and the last whole 4 KiB block of the disk and
evenly spread ones between. In every written sector s, 64-bit
little-endian word w (0..63) is  s ^ SEED ^ (w * 0x9E3779B97F4A7C15) mod 2**64.

usage: blk_check.py IMAGE [BLOCKS [SEED]]   (defaults 16, 0xC0FFEE, the
guest's defaults). Exit 0 if every block matches, 1 otherwise.
"""
import os
import struct
import sys

GOLDEN = 0x9E3779B97F4A7C15
MASK = (1 << 64) - 1


def main():
    if len(sys.argv) < 2:
        print(__doc__)
        return 2
    image = sys.argv[1]
    blocks = int(sys.argv[2], 0) if len(sys.argv) > 2 else 16
    seed = int(sys.argv[3], 0) if len(sys.argv) > 3 else 0xC0FFEE
    capacity = os.path.getsize(image) // 512
    nblk = capacity // 8
    if blocks < 1 or nblk < blocks:
        print(f"blk_check: {blocks} blocks do not fit in {capacity} sectors")
        return 1
    bad = 0
    with open(image, "rb") as f:
        for i in range(blocks):
            first = 0 if blocks < 2 else i * (nblk - 1) // (blocks - 1) * 8
            f.seek(first * 512)
            data = f.read(8 * 512)
            for s in range(8):
                sec = first + s
                words = struct.unpack_from("<64Q", data, s * 512)
                want = [(sec ^ seed ^ (w * GOLDEN)) & MASK for w in range(64)]
                if list(words) != want:
                    w = next(k for k in range(64) if words[k] != want[k])
                    if bad < 8:
                            print(f"blk_check: sector {sec} word {w}: "
                              f"{words[w]:#x} != {want[w]:#x}")
                    bad += 1
    print(f"blk_check: {image}: {blocks} blocks, {blocks * 8} sectors, "
          f"capacity {capacity}: {'ok' if not bad else f'{bad} bad sectors'}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
