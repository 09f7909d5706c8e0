/* fw_cfg: QEMU's firmware configuration interface, compatibly (QEMU's
 * docs/specs/fw_cfg.rst). A guest writes a 16-bit key to the selector port
 * and reads the item's bytes from the data port one at a time, or hands the
 * device the guest-physical address of a FWCfgDmaAccess descriptor and has
 * the item copied into its memory. Items are fixed keys (signature, RAM
 * size, CPU counts) and named files listed in a directory (etc/e820,
 * bootorder, the ACPI tables with their table-loader script, opt/...).
 *
 * The device (fw_cfg.c) only serves bytes it was given; what a PC puts
 * there is fw_cfg_pc.c, the ACPI linker script fw_cfg_acpi.c, the user's
 * files from `vdev fw-cfg` options fw_cfg_user.c. Every item is added before
 * the vCPUs run and never changes afterwards: the guest-side state
 * (selected key, offset, DMA address) is all that changes at run time.
 */
#ifndef CVISOR_DEVICES_FW_CFG_H
#define CVISOR_DEVICES_FW_CFG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "devices/device.h"

struct vm_config;
struct vdev_config;
struct x86_firmware_pci;

/* The device's name in vm->devices. */
#define FW_CFG_NAME "fw-cfg"

/* x86 I/O ports: selector (16-bit write) at 0x510, data (byte reads) at
 * 0x511, the DMA address register (big-endian, two 32-bit writes) at
 * 0x514-0x51b. */
#define FW_CFG_IO_BASE   0x510
#define FW_CFG_IO_LEN    12
#define FW_CFG_OFF_SEL   0
#define FW_CFG_OFF_DATA  1
#define FW_CFG_OFF_DMA   4

/* Keys (QEMU's include/standard-headers/linux/qemu_fw_cfg.h). Integers
 * are little-endian; the file directory is big-endian. */
#define FW_CFG_SIGNATURE  0x00     /* "QEMU" */
#define FW_CFG_ID         0x01     /* u32 feature bits */
#define FW_CFG_UUID       0x02
#define FW_CFG_RAM_SIZE   0x03     /* u64 */
#define FW_CFG_NOGRAPHIC  0x04     /* u16 */
#define FW_CFG_NB_CPUS    0x05     /* u16: vCPUs at boot */
#define FW_CFG_MAX_CPUS   0x0f     /* u16: vCPUs possible */
#define FW_CFG_FILE_DIR   0x19
#define FW_CFG_FILE_FIRST 0x20
#define FW_CFG_WRITE_CHANNEL 0x4000
#define FW_CFG_ARCH_LOCAL 0x8000
#define FW_CFG_INVALID    0xffff

#define FW_CFG_ID_TRAD    0x01     /* the selector/data ports */
#define FW_CFG_ID_DMA     0x02     /* the DMA interface */

/* FWCfgDmaAccess: { be32 control; be32 length; be64 address; } */
#define FW_CFG_DMA_ERROR  0x01
#define FW_CFG_DMA_READ   0x02
#define FW_CFG_DMA_SKIP   0x04
#define FW_CFG_DMA_SELECT 0x08
#define FW_CFG_DMA_WRITE  0x10
#define FW_CFG_DMA_DESC_LEN 16
/* What a read of the DMA register returns, big-endian: "QEMU CFG". */
#define FW_CFG_DMA_SIGNATURE 0x51454d5520434647ULL

/* Directory entries: { be32 size; be16 select; be16 reserved;
 * char name[56]; }, after a be32 count. */
#define FW_CFG_NAME_MAX   56       /* with the NUL */
#define FW_CFG_MAX_FILES  64
/* Largest user file (`file opt/NAME,PATH`), read whole into memory. */
#define FW_CFG_FILE_MAX   (16u << 20)

struct fw_cfg;

/* A device with the signature, ID and an empty directory at the standard
 * ports. env->mem is what DMA transfers go through. */
struct fw_cfg *fw_cfg_new(const struct dev_env *env);
struct device *fw_cfg_device(struct fw_cfg *s);
/* The fw_cfg behind dev, or NULL when dev is something else. */
struct fw_cfg *fw_cfg_of(struct device *dev);

/* Add an item (the bytes are copied). 0, or -EEXIST (key or name taken),
 * -EINVAL (a key outside the fixed range, a bad name), -ENOSPC (too many
 * files), -EFBIG (4 GiB or more). Files are listed in name order, as
 * QEMU lists them, and get their keys in that order. */
int fw_cfg_add_bytes(struct fw_cfg *s, uint16_t key, const void *data,
		     size_t len);
int fw_cfg_add_u16(struct fw_cfg *s, uint16_t key, uint16_t v);
int fw_cfg_add_u32(struct fw_cfg *s, uint16_t key, uint32_t v);
int fw_cfg_add_u64(struct fw_cfg *s, uint16_t key, uint64_t v);
int fw_cfg_add_file(struct fw_cfg *s, const char *name, const void *data,
		    size_t len);
/* The bytes of a file, or NULL (tests). */
const uint8_t *fw_cfg_file_data(const struct fw_cfg *s, const char *name,
				size_t *len);

/* ---- fw_cfg_user.c: `vdev fw-cfg` and its options ---- */

/* Add the vdev's `file opt/NAME,PATH` and `string opt/NAME,TEXT` items.
 * Files are read once per process and kept across guest resets when env
 * has a persist store. 0 or -errno (logged). */
int fw_cfg_add_user_items(struct fw_cfg *s, const struct vdev_config *vc,
			  const struct dev_env *env);

/* ---- fw_cfg_pc.c: what a PC's fw_cfg holds ---- */

/* Whether the VM gets the device without a `vdev fw-cfg`: on x86 always
 * (as QEMU's pc, q35 and microvm), unless the config puts something else
 * on its ports or reserves them (`reserve loc io:0x510,12`). */
bool fw_cfg_implicit(const struct vm_config *cfg);
/* RAM size, CPU counts, etc/e820, bootorder, etc/sercon-port and the ACPI
 * tables with their loader script, from the config. pci: the host
 * bridge's layout as ACPI describes it, or NULL. bootorder: the file's
 * text (firmware device paths, one a line), or NULL for an empty one.
 * 0 or -errno (logged). */
int fw_cfg_add_pc_items(struct fw_cfg *s, const struct vm_config *cfg,
			const struct x86_firmware_pci *pci,
			const char *bootorder);
/* QEMU's FW_CFG_RAM_SIZE for this config: the end of RAM below 4 GiB plus
 * the RAM above it (what -m says for the same layout). */
uint64_t fw_cfg_ram_size(const struct vm_config *cfg);

/* ---- fw_cfg_acpi.c: the ACPI tables for firmware that installs them ---- */

/* etc/acpi/tables, etc/acpi/rsdp and etc/table-loader (QEMU's
 * BIOSLinker script: ALLOCATE, ADD_POINTER, ADD_CHECKSUM), built from the
 * same tables cvisor writes to the BIOS area. 0 or -errno (logged). */
int fw_cfg_add_acpi(struct fw_cfg *s, const struct vm_config *cfg,
		    const struct x86_firmware_pci *pci);

#endif
