/*
 * virtio-mmio (virtio 1.x, transport version 2) devices of the reference host: a console (device
 * ID 3) and a block device (device ID 2) over split virtqueues, as a VMM such as kvmtool serves
 * them to a realm from the memory the realm shares (docs/virtio.md).
 *
 * The module knows nothing of the VM: the host gives each device three callbacks (read and write
 * of guest memory at an IPA in the protected-half numbering, i.e. with the shared bit stripped,
 * and the level of the device's interrupt line) and forwards the MMIO accesses that fall in the
 * device's 0x200-byte window. A QueueNotify write is served synchronously inside that access.
 *
 * Locking: every entry point takes the device's mutex; the callbacks are called with it held and
 * must not call back into the same device.
 */
#ifndef HOST_VIRTIO_H
#define HOST_VIRTIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define VIRTIO_MMIO_SIZE      0x200ULL    /* register window per device (kvmtool's spacing) */
#define VIRTIO_MMIO_MAGIC     0x74726976U /* "virt" */
#define VIRTIO_MMIO_VENDOR    0x554D4D52U /* "RMMU" */
#define VIRTIO_QUEUE_MAX      256U        /* QueueNumMax of every queue */

#define VIRTIO_ID_BLOCK       2U
#define VIRTIO_ID_CONSOLE     3U

/* Device status (virtio 1.2 2.1). */
#define VIRTIO_STATUS_ACKNOWLEDGE  0x01U
#define VIRTIO_STATUS_DRIVER       0x02U
#define VIRTIO_STATUS_DRIVER_OK    0x04U
#define VIRTIO_STATUS_FEATURES_OK  0x08U
#define VIRTIO_STATUS_NEEDS_RESET  0x40U
#define VIRTIO_STATUS_FAILED       0x80U

/* InterruptStatus bits. */
#define VIRTIO_INT_VRING      0x1U
#define VIRTIO_INT_CONFIG     0x2U

/* Feature bits this module knows. */
#define VIRTIO_F_INDIRECT_DESC     28
#define VIRTIO_F_VERSION_1         32
#define VIRTIO_F_ACCESS_PLATFORM   33
#define VIRTIO_BLK_F_SEG_MAX       2
#define VIRTIO_BLK_F_RO            5
#define VIRTIO_BLK_F_BLK_SIZE      6
#define VIRTIO_BLK_F_FLUSH         9
#define VIRTIO_CONSOLE_F_EMERG_WRITE 2

/* virtio-blk request types and status bytes (virtio 1.2 5.2.6). */
#define VIRTIO_BLK_T_IN       0U
#define VIRTIO_BLK_T_OUT      1U
#define VIRTIO_BLK_T_FLUSH    4U
#define VIRTIO_BLK_T_GET_ID   8U
#define VIRTIO_BLK_S_OK       0U
#define VIRTIO_BLK_S_IOERR    1U
#define VIRTIO_BLK_S_UNSUPP   2U
#define VIRTIO_BLK_ID_BYTES   20U
#define VIRTIO_BLK_SEG_MAX    (VIRTIO_QUEUE_MAX - 2)   /* header and status take two descriptors */

/* What the host provides. read/write return 0, or <0 when [ipa, ipa + len) is not memory the
 * device may use (the request then fails and the device needs a reset). ipa is the driver's DMA
 * address with the shared bit removed. set_irq gives the level of the device's interrupt line:
 * high while InterruptStatus != 0 (wire it to a level-triggered SPI). */
struct virtio_ops {
	int (*read)(void *ctx, uint64_t ipa, void *buf, size_t len);
	int (*write)(void *ctx, uint64_t ipa, const void *buf, size_t len);
	void (*set_irq)(void *ctx, bool level);
};

struct virtio_bus {
	struct virtio_ops ops;
	void *ctx;
	/* The realm's shared bit, 1 << (ipa_bits - 1), removed from every DMA address the driver
	 * gives (a Linux realm sets it: docs/virtio.md); 0 for a guest without one. Addresses with
	 * bits above it set are refused. */
	uint64_t shared_bit;
};

struct virtio_dev;

/* Console output sink: fn when given, else out (NULL: output dropped). */
typedef void (*virtio_output_fn)(void *ctx, const void *buf, size_t len);

struct virtio_dev *virtio_console_create(const struct virtio_bus *bus, FILE *out,
					 virtio_output_fn fn, void *fn_ctx);
/* Block device over the image at path, opened read-write, or read-only with VIRTIO_BLK_F_RO.
 * serial: the GET_ID string (at most 20 bytes used; NULL: "rmmemu-vda"). NULL on error, with a
 * sentence in err. */
struct virtio_dev *virtio_blk_create(const struct virtio_bus *bus, const char *path, bool read_only,
				     const char *serial, char *err, size_t errlen);
void virtio_destroy(struct virtio_dev *d);

/* An MMIO access at offset off (0 .. VIRTIO_MMIO_SIZE - 1) of the device's window, size 1, 2, 4
 * or 8 bytes; reads fill *val. Registers below 0x100 are 32-bit (other sizes read 0 and writes
 * are ignored); the configuration space takes any size. Returns false when off is outside the
 * window. */
bool virtio_mmio(struct virtio_dev *d, uint64_t off, unsigned size, bool is_write, uint64_t *val);

/* Host input for the console's receiveq: bytes go into the driver's receive buffers now when
 * there are any, else wait in a 4 KiB buffer until the driver posts some. Returns the number of
 * bytes taken (less than len when that buffer is full). */
size_t virtio_console_input(struct virtio_dev *d, const void *buf, size_t len);

/* Facts and counters, for the host and tests. */
uint32_t virtio_device_id(const struct virtio_dev *d);
uint8_t virtio_status(struct virtio_dev *d);
bool virtio_irq_level(struct virtio_dev *d);
uint64_t virtio_blk_capacity(const struct virtio_dev *d);    /* 512-byte sectors */

struct virtio_stats {
	uint64_t notifies;      /* QueueNotify writes served */
	uint64_t requests;      /* chains completed */
	uint64_t bytes_in;      /* to the driver: console RX, blk reads */
	uint64_t bytes_out;     /* from the driver: console TX, blk writes */
	uint64_t faults;        /* times the device set DEVICE_NEEDS_RESET */
	uint64_t irqs;          /* rising edges of the line */
};
void virtio_get_stats(struct virtio_dev *d, struct virtio_stats *out);

#endif
