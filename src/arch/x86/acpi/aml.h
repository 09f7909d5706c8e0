/* A small AML (ACPI Machine Language) encoder: enough to write a DSDT that
 * declares devices with _HID/_UID/_CRS and a few named packages. Encodings
 * follow ACPI 6.x chapter 20 (AML specification) and section 6.4 (resource
 * data types). Objects with a PkgLength are written open/close: open emits
 * the opcode and remembers where the length goes, close inserts the length
 * once the body is known (1 to 4 bytes, so it cannot be reserved ahead).
 */
#ifndef CVISOR_ARCH_X86_ACPI_AML_H
#define CVISOR_ARCH_X86_ACPI_AML_H

#include <stdbool.h>
#include <stdint.h>

#include "arch/x86/acpi/fw_buf.h"

/* NameString: "\\_SB_.COM0", "^PCI0", "_HID"; short segments are padded
 * with '_' ("_SB" == "_SB_"). The path must be valid AML (A-Z, 0-9, _). */
void aml_name_string(struct fw_buf *b, const char *path);
/* ZeroOp, OneOp, OnesOp or the smallest Byte/Word/DWord/QWord constant. */
void aml_integer(struct fw_buf *b, uint64_t v);
void aml_string(struct fw_buf *b, const char *s);
/* EISAID("PNP0501") as the compressed 32-bit id (always a DWord, as iasl
 * emits it, so the disassembler shows EisaId again). */
uint32_t aml_eisaid_value(const char *id);
void aml_eisaid(struct fw_buf *b, const char *id);

/* Name(NAME, ...): the caller appends the data object after this. */
void aml_name(struct fw_buf *b, const char *name);
void aml_name_int(struct fw_buf *b, const char *name, uint64_t v);
void aml_name_str(struct fw_buf *b, const char *name, const char *s);
void aml_name_eisaid(struct fw_buf *b, const char *name, const char *id);

/* PkgLength-delimited objects. Each open returns a mark for aml_close. */
size_t aml_scope_open(struct fw_buf *b, const char *name);
size_t aml_device_open(struct fw_buf *b, const char *name);
size_t aml_package_open(struct fw_buf *b, uint8_t nr_elements);
void aml_close(struct fw_buf *b, size_t mark);
/* Method(NAME, nargs, Serialized|NotSerialized){...} */
size_t aml_method_open(struct fw_buf *b, const char *name, unsigned nargs,
		       bool serialized);
/* If (predicate) {...}: the caller writes the predicate, then the body. */
size_t aml_if_open(struct fw_buf *b);
/* OperationRegion(NAME, SystemIO, base, len) */
#define AML_REGION_SYSTEM_IO 0x01
void aml_opregion(struct fw_buf *b, const char *name, uint8_t space,
		  uint64_t base, uint64_t len);
/* Field(REGION, ByteAcc, NoLock, WriteAsZeros) { NAME, bits }: one field
 * at the region's start. */
void aml_field_byte(struct fw_buf *b, const char *region, const char *name,
		    uint8_t bits);
/* And(a, b, ) with no target, as a predicate: the caller writes the two
 * operands after this. */
void aml_and(struct fw_buf *b);
/* Notify(OBJECT, value) */
void aml_notify(struct fw_buf *b, const char *object, uint8_t value);
/* Buffer(){...} holding len bytes. */
void aml_buffer(struct fw_buf *b, const void *data, size_t len);
/* Encode a PkgLength for a body of len bytes (exposed for tests); returns
 * the number of bytes written to out[4], 0 when len is too large. */
unsigned aml_pkglength(uint8_t out[4], size_t len);

/* Resource template descriptors (ACPI 6.4 section 6.4), appended to a
 * buffer that aml_crs() then wraps as Name(_CRS, Buffer(){...}). */
void res_io(struct fw_buf *r, uint16_t base, uint8_t len);
void res_irq(struct fw_buf *r, uint8_t irq);        /* IRQNoFlags: ISA edge, high */
void res_mem32_fixed(struct fw_buf *r, uint32_t base, uint32_t len, bool rw);
/* Extended Interrupt, consumer, exclusive, one interrupt number (GSI). */
void res_interrupt(struct fw_buf *r, uint32_t gsi, bool level, bool active_low);
/* Address space descriptors of a bridge's windows (ResourceProducer,
 * MinFixed, MaxFixed, PosDecode, granularity 0, no translation): what a
 * PCI root bridge's _CRS hands down to its bus. Memory is read-write;
 * cacheable sets _MEM to Cacheable, otherwise NonCacheable. */
void res_word_bus(struct fw_buf *r, uint16_t min, uint16_t max);
void res_word_io(struct fw_buf *r, uint16_t min, uint16_t max);
void res_dword_mem(struct fw_buf *r, uint32_t min, uint32_t max,
		   bool cacheable);
void res_qword_mem(struct fw_buf *r, uint64_t min, uint64_t max,
		   bool cacheable);
/* Appends the End Tag and emits Name(_CRS, Buffer(){ r }). */
void aml_crs(struct fw_buf *b, struct fw_buf *r);

#endif
