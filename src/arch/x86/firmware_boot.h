/* Firmware boot: a PC BIOS (SeaBIOS) instead of a kernel cvisor loads.
 * The image is ROM ending at 4 GiB, its last 256 KiB are copied into RAM
 * below 1 MiB (the "shadow" a PC's chipset maps there; SeaBIOS runs and
 * keeps its data there), and the boot vCPU starts at the reset
 * vector, CS=F000 base FFFF0000, IP=FFF0, as after a power-on. The BIOS
 * finds the machine through fw_cfg and PCI, and boots a disk.
 *
 * Two ways to ask for it:
 *  - `firmware seabios|PATH` (cvisor extension, cfg->firmware);
 *  - QNX's way, a `rom` that ends at 4 GiB and a `load ADDR,PATH` into it
 *    whose image ends there too.
 * Pure data work (no KVM calls), shared by the builder and `cvisor check`.
 */
#ifndef CVISOR_ARCH_X86_FIRMWARE_BOOT_H
#define CVISOR_ARCH_X86_FIRMWARE_BOOT_H

#include "arch/x86/boot.h"
#include "config/config.h"
#include "mem/guest_mem.h"

/* The shadow: the image's last 256 KiB (all of a 128 or 256 KiB one)
 * in RAM ending at 1 MiB. A PC maps the last 128 KiB there; SeaBIOS's
 * 256 KiB build links its POST code below 0xE0000 and copies it down
 * itself after unlocking the i440FX's or Q35's PAM registers, which
 * cvisor's host bridge does not have, so the copy is made beforehand. */
#define X86_FWBOOT_FOUR_GIB     0x100000000ULL
#define X86_FWBOOT_SHADOW_END   0x100000ULL
#define X86_FWBOOT_SHADOW_MAX   0x40000ULL

/* The load that is the BIOS image, or NULL when the config boots a
 * kernel the usual way. */
const struct load_config *x86_fwboot_image(const struct vm_config *cfg);

/* Map what firmware boot needs beyond the config's ram and rom: the
 * `firmware` ROM below 4 GiB and RAM for the shadow, unless the config
 * has RAM there already. 0, or -1 with errno. */
int x86_fwboot_setup_memory(const struct vm_config *cfg,
			    struct guest_mem *mem);

/* Fill the ROM and the shadow and describe the reset state, as
 * x86_boot_load does for a kernel (and with the same error reporting:
 * a `load` that firmware boot cannot honour is an error at its
 * position). */
int x86_fwboot_load(const struct vm_config *cfg, struct guest_mem *mem,
		    const struct boot_platform *plat, struct boot_result *res,
		    struct cfg_error *err);

#endif
