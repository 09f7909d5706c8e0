# A hostile driver against the LSI 53C895A (guest/scsi_hostile.c): SCRIPTS
# jumping to themselves, a block move and a table entry and a fetch
# outside RAM, a storm of reselection waits and SIGPs, SCRIPTS signalling
# themselves, a driver's idle loop under a SIGP storm (once per SIGP, then
# parked again) and an INTFLY storm. Each loop must end in an interrupt
# (the device's budget, a bus fault), cvisor must say so on stderr, and
# after each the controller must still answer an INQUIRY.
. "$(dirname "$0")/lib.sh"
need_kvm; need_guest
truncate -s 16M "$TMP/disk.img"
run_guest "scsi-hostile" vdev lsi53c895a hostdev "$TMP/disk.img"
expect_status 0
expect_out '^scsi-hostile: jump loop: dstat=00 sist0=04 sist1=00 stopped$'
expect_out '^scsi-hostile: dma outside ram: dstat=20 '
expect_out '^scsi-hostile: table outside ram: dstat=20 '
expect_out '^scsi-hostile: fetch outside ram: dstat=20 '
expect_out '^scsi-hostile: reselect storm: dstat=04 '
expect_out '^scsi-hostile: reselect self-signalled: dstat=00 sist0=04 sist1=00 stopped$'
expect_out '^scsi-hostile: idle loop under 200 SIGPs: ran 200 times, istat=00$'
expect_out '^scsi-hostile: intfly storm: dstat=00 sist0=04 '
expect_out '^RESULT scsi-hostile loop=1 dma=1 table=1 fetch=1 reselect=1 intfly=1 alive=1$'
grep -q 'lsi53c895a: SCRIPTS ran 10000 instructions without waiting' "$TMP/err" ||
	fail "no message about the loop: $(cat "$TMP/err")"
grep -q 'lsi53c895a: SCRIPTS at 0x[0-9a-f]*: DMA outside guest memory' "$TMP/err" ||
	fail "no message about the bad DMA: $(cat "$TMP/err")"
