/*
 * virtio-mmio transport (version 2) with split virtqueues, and the console and block devices on
 * it (OASIS virtio 1.2: 4.2.2 MMIO registers, 2.7 split virtqueues, 5.2 block, 5.3 console).
 *
 * Everything the driver supplies is hostile: ring indices, descriptor chains and addresses are
 * checked before use, chain walks are bounded by the queue size, and a malformed ring or memory
 * the host refuses marks the device DEVICE_NEEDS_RESET (it then serves nothing until the driver
 * resets it). A malformed block request that still has a status byte gets VIRTIO_BLK_S_IOERR.
 */
#include "host/virtio.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* MMIO register offsets (virtio 1.2 4.2.2). */
#define R_MAGIC          0x000
#define R_VERSION        0x004
#define R_DEVICE_ID      0x008
#define R_VENDOR_ID      0x00C
#define R_DEV_FEATURES   0x010
#define R_DEV_FEAT_SEL   0x014
#define R_DRV_FEATURES   0x020
#define R_DRV_FEAT_SEL   0x024
#define R_QUEUE_SEL      0x030
#define R_QUEUE_NUM_MAX  0x034
#define R_QUEUE_NUM      0x038
#define R_QUEUE_READY    0x044
#define R_QUEUE_NOTIFY   0x050
#define R_INT_STATUS     0x060
#define R_INT_ACK        0x064
#define R_STATUS         0x070
#define R_DESC_LO        0x080
#define R_DESC_HI        0x084
#define R_DRIVER_LO      0x090
#define R_DRIVER_HI      0x094
#define R_DEVICE_LO      0x0A0
#define R_DEVICE_HI      0x0A4
#define R_SHM_SEL        0x0AC
#define R_SHM_LEN_LO     0x0B0
#define R_SHM_LEN_HI     0x0B4
#define R_SHM_BASE_LO    0x0B8
#define R_SHM_BASE_HI    0x0BC
#define R_CONFIG_GEN     0x0FC
#define R_CONFIG         0x100

/* Split virtqueue layout (2.7). */
#define DESC_SIZE        16U
#define DESC_F_NEXT      1U
#define DESC_F_WRITE     2U
#define DESC_F_INDIRECT  4U
#define AVAIL_F_NO_INTERRUPT 1U
#define MAX_QUEUES       2U
#define MAX_SEGS         VIRTIO_QUEUE_MAX   /* descriptors per chain, indirect ones included */
#define CONFIG_MAX       64U
#define RX_PENDING       4096U
#define XFER_CHUNK       (64U * 1024U)
#define SECTOR           512ULL

struct vq {
	uint32_t num;
	bool ready;
	uint64_t desc, avail, used;       /* DMA addresses as the driver wrote them */
	uint16_t last_avail;              /* next avail ring entry to take */
	uint16_t used_idx;                /* next used ring entry to fill */
};

struct seg {
	uint64_t ipa;
	uint32_t len;
	bool write;
};

struct chain {
	uint16_t head;
	unsigned n;
	uint64_t rlen, wlen;              /* bytes the device may read / write */
	struct seg seg[MAX_SEGS];
};

struct virtio_dev {
	pthread_mutex_t lock;
	struct virtio_bus bus;
	uint32_t device_id;
	unsigned nqueues;
	uint64_t dev_features, drv_features;
	uint32_t dev_feat_sel, drv_feat_sel, queue_sel;
	uint8_t status;
	uint32_t isr;
	bool line;
	struct vq vq[MAX_QUEUES];
	uint8_t config[CONFIG_MAX];
	unsigned config_len;
	struct chain chain;               /* the chain being served (under lock) */
	uint8_t *xfer;                    /* XFER_CHUNK bounce buffer */
	struct virtio_stats stats;

	/* console */
	FILE *out;
	virtio_output_fn out_fn;
	void *out_ctx;
	uint8_t rx[RX_PENDING];
	size_t rx_head, rx_len;

	/* block */
	int fd;
	bool read_only;
	uint64_t capacity;
	char serial[VIRTIO_BLK_ID_BYTES];
};

/* ---- little-endian helpers (virtio 1.x structures are little-endian) ---- */

static uint16_t ld16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t ld32(const uint8_t *p) { return (uint32_t)ld16(p) | (uint32_t)ld16(p + 2) << 16; }
static uint64_t ld64(const uint8_t *p) { return (uint64_t)ld32(p) | (uint64_t)ld32(p + 4) << 32; }
static void st16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static void st32(uint8_t *p, uint32_t v) { st16(p, (uint16_t)v); st16(p + 2, (uint16_t)(v >> 16)); }
static void st64(uint8_t *p, uint64_t v) { st32(p, (uint32_t)v); st32(p + 4, (uint32_t)(v >> 32)); }

/* ---- interrupt line and failure ---- */

static void update_irq(struct virtio_dev *d)
{
	bool level = d->isr != 0;
	if (level == d->line)
		return;
	d->line = level;
	if (level)
		d->stats.irqs++;
	if (d->bus.ops.set_irq)
		d->bus.ops.set_irq(d->bus.ctx, level);
}

/* The driver broke the protocol: DEVICE_NEEDS_RESET, and a configuration change notification
 * once the driver is up (virtio 1.2 2.1.2). */
static void needs_reset(struct virtio_dev *d)
{
	if (d->status & VIRTIO_STATUS_NEEDS_RESET)
		return;
	d->status |= VIRTIO_STATUS_NEEDS_RESET;
	d->stats.faults++;
	if (d->status & VIRTIO_STATUS_DRIVER_OK) {
		d->isr |= VIRTIO_INT_CONFIG;
		update_irq(d);
	}
}

static bool live(const struct virtio_dev *d)
{
	return (d->status & (VIRTIO_STATUS_DRIVER_OK | VIRTIO_STATUS_NEEDS_RESET | VIRTIO_STATUS_FAILED)) ==
	       VIRTIO_STATUS_DRIVER_OK;
}

/* ---- guest memory through the host's callbacks ---- */

/* DMA address -> IPA the callbacks take: the shared bit removed, nothing above it allowed, and
 * [addr, addr + len) must not wrap. */
static int dma_to_ipa(const struct virtio_dev *d, uint64_t addr, uint64_t len, uint64_t *ipa)
{
	if (len && addr + len - 1 < addr)
		return -EFAULT;
	uint64_t s = d->bus.shared_bit;
	if (s) {
		uint64_t limit = s << 1;              /* the IPA space */
		if (addr >= limit || (len && addr + len - 1 >= limit))
			return -EFAULT;
		/* both ends in the same half */
		if (len && ((addr ^ (addr + len - 1)) & s))
			return -EFAULT;
		addr &= ~s;
	}
	*ipa = addr;
	return 0;
}

static int mem_read(struct virtio_dev *d, uint64_t addr, void *buf, size_t len)
{
	uint64_t ipa;
	if (!len)
		return 0;
	if (dma_to_ipa(d, addr, len, &ipa) || !d->bus.ops.read || d->bus.ops.read(d->bus.ctx, ipa, buf, len))
		return -EFAULT;
	return 0;
}

static int mem_write(struct virtio_dev *d, uint64_t addr, const void *buf, size_t len)
{
	uint64_t ipa;
	if (!len)
		return 0;
	if (dma_to_ipa(d, addr, len, &ipa) || !d->bus.ops.write || d->bus.ops.write(d->bus.ctx, ipa, buf, len))
		return -EFAULT;
	return 0;
}

/* ---- split virtqueue ---- */

static bool queue_exists(const struct virtio_dev *d, unsigned q)
{
	return q < d->nqueues;
}

/* Checks at QueueReady = 1 (2.7: sizes are powers of two; alignments 16, 2, 4). */
static bool vq_valid(const struct virtio_dev *d, const struct vq *vq)
{
	uint64_t ipa;
	uint32_t n = vq->num;
	if (!n || n > VIRTIO_QUEUE_MAX || (n & (n - 1)))
		return false;
	if ((vq->desc & 15) || (vq->avail & 1) || (vq->used & 3))
		return false;
	return !dma_to_ipa(d, vq->desc, (uint64_t)DESC_SIZE * n, &ipa) &&
	       !dma_to_ipa(d, vq->avail, 6 + 2ULL * n, &ipa) &&
	       !dma_to_ipa(d, vq->used, 6 + 8ULL * n, &ipa);
}

static int add_seg(struct chain *c, uint64_t addr, uint32_t len, uint16_t flags)
{
	bool w = flags & DESC_F_WRITE;
	if (c->n == MAX_SEGS)
		return -EINVAL;
	if (!w && c->wlen)            /* readable descriptors come first (2.7.4.2) */
		return -EINVAL;
	if (len && addr + len - 1 < addr)
		return -EINVAL;
	c->seg[c->n++] = (struct seg){ addr, len, w };
	if (w)
		c->wlen += len;
	else
		c->rlen += len;
	return 0;
}

/* Walk an indirect table of len bytes at addr. */
static int walk_indirect(struct virtio_dev *d, struct chain *c, uint64_t addr, uint32_t len)
{
	uint8_t tab[MAX_SEGS * DESC_SIZE];
	if (!len || len % DESC_SIZE || len > sizeof(tab) || (addr & 15))
		return -EINVAL;
	unsigned count = len / DESC_SIZE;
	if (mem_read(d, addr, tab, len))
		return -EFAULT;
	unsigned i = 0;
	for (unsigned steps = 0;; steps++) {
		if (steps >= count)                  /* a loop inside the table */
			return -EINVAL;
		const uint8_t *e = tab + i * DESC_SIZE;
		uint16_t flags = ld16(e + 12), next = ld16(e + 14);
		if (flags & DESC_F_INDIRECT)         /* no nesting (2.7.5.3.1) */
			return -EINVAL;
		if (add_seg(c, ld64(e), ld32(e + 8), flags))
			return -EINVAL;
		if (!(flags & DESC_F_NEXT))
			return 0;
		if (next >= count)
			return -EINVAL;
		i = next;
	}
}

/* Take the next available chain of queue q into d->chain. 1: taken, 0: none, <0: the ring is
 * malformed (the caller marks the device). */
static int vq_pop(struct virtio_dev *d, unsigned q)
{
	struct vq *vq = &d->vq[q];
	struct chain *c = &d->chain;
	uint8_t b[DESC_SIZE];
	if (mem_read(d, vq->avail + 2, b, 2))
		return -EFAULT;
	uint16_t avail_idx = ld16(b);
	uint16_t waiting = (uint16_t)(avail_idx - vq->last_avail);
	if (!waiting)
		return 0;
	if (waiting > vq->num)                    /* the driver claims more than the ring holds */
		return -EINVAL;
	if (mem_read(d, vq->avail + 4 + 2ULL * (vq->last_avail % vq->num), b, 2))
		return -EFAULT;
	uint16_t head = ld16(b);
	if (head >= vq->num)
		return -EINVAL;
	vq->last_avail++;
	c->head = head;
	c->n = 0;
	c->rlen = c->wlen = 0;
	uint16_t i = head;
	for (unsigned steps = 0;; steps++) {
		if (steps >= vq->num)                 /* longer than the ring: a loop */
			return -EINVAL;
		if (mem_read(d, vq->desc + (uint64_t)DESC_SIZE * i, b, DESC_SIZE))
			return -EFAULT;
		uint64_t addr = ld64(b);
		uint32_t len = ld32(b + 8);
		uint16_t flags = ld16(b + 12), next = ld16(b + 14);
		if (flags & DESC_F_INDIRECT) {
			if (flags & DESC_F_NEXT || !(d->drv_features & (1ULL << VIRTIO_F_INDIRECT_DESC)))
				return -EINVAL;
			return walk_indirect(d, c, addr, len) ? -EINVAL : 1;
		}
		if (add_seg(c, addr, len, flags))
			return -EINVAL;
		if (!(flags & DESC_F_NEXT))
			return 1;
		if (next >= vq->num)
			return -EINVAL;
		i = next;
	}
}

/* Return the chain d->chain.head with len bytes written; raise the used-buffer interrupt unless
 * the driver asked for none (VIRTQ_AVAIL_F_NO_INTERRUPT; EVENT_IDX is not offered). */
static int vq_push(struct virtio_dev *d, unsigned q, uint32_t len)
{
	struct vq *vq = &d->vq[q];
	uint8_t e[8];
	st32(e, d->chain.head);
	st32(e + 4, len);
	if (mem_write(d, vq->used + 4 + 8ULL * (vq->used_idx % vq->num), e, sizeof(e)))
		return -EFAULT;
	vq->used_idx++;
	st16(e, vq->used_idx);
	if (mem_write(d, vq->used + 2, e, 2))   /* after the element: the driver reads idx first */
		return -EFAULT;
	d->stats.requests++;
	if (mem_read(d, vq->avail, e, 2))
		return -EFAULT;
	if (!(ld16(e) & AVAIL_F_NO_INTERRUPT))
		d->isr |= VIRTIO_INT_VRING;
	return 0;
}

/* Copy between buf and the readable (write_part false) or writable part of the chain, from byte
 * off of that part. The caller keeps off + len within the part. */
static int chain_xfer(struct virtio_dev *d, bool write_part, uint64_t off, void *buf, size_t len)
{
	const struct chain *c = &d->chain;
	uint8_t *p = buf;
	for (unsigned i = 0; i < c->n && len; i++) {
		const struct seg *s = &c->seg[i];
		if (s->write != write_part)
			continue;
		if (off >= s->len) {
			off -= s->len;
			continue;
		}
		size_t n = s->len - off;
		if (n > len)
			n = len;
		int rc = write_part ? mem_write(d, s->ipa + off, p, n) : mem_read(d, s->ipa + off, p, n);
		if (rc)
			return rc;
		p += n;
		len -= n;
		off = 0;
	}
	return len ? -EINVAL : 0;
}

/* ---- console (5.3): port 0 only, receiveq 0, transmitq 1 ---- */

static void console_emit(struct virtio_dev *d, const void *buf, size_t len)
{
	d->stats.bytes_out += len;
	if (d->out_fn)
		d->out_fn(d->out_ctx, buf, len);
	else if (d->out) {
		fwrite(buf, 1, len, d->out);
		fflush(d->out);
	}
}

static int console_tx(struct virtio_dev *d)
{
	int rc;
	while ((rc = vq_pop(d, 1)) == 1) {
		for (uint64_t off = 0; off < d->chain.rlen;) {
			size_t n = d->chain.rlen - off > XFER_CHUNK ? XFER_CHUNK : (size_t)(d->chain.rlen - off);
			if (chain_xfer(d, false, off, d->xfer, n))
				return -EFAULT;
			console_emit(d, d->xfer, n);
			off += n;
		}
		if (vq_push(d, 1, 0))
			return -EFAULT;
	}
	return rc;
}

/* Pending input into receive buffers, while both last. */
static int console_rx(struct virtio_dev *d)
{
	while (d->rx_len) {
		int rc = vq_pop(d, 0);
		if (rc <= 0)
			return rc;
		uint64_t room = d->chain.wlen;
		uint32_t done = 0;
		while (d->rx_len && done < room) {
			size_t n = d->rx_len;
			if (d->rx_head + n > RX_PENDING)
				n = RX_PENDING - d->rx_head;     /* up to the wrap of the pending ring */
			if (n > room - done)
				n = (size_t)(room - done);
			if (chain_xfer(d, true, done, d->rx + d->rx_head, n))
				return -EFAULT;
			d->rx_head = (d->rx_head + n) % RX_PENDING;
			d->rx_len -= n;
			done += (uint32_t)n;
		}
		d->stats.bytes_in += done;
		if (vq_push(d, 0, done))
			return -EFAULT;
	}
	return 0;
}

static int console_notify(struct virtio_dev *d, unsigned q)
{
	return q == 1 ? console_tx(d) : console_rx(d);
}

/* ---- block (5.2) ---- */

static uint8_t blk_rw(struct virtio_dev *d, bool out, uint64_t sector, uint64_t data_off,
		      uint64_t bytes, uint32_t *written, int *fault)
{
	if (bytes % SECTOR)
		return VIRTIO_BLK_S_IOERR;
	uint64_t n = bytes / SECTOR;
	if (sector > d->capacity || n > d->capacity - sector)
		return VIRTIO_BLK_S_IOERR;
	if (out && d->read_only)
		return VIRTIO_BLK_S_IOERR;
	for (uint64_t off = 0; off < bytes;) {
		size_t k = bytes - off > XFER_CHUNK ? XFER_CHUNK : (size_t)(bytes - off);
		off_t pos = (off_t)(sector * SECTOR + off);
		if (out) {
			if (chain_xfer(d, false, data_off + off, d->xfer, k)) {
				*fault = 1;
				return VIRTIO_BLK_S_IOERR;
			}
			if (pwrite(d->fd, d->xfer, k, pos) != (ssize_t)k)
				return VIRTIO_BLK_S_IOERR;
			d->stats.bytes_out += k;
		} else {
			ssize_t got = pread(d->fd, d->xfer, k, pos);
			if (got < 0)
				return VIRTIO_BLK_S_IOERR;
			if ((size_t)got < k)                  /* the file shrank under us */
				memset(d->xfer + got, 0, k - (size_t)got);
			if (chain_xfer(d, true, off, d->xfer, k)) {
				*fault = 1;
				return VIRTIO_BLK_S_IOERR;
			}
			*written += (uint32_t)k;
			d->stats.bytes_in += k;
		}
		off += k;
	}
	return VIRTIO_BLK_S_OK;
}

/* One request: header {le32 type, le32 reserved, le64 sector} in the readable part, data, and
 * the status byte as the last writable byte. */
static int blk_request(struct virtio_dev *d)
{
	const struct chain *c = &d->chain;
	uint8_t hdr[16];
	uint32_t written = 0;
	int fault = 0;
	if (!c->wlen)                     /* nowhere to put a status: give the chain back */
		return 0;
	uint64_t status_off = c->wlen - 1;
	uint8_t st;
	if (c->rlen < sizeof(hdr)) {
		st = VIRTIO_BLK_S_IOERR;
	} else if (chain_xfer(d, false, 0, hdr, sizeof(hdr))) {
		return -EFAULT;
	} else {
		uint32_t type = ld32(hdr);
		uint64_t sector = ld64(hdr + 8);
		switch (type) {
		case VIRTIO_BLK_T_IN:
			st = blk_rw(d, false, sector, 0, status_off, &written, &fault);
			break;
		case VIRTIO_BLK_T_OUT:
			st = blk_rw(d, true, sector, sizeof(hdr), c->rlen - sizeof(hdr), &written, &fault);
			break;
		case VIRTIO_BLK_T_FLUSH:
			st = (d->read_only || fdatasync(d->fd) == 0) ? VIRTIO_BLK_S_OK : VIRTIO_BLK_S_IOERR;
			break;
		case VIRTIO_BLK_T_GET_ID: {
			uint8_t id[VIRTIO_BLK_ID_BYTES];
			size_t n = status_off < sizeof(id) ? (size_t)status_off : sizeof(id);
			memcpy(id, d->serial, sizeof(id));
			if (chain_xfer(d, true, 0, id, n))
				return -EFAULT;
			written = (uint32_t)n;
			st = VIRTIO_BLK_S_OK;
			break;
		}
		default:
			st = VIRTIO_BLK_S_UNSUPP;
			break;
		}
	}
	if (fault)
		return -EFAULT;
	if (chain_xfer(d, true, status_off, &st, 1))
		return -EFAULT;
	return (int)(written + 1);
}

static int blk_notify(struct virtio_dev *d, unsigned q)
{
	int rc;
	while ((rc = vq_pop(d, q)) == 1) {
		int n = blk_request(d);
		if (n < 0 || vq_push(d, q, (uint32_t)n))
			return -EFAULT;
	}
	return rc;
}

/* ---- transport ---- */

static void serve(struct virtio_dev *d, unsigned q)
{
	if (!live(d) || !queue_exists(d, q) || !d->vq[q].ready)
		return;
	int rc = d->device_id == VIRTIO_ID_CONSOLE ? console_notify(d, q) : blk_notify(d, q);
	if (rc < 0)
		needs_reset(d);
	update_irq(d);
}

static void device_reset(struct virtio_dev *d)
{
	d->status = 0;
	d->drv_features = 0;
	d->dev_feat_sel = d->drv_feat_sel = d->queue_sel = 0;
	memset(d->vq, 0, sizeof(d->vq));
	d->isr = 0;
	update_irq(d);
}

static void write_status(struct virtio_dev *d, uint32_t v)
{
	uint8_t nv = (uint8_t)v;
	if (!nv) {
		device_reset(d);
		return;
	}
	/* FEATURES_OK sticks only for a subset of the offer that includes VERSION_1 (3.1.1). */
	if ((nv & VIRTIO_STATUS_FEATURES_OK) && !(d->status & VIRTIO_STATUS_FEATURES_OK)) {
		if ((d->drv_features & ~d->dev_features) || !(d->drv_features & (1ULL << VIRTIO_F_VERSION_1)))
			nv &= (uint8_t)~VIRTIO_STATUS_FEATURES_OK;
	}
	/* DRIVER_OK needs FEATURES_OK. NEEDS_RESET is the device's and stays. */
	if ((nv & VIRTIO_STATUS_DRIVER_OK) && !(nv & VIRTIO_STATUS_FEATURES_OK))
		nv &= (uint8_t)~VIRTIO_STATUS_DRIVER_OK;
	nv = (uint8_t)((nv & ~VIRTIO_STATUS_NEEDS_RESET) | (d->status & VIRTIO_STATUS_NEEDS_RESET));
	bool going_live = (nv & VIRTIO_STATUS_DRIVER_OK) && !(d->status & VIRTIO_STATUS_DRIVER_OK);
	d->status = nv;
	if (going_live)                     /* buffers posted before DRIVER_OK are served now */
		for (unsigned q = 0; q < d->nqueues; q++)
			serve(d, q);
}

static uint32_t reg_read(struct virtio_dev *d, uint64_t off)
{
	struct vq *vq = queue_exists(d, d->queue_sel) ? &d->vq[d->queue_sel] : NULL;
	switch (off) {
	case R_MAGIC: return VIRTIO_MMIO_MAGIC;
	case R_VERSION: return 2;
	case R_DEVICE_ID: return d->device_id;
	case R_VENDOR_ID: return VIRTIO_MMIO_VENDOR;
	case R_DEV_FEATURES:
		return d->dev_feat_sel < 2 ? (uint32_t)(d->dev_features >> (32 * d->dev_feat_sel)) : 0;
	case R_QUEUE_NUM_MAX: return vq ? VIRTIO_QUEUE_MAX : 0;
	case R_QUEUE_READY: return vq ? vq->ready : 0;
	case R_INT_STATUS: return d->isr;
	case R_STATUS: return d->status;
	case R_SHM_LEN_LO: case R_SHM_LEN_HI: case R_SHM_BASE_LO: case R_SHM_BASE_HI:
		return 0xFFFFFFFFU;          /* no shared memory regions */
	case R_CONFIG_GEN: return 0;   /* the configuration never changes */
	default: return 0;             /* write-only and reserved registers */
	}
}

static void set_half(uint64_t *r, bool hi, uint32_t v)
{
	*r = hi ? (*r & 0xFFFFFFFFULL) | (uint64_t)v << 32 : (*r & ~0xFFFFFFFFULL) | v;
}

static void reg_write(struct virtio_dev *d, uint64_t off, uint32_t v)
{
	struct vq *vq = queue_exists(d, d->queue_sel) ? &d->vq[d->queue_sel] : NULL;
	/* Queue layout registers are frozen while the queue is ready, and before feature
	 * negotiation finished; writes to a queue that does not exist are dropped. */
	bool q_ok = vq && !vq->ready;
	switch (off) {
	case R_DEV_FEAT_SEL: d->dev_feat_sel = v; break;
	case R_DRV_FEATURES:
		if (d->drv_feat_sel < 2 && !(d->status & VIRTIO_STATUS_FEATURES_OK))
			set_half(&d->drv_features, d->drv_feat_sel, v);
		break;
	case R_DRV_FEAT_SEL: d->drv_feat_sel = v; break;
	case R_QUEUE_SEL: d->queue_sel = v; break;
	case R_QUEUE_NUM: if (q_ok) vq->num = v; break;
	case R_QUEUE_READY:
		if (!vq)
			break;
		if (!(v & 1)) {
			vq->ready = false;
			break;
		}
		if (vq->ready)
			break;
		if (!vq_valid(d, vq)) {
			needs_reset(d);
			update_irq(d);
			break;
		}
		vq->ready = true;
		vq->last_avail = vq->used_idx = 0;
		break;
	case R_QUEUE_NOTIFY:
		d->stats.notifies++;
		serve(d, v);                  /* the queue index (VIRTIO_F_NOTIFICATION_DATA not offered) */
		break;
	case R_INT_ACK:
		d->isr &= ~v;
		update_irq(d);
		break;
	case R_STATUS: write_status(d, v); break;
	case R_DESC_LO: case R_DESC_HI: if (q_ok) set_half(&vq->desc, off == R_DESC_HI, v); break;
	case R_DRIVER_LO: case R_DRIVER_HI: if (q_ok) set_half(&vq->avail, off == R_DRIVER_HI, v); break;
	case R_DEVICE_LO: case R_DEVICE_HI: if (q_ok) set_half(&vq->used, off == R_DEVICE_HI, v); break;
	default: break;                 /* read-only and reserved registers */
	}
}

/* Device-specific configuration writes: only the console's emerg_wr (offset 8). */
static void config_write(struct virtio_dev *d, uint64_t off, unsigned size, uint64_t v)
{
	if (d->device_id == VIRTIO_ID_CONSOLE && off == 8 && size == 4 &&
	    (d->drv_features & (1ULL << VIRTIO_CONSOLE_F_EMERG_WRITE))) {
		uint8_t ch = (uint8_t)v;
		console_emit(d, &ch, 1);
	}
}

bool virtio_mmio(struct virtio_dev *d, uint64_t off, unsigned size, bool is_write, uint64_t *val)
{
	if (off >= VIRTIO_MMIO_SIZE)
		return false;
	pthread_mutex_lock(&d->lock);
	if (off >= R_CONFIG) {
		uint64_t c = off - R_CONFIG;
		bool ok = (size == 1 || size == 2 || size == 4 || size == 8) && c + size <= d->config_len;
		if (is_write) {
			if (ok)
				config_write(d, c, size, *val);
		} else {
			uint64_t v = 0;
			for (unsigned i = 0; ok && i < size; i++)
				v |= (uint64_t)d->config[c + i] << (8 * i);
			*val = v;
		}
	} else if (size != 4 || (off & 3)) {
		if (!is_write)
			*val = 0;
	} else if (is_write) {
		reg_write(d, off, (uint32_t)*val);
	} else {
		*val = reg_read(d, off);
	}
	pthread_mutex_unlock(&d->lock);
	return true;
}

size_t virtio_console_input(struct virtio_dev *d, const void *buf, size_t len)
{
	if (!d || d->device_id != VIRTIO_ID_CONSOLE)
		return 0;
	pthread_mutex_lock(&d->lock);
	size_t room = RX_PENDING - d->rx_len, n = len < room ? len : room;
	const uint8_t *p = buf;
	for (size_t i = 0; i < n; i++)
		d->rx[(d->rx_head + d->rx_len + i) % RX_PENDING] = p[i];
	d->rx_len += n;
	serve(d, 0);
	pthread_mutex_unlock(&d->lock);
	return n;
}

/* ---- creation ---- */

static struct virtio_dev *dev_alloc(const struct virtio_bus *bus, uint32_t id, unsigned nqueues)
{
	struct virtio_dev *d = calloc(1, sizeof(*d));
	if (!d)
		return NULL;
	d->xfer = malloc(XFER_CHUNK);
	if (!d->xfer || pthread_mutex_init(&d->lock, NULL)) {
		free(d->xfer);
		free(d);
		return NULL;
	}
	d->bus = *bus;
	d->device_id = id;
	d->nqueues = nqueues;
	d->fd = -1;
	d->dev_features = 1ULL << VIRTIO_F_VERSION_1 | 1ULL << VIRTIO_F_ACCESS_PLATFORM |
			  1ULL << VIRTIO_F_INDIRECT_DESC;
	return d;
}

struct virtio_dev *virtio_console_create(const struct virtio_bus *bus, FILE *out,
					 virtio_output_fn fn, void *fn_ctx)
{
	struct virtio_dev *d = dev_alloc(bus, VIRTIO_ID_CONSOLE, 2);
	if (!d)
		return NULL;
	d->out = out;
	d->out_fn = fn;
	d->out_ctx = fn_ctx;
	d->dev_features |= 1ULL << VIRTIO_CONSOLE_F_EMERG_WRITE;
	/* struct virtio_console_config: cols, rows (F_SIZE not offered), max_nr_ports (F_MULTIPORT
	 * not offered), emerg_wr. */
	d->config_len = 12;
	return d;
}

struct virtio_dev *virtio_blk_create(const struct virtio_bus *bus, const char *path, bool read_only,
				     const char *serial, char *err, size_t errlen)
{
	int fd = open(path, (read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "virtio-blk: cannot open %s%s: %s", path,
			 read_only ? "" : " read-write", strerror(errno));
		return NULL;
	}
	struct stat sb;
	if (fstat(fd, &sb) || !S_ISREG(sb.st_mode)) {
		snprintf(err, errlen, "virtio-blk: %s is not a regular file", path);
		close(fd);
		return NULL;
	}
	struct virtio_dev *d = dev_alloc(bus, VIRTIO_ID_BLOCK, 1);
	if (!d) {
		snprintf(err, errlen, "virtio-blk: out of memory");
		close(fd);
		return NULL;
	}
	d->fd = fd;
	d->read_only = read_only;
	d->capacity = (uint64_t)sb.st_size / SECTOR;
	memset(d->serial, 0, sizeof(d->serial));
	const char *s = serial ? serial : "rmmemu-vda";
	size_t sl = strlen(s);
	memcpy(d->serial, s, sl < sizeof(d->serial) ? sl : sizeof(d->serial));
	d->dev_features |= 1ULL << VIRTIO_BLK_F_SEG_MAX | 1ULL << VIRTIO_BLK_F_BLK_SIZE |
			   1ULL << VIRTIO_BLK_F_FLUSH;
	if (read_only)
		d->dev_features |= 1ULL << VIRTIO_BLK_F_RO;
	/* struct virtio_blk_config: capacity @0, size_max @8, seg_max @12, geometry @16,
	 * blk_size @20, topology @24..31, writeback @32 ... */
	st64(d->config + 0, d->capacity);
	st32(d->config + 12, VIRTIO_BLK_SEG_MAX);
	st32(d->config + 20, (uint32_t)SECTOR);
	d->config_len = 36;
	return d;
}

void virtio_destroy(struct virtio_dev *d)
{
	if (!d)
		return;
	if (d->fd >= 0)
		close(d->fd);
	pthread_mutex_destroy(&d->lock);
	free(d->xfer);
	free(d);
}

uint32_t virtio_device_id(const struct virtio_dev *d)
{
	return d->device_id;
}

uint8_t virtio_status(struct virtio_dev *d)
{
	pthread_mutex_lock(&d->lock);
	uint8_t s = d->status;
	pthread_mutex_unlock(&d->lock);
	return s;
}

bool virtio_irq_level(struct virtio_dev *d)
{
	pthread_mutex_lock(&d->lock);
	bool l = d->line;
	pthread_mutex_unlock(&d->lock);
	return l;
}

uint64_t virtio_blk_capacity(const struct virtio_dev *d)
{
	return d->device_id == VIRTIO_ID_BLOCK ? d->capacity : 0;
}

void virtio_get_stats(struct virtio_dev *d, struct virtio_stats *out)
{
	pthread_mutex_lock(&d->lock);
	*out = d->stats;
	pthread_mutex_unlock(&d->lock);
}
