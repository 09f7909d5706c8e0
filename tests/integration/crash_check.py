#!/usr/bin/env python3
"""Check a disk image after the test guest's blk-crash workload was killed.

The guest writes generations of 4 KiB blocks to BLOCKS slots (slot i is
sectors 8i..8i+7). Generation g (from 1) writes slots
((g - 1) * BATCH + j) % BLOCKS for j < BATCH, then sends a FLUSH together
with generation g + 1's writes, and prints "FLUSHED gen=g" on COM1 once
that FLUSH completed. Every sector of generation g holds 64 little-endian
64-bit words: MAGIC, sector, g, seed, 59 payload words
sector ^ (g << 32) ^ seed ^ (i * GOLDEN) (i = 4..62), and an FNV-1a
checksum of words 0..62.

The claim checked: let G be the highest "FLUSHED gen=G" line in the
console log (only lines that reached the host count: the guest may have
printed more that never left cvisor). For every slot, the last generation
<= G that wrote it is R. Every sector of the slot must be intact (magic,
sector number, seed, payload, checksum) and hold a generation >= R that
does write this slot; a slot no flushed generation wrote may also be all
zeros. Newer, unflushed generations may or may not have landed, sector by
sector (virtio-blk promises no more than sector atomicity).

usage: crash_check.py IMAGE CONSOLE_LOG SEED BLOCKS BATCH
Exit 0 if the image keeps every promise, 1 otherwise.
"""
import re
import struct
import sys

MAGIC = 0x3148534152435643
GOLDEN = 0x9E3779B97F4A7C15
FNV_BASIS = 0xCBF29CE484222325
FNV_PRIME = 0x100000001B3
MASK = (1 << 64) - 1
SECTORS = 8


def sector_words(sector, gen, seed):
    w = [MAGIC, sector, gen, seed]
    w += [(sector ^ (gen << 32) ^ seed ^ (i * GOLDEN)) & MASK
          for i in range(4, 63)]
    h = FNV_BASIS
    for x in w:
        h = ((h ^ x) * FNV_PRIME) & MASK
    return w + [h]


def flushed_gen(log_text):
    """The highest generation the console log promises, 0 if none."""
    gens = [int(m) for m in re.findall(r"^FLUSHED gen=(\d+)\r?$",
                                       log_text, re.M)]
    return max(gens, default=0)


def writes_slot(gen, slot, blocks, batch):
    first = (gen - 1) * batch % blocks
    return (slot - first) % blocks < batch


def required_gen(slot, flushed, blocks, batch):
    """Last generation <= flushed that wrote slot, 0 if none."""
    for g in range(flushed, max(0, flushed - blocks) - 1, -1):
        if g and writes_slot(g, slot, blocks, batch):
            return g
    return 0


def check(image, log_text, seed, blocks, batch, out=print):
    """Returns (bad sectors, G, slots holding a newer generation)."""
    flushed = flushed_gen(log_text)
    bad = newer = 0
    with open(image, "rb") as f:
        data = f.read(blocks * SECTORS * 512)
    if len(data) < blocks * SECTORS * 512:
        out(f"crash_check: {image} is shorter than {blocks} blocks")
        return 1, flushed, 0
    for slot in range(blocks):
        need = required_gen(slot, flushed, blocks, batch)
        slot_newer = False
        for s in range(SECTORS):
            sec = slot * SECTORS + s
            words = list(struct.unpack_from("<64Q", data, sec * 512))
            gen = words[2]
            why = None
            if not any(words):
                if need:
                    why = f"all zeros, generation {need} was flushed"
            elif words[0] != MAGIC or words[1] != sec or words[3] != seed:
                why = (f"not ours (magic {words[0]:#x} sector {words[1]} "
                       f"seed {words[3]:#x})")
            elif words != sector_words(sec, gen, seed):
                why = f"generation {gen} corrupt (payload or checksum)"
            elif not gen or not writes_slot(gen, slot, blocks, batch):
                why = f"generation {gen} never wrote this slot"
            elif gen < need:
                why = f"generation {gen}, but {need} was flushed"
            elif gen > need:
                slot_newer = True
            if why:
                if bad < 8:
                    out(f"crash_check: slot {slot} sector {sec}: {why}")
                bad += 1
        newer += slot_newer
    return bad, flushed, newer


def main():
    if len(sys.argv) != 6:
        print(__doc__)
        return 2
    image, log = sys.argv[1], sys.argv[2]
    seed, blocks, batch = (int(a, 0) for a in sys.argv[3:6])
    with open(log, errors="replace") as f:
        text = f.read()
    bad, flushed, newer = check(image, text, seed, blocks, batch)
    print(f"crash_check: {image}: flushed gen={flushed}, {blocks} slots, "
          f"{newer} newer than flushed: "
          f"{'ok' if not bad else f'{bad} bad sectors'}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
