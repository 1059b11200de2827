/*
 * The reference host's virtio-mmio devices (host/virtio.c) against a driver written here that does
 * what Linux's virtio_mmio + virtio_ring do for a realm: the init sequence, split rings in a fake
 * guest memory, DMA addresses carrying the realm's shared bit. Console TX/RX, block read, write,
 * flush and GET_ID on a temporary image, and hostile rings (loops, bad indices, bad addresses).
 */
#include <CUnit/Basic.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "host/virtio.h"

#define MEM_BASE   0x80000000ULL
#define MEM_SIZE   (1ULL << 20)
#define SHARED     (1ULL << 32)          /* ipa_bits 33 */
#define QSIZE      16U
#define QAREA(q)   (MEM_BASE + 0x4000ULL * (q))
#define BUF        (MEM_BASE + 0x10000ULL)

static uint8_t mem[MEM_SIZE];
static unsigned shared_seen;      /* accesses that still had the shared bit: must stay 0 */
static int irq_level, irq_calls;
static char outbuf[8192];
static pthread_mutex_t mem_lock = PTHREAD_MUTEX_INITIALIZER;
static bool threaded;           /* test_threads: the callbacks take mem_lock */
static size_t outlen;

static int mread(void *ctx, uint64_t ipa, void *buf, size_t len)
{
	if (ipa & SHARED)
		shared_seen++;
	if (ipa < MEM_BASE || ipa - MEM_BASE > MEM_SIZE || len > MEM_SIZE - (ipa - MEM_BASE))
		return -1;
	if (threaded)
		pthread_mutex_lock(&mem_lock);
	memcpy(buf, mem + (ipa - MEM_BASE), len);
	if (threaded)
		pthread_mutex_unlock(&mem_lock);
	return 0;
}

static int mwrite(void *ctx, uint64_t ipa, const void *buf, size_t len)
{
	if (ipa & SHARED)
		shared_seen++;
	if (ipa < MEM_BASE || ipa - MEM_BASE > MEM_SIZE || len > MEM_SIZE - (ipa - MEM_BASE))
		return -1;
	if (threaded)
		pthread_mutex_lock(&mem_lock);
	memcpy(mem + (ipa - MEM_BASE), buf, len);
	if (threaded)
		pthread_mutex_unlock(&mem_lock);
	return 0;
}

static void set_irq(void *ctx, bool level)
{
	irq_level = level;
	irq_calls++;
}

static void out_fn(void *ctx, const void *buf, size_t len)
{
	if (len > sizeof(outbuf) - outlen)
		len = sizeof(outbuf) - outlen;
	memcpy(outbuf + outlen, buf, len);
	outlen += len;
}

static const struct virtio_bus bus = { { mread, mwrite, set_irq }, NULL, SHARED };

/* ---- guest memory and the test's driver ---- */

static uint8_t *gp(uint64_t ipa) { return mem + (ipa - MEM_BASE); }
static void g16(uint64_t ipa, uint16_t v) { uint8_t *p = gp(ipa); p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static void g32(uint64_t ipa, uint32_t v) { g16(ipa, (uint16_t)v); g16(ipa + 2, (uint16_t)(v >> 16)); }
static void g64(uint64_t ipa, uint64_t v) { g32(ipa, (uint32_t)v); g32(ipa + 4, (uint32_t)(v >> 32)); }
static uint16_t r16(uint64_t ipa) { const uint8_t *p = gp(ipa); return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t r32(uint64_t ipa) { return r16(ipa) | (uint32_t)r16(ipa + 2) << 16; }

static struct virtio_dev *dev;
static uint64_t dma_bit = SHARED;     /* what the driver ORs into DMA addresses */
static uint16_t avail_idx[2];

static uint32_t rd(uint64_t off)
{
	uint64_t v = 0xDEAD;
	CU_ASSERT_TRUE(virtio_mmio(dev, off, 4, false, &v));
	return (uint32_t)v;
}

static void wr(uint64_t off, uint32_t v)
{
	uint64_t x = v;
	CU_ASSERT_TRUE(virtio_mmio(dev, off, 4, true, &x));
}

static uint64_t cfg(uint64_t off, unsigned size)
{
	uint64_t v = 0xDEAD;
	CU_ASSERT_TRUE(virtio_mmio(dev, 0x100 + off, size, false, &v));
	return v;
}

static uint64_t dev_feats(void)
{
	wr(0x014, 1);
	uint64_t hi = rd(0x010);
	wr(0x014, 0);
	return hi << 32 | rd(0x010);
}

static void set_queue(unsigned q, uint32_t num)
{
	wr(0x030, q);
	CU_ASSERT_EQUAL(rd(0x044), 0);
	CU_ASSERT_EQUAL(rd(0x034), VIRTIO_QUEUE_MAX);
	wr(0x038, num);
	uint64_t desc = QAREA(q) | dma_bit, avail = desc + 0x1000, used = desc + 0x2000;
	wr(0x080, (uint32_t)desc);
	wr(0x084, (uint32_t)(desc >> 32));
	wr(0x090, (uint32_t)avail);
	wr(0x094, (uint32_t)(avail >> 32));
	wr(0x0A0, (uint32_t)used);
	wr(0x0A4, (uint32_t)(used >> 32));
	wr(0x044, 1);
}

/* Linux's order: reset, ACKNOWLEDGE, DRIVER, features, FEATURES_OK (checked), queues, DRIVER_OK. */
static void drv_setup(uint64_t want, unsigned nq, bool driver_ok)
{
	memset(mem, 0, 0x10000);            /* rings */
	avail_idx[0] = avail_idx[1] = 0;
	wr(0x070, 0);
	CU_ASSERT_EQUAL(rd(0x070), 0);
	wr(0x070, VIRTIO_STATUS_ACKNOWLEDGE);
	wr(0x070, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	uint64_t f = dev_feats() & want;
	wr(0x024, 0);
	wr(0x020, (uint32_t)f);
	wr(0x024, 1);
	wr(0x020, (uint32_t)(f >> 32));
	uint32_t st = VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK;
	wr(0x070, st);
	CU_ASSERT_EQUAL(rd(0x070), st);
	for (unsigned q = 0; q < nq; q++)
		set_queue(q, QSIZE);
	if (driver_ok) {
		wr(0x070, st | VIRTIO_STATUS_DRIVER_OK);
		CU_ASSERT_EQUAL(rd(0x070), st | VIRTIO_STATUS_DRIVER_OK);
	}
}

#define ALL_FEATURES (~0ULL)

struct sg { uint64_t ipa; uint32_t len; bool write; };

static void put_desc(uint64_t table, unsigned i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
	uint64_t e = table + 16ULL * i;
	g64(e, addr);
	g32(e + 8, len);
	g16(e + 12, flags);
	g16(e + 14, next);
}

/* Post a chain at descriptor 0 of queue q (indirect: one descriptor pointing at a table). */
static void post(unsigned q, const struct sg *s, unsigned n, bool indirect)
{
	uint64_t desc = QAREA(q), avail = desc + 0x1000;
	uint64_t table = indirect ? QAREA(q) + 0x3000 : desc;
	for (unsigned i = 0; i < n; i++)
		put_desc(table, i, s[i].ipa | dma_bit, s[i].len,
			 (uint16_t)((s[i].write ? 2 : 0) | (i + 1 < n ? 1 : 0)), (uint16_t)(i + 1));
	if (indirect)
		put_desc(desc, 0, table | dma_bit, 16 * n, 4, 0);
	g16(avail + 4 + 2 * (avail_idx[q] % QSIZE), 0);
	avail_idx[q]++;
	g16(avail + 2, avail_idx[q]);
}

static void notify(unsigned q) { wr(0x050, q); }
static uint16_t used_idx(unsigned q) { return r16(QAREA(q) + 0x2000 + 2); }
static uint32_t used_len(unsigned q, uint16_t i) { return r32(QAREA(q) + 0x2000 + 4 + 8 * (i % QSIZE) + 4); }

static void ack_all(void)
{
	wr(0x064, rd(0x060));
}

static bool needs_reset(void)
{
	return virtio_status(dev) & VIRTIO_STATUS_NEEDS_RESET;
}

/* ---- console ---- */

static void console_new(void)
{
	virtio_destroy(dev);
	dev = virtio_console_create(&bus, NULL, out_fn, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(dev);
	irq_level = 0;
	outlen = 0;
	dma_bit = SHARED;
}

static void test_registers(void)
{
	console_new();
	CU_ASSERT_EQUAL(rd(0x000), 0x74726976);
	CU_ASSERT_EQUAL(rd(0x004), 2);
	CU_ASSERT_EQUAL(rd(0x008), VIRTIO_ID_CONSOLE);
	CU_ASSERT_EQUAL(rd(0x00C), VIRTIO_MMIO_VENDOR);
	uint64_t f = dev_feats();
	CU_ASSERT_TRUE(((f) >> VIRTIO_F_VERSION_1) & 1);
	CU_ASSERT_TRUE(((f) >> VIRTIO_F_ACCESS_PLATFORM) & 1);
	CU_ASSERT_TRUE(((f) >> VIRTIO_F_INDIRECT_DESC) & 1);
	CU_ASSERT_FALSE(f & 2);                     /* no MULTIPORT */
	wr(0x014, 7);
	CU_ASSERT_EQUAL(rd(0x010), 0);
	wr(0x030, 1);
	CU_ASSERT_EQUAL(rd(0x034), VIRTIO_QUEUE_MAX);
	wr(0x030, 2);
	CU_ASSERT_EQUAL(rd(0x034), 0);              /* no control queues */
	CU_ASSERT_EQUAL(rd(0x0B0), 0xFFFFFFFFU);    /* no shared memory region */
	CU_ASSERT_EQUAL(cfg(4, 4), 0);              /* max_nr_ports */
	CU_ASSERT_EQUAL(cfg(12, 4), 0);             /* beyond the console's config */
	uint64_t v = 7;
	CU_ASSERT_TRUE(virtio_mmio(dev, 0x000, 2, false, &v));
	CU_ASSERT_EQUAL(v, 0);                      /* registers are 32-bit only */
	CU_ASSERT_TRUE(virtio_mmio(dev, 0x002, 4, false, &v));
	CU_ASSERT_EQUAL(v, 0);
	CU_ASSERT_FALSE(virtio_mmio(dev, 0x200, 4, false, &v));
	wr(0x000, 0);                               /* read-only: ignored */
	CU_ASSERT_EQUAL(rd(0x000), 0x74726976);
}

static void test_negotiation(void)
{
	console_new();
	wr(0x070, 3);
	/* without VERSION_1: FEATURES_OK does not stick */
	wr(0x024, 1);
	wr(0x020, 0);
	wr(0x070, 3 | 8);
	CU_ASSERT_EQUAL(rd(0x070), 3);
	/* a feature not offered */
	wr(0x020, 1);
	wr(0x024, 0);
	wr(0x020, 1U << 5);
	wr(0x070, 3 | 8);
	CU_ASSERT_EQUAL(rd(0x070), 3);
	/* DRIVER_OK without FEATURES_OK */
	wr(0x070, 3 | 4);
	CU_ASSERT_EQUAL(rd(0x070), 3);
	wr(0x020, 0);
	wr(0x070, 3 | 8);
	CU_ASSERT_EQUAL(rd(0x070), 11);
	/* features frozen after FEATURES_OK */
	wr(0x020, 1U << 28);
	wr(0x070, 0);
	CU_ASSERT_EQUAL(rd(0x070), 0);
	/* ACCESS_PLATFORM may be declined (a guest without a shared-memory rule) */
	drv_setup(1ULL << VIRTIO_F_VERSION_1, 2, true);
	CU_ASSERT_FALSE(needs_reset());
}

static void test_console_tx(void)
{
	console_new();
	drv_setup(ALL_FEATURES, 2, true);
	memcpy(gp(BUF), "hello ", 6);
	memcpy(gp(BUF + 0x100), "world\n", 6);
	struct sg s[2] = { { BUF, 6, false }, { BUF + 0x100, 6, false } };
	int before = irq_calls;
	post(1, s, 2, false);
	notify(1);
	CU_ASSERT_EQUAL(outlen, 12);
	CU_ASSERT_EQUAL(memcmp(outbuf, "hello world\n", 12), 0);
	CU_ASSERT_EQUAL(used_idx(1), 1);
	CU_ASSERT_EQUAL(used_len(1, 0), 0);
	CU_ASSERT_EQUAL(rd(0x060), VIRTIO_INT_VRING);
	CU_ASSERT_TRUE(irq_level);
	CU_ASSERT_TRUE(virtio_irq_level(dev));
	ack_all();
	CU_ASSERT_FALSE(irq_level);
	CU_ASSERT_EQUAL(irq_calls, before + 2);
	/* indirect, and a driver that does not set the shared bit (Linux before 6.15) */
	dma_bit = 0;
	post(1, s, 2, true);
	notify(1);
	CU_ASSERT_EQUAL(outlen, 24);
	CU_ASSERT_EQUAL(used_idx(1), 2);
	/* VIRTQ_AVAIL_F_NO_INTERRUPT: served, no interrupt */
	ack_all();
	g16(QAREA(1) + 0x1000, 1);
	post(1, s, 1, false);
	notify(1);
	CU_ASSERT_EQUAL(used_idx(1), 3);
	CU_ASSERT_EQUAL(rd(0x060), 0);
	CU_ASSERT_FALSE(irq_level);
	/* emergency write */
	uint64_t ch = 'Z';
	CU_ASSERT_TRUE(virtio_mmio(dev, 0x108, 4, true, &ch));
	CU_ASSERT_EQUAL(outbuf[outlen - 1], 'Z');
	CU_ASSERT_EQUAL(shared_seen, 0);
	CU_ASSERT_FALSE(needs_reset());
	struct virtio_stats st;
	virtio_get_stats(dev, &st);
	CU_ASSERT_EQUAL(st.requests, 3);
	CU_ASSERT_EQUAL(st.faults, 0);
}

static void test_console_rx(void)
{
	console_new();
	/* input before the driver is there waits */
	CU_ASSERT_EQUAL(virtio_console_input(dev, "abcdefg", 7), 7);
	drv_setup(ALL_FEATURES, 2, true);
	memset(gp(BUF), 0, 64);
	struct sg s = { BUF, 4, true };
	post(0, &s, 1, false);
	notify(0);
	CU_ASSERT_EQUAL(used_idx(0), 1);
	CU_ASSERT_EQUAL(used_len(0, 0), 4);
	CU_ASSERT_EQUAL(memcmp(gp(BUF), "abcd", 4), 0);
	CU_ASSERT_TRUE(irq_level);
	ack_all();
	s.ipa = BUF + 16;
	s.len = 32;
	post(0, &s, 1, false);
	notify(0);
	CU_ASSERT_EQUAL(used_idx(0), 2);
	CU_ASSERT_EQUAL(used_len(0, 1), 3);
	CU_ASSERT_EQUAL(memcmp(gp(BUF + 16), "efg", 3), 0);
	/* a buffer posted first, input later: delivered at once */
	ack_all();
	s.ipa = BUF + 64;
	post(0, &s, 1, false);
	notify(0);
	CU_ASSERT_EQUAL(used_idx(0), 2);
	CU_ASSERT_FALSE(irq_level);
	CU_ASSERT_EQUAL(virtio_console_input(dev, "xy", 2), 2);
	CU_ASSERT_EQUAL(used_idx(0), 3);
	CU_ASSERT_EQUAL(memcmp(gp(BUF + 64), "xy", 2), 0);
	CU_ASSERT_TRUE(irq_level);
	/* the pending buffer is bounded */
	static char big[5000];
	memset(big, 'q', sizeof(big));
	CU_ASSERT_EQUAL(virtio_console_input(dev, big, sizeof(big)), 4096);
	CU_ASSERT_EQUAL(virtio_console_input(dev, big, 1), 0);
	CU_ASSERT_EQUAL(shared_seen, 0);
}

/* ---- block ---- */

#define SECTORS 64
static char img[64];

static void make_image(void)
{
	snprintf(img, sizeof(img), "/tmp/rmmemu-virtio-XXXXXX");
	int fd = mkstemp(img);
	CU_ASSERT_FATAL(fd >= 0);
	static uint8_t data[SECTORS * 512];
	for (unsigned i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i / 512 + i * 7);
	CU_ASSERT_EQUAL(write(fd, data, sizeof(data)), (ssize_t)sizeof(data));
	close(fd);
}

static void blk_new(bool ro, const char *serial)
{
	char err[256] = "";
	virtio_destroy(dev);
	dev = virtio_blk_create(&bus, img, ro, serial, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(dev);
	irq_level = 0;                  /* the new device's line starts low */
	dma_bit = SHARED;
	drv_setup(ALL_FEATURES, 1, true);
}

#define HDR    (BUF)
#define DATA   (BUF + 0x1000)
#define STATUS (BUF + 0x800)

/* A request: header, data (len bytes, device-writable for IN/GET_ID), status. */
static uint8_t blk_req(uint32_t type, uint64_t sector, uint32_t len, bool indirect)
{
	g32(HDR, type);
	g32(HDR + 4, 0);
	g64(HDR + 8, sector);
	*gp(STATUS) = 0xAA;
	bool in = type == VIRTIO_BLK_T_IN || type == VIRTIO_BLK_T_GET_ID;
	struct sg s[3] = { { HDR, 16, false }, { DATA, len, in }, { STATUS, 1, true } };
	if (len)
		post(0, s, 3, indirect);
	else {
		s[1] = s[2];
		post(0, s, 2, indirect);
	}
	uint16_t before = used_idx(0);
	notify(0);
	CU_ASSERT_EQUAL(used_idx(0), (uint16_t)(before + 1));
	return *gp(STATUS);
}

static uint8_t file_byte(uint64_t off)
{
	uint8_t b = 0;
	FILE *f = fopen(img, "rb");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fseek(f, (long)off, SEEK_SET);
	CU_ASSERT_EQUAL(fread(&b, 1, 1, f), 1);
	fclose(f);
	return b;
}

static void test_blk_config(void)
{
	make_image();
	blk_new(false, NULL);
	CU_ASSERT_EQUAL(rd(0x008), VIRTIO_ID_BLOCK);
	CU_ASSERT_EQUAL(cfg(0, 8), SECTORS);
	CU_ASSERT_EQUAL(cfg(0, 4), SECTORS);
	CU_ASSERT_EQUAL(cfg(4, 4), 0);
	CU_ASSERT_EQUAL(cfg(12, 4), VIRTIO_BLK_SEG_MAX);
	CU_ASSERT_EQUAL(cfg(20, 4), 512);
	CU_ASSERT_EQUAL(virtio_blk_capacity(dev), SECTORS);
	uint64_t f = dev_feats();
	CU_ASSERT_TRUE(((f) >> VIRTIO_BLK_F_FLUSH) & 1);
	CU_ASSERT_TRUE(((f) >> VIRTIO_BLK_F_SEG_MAX) & 1);
	CU_ASSERT_TRUE(((f) >> VIRTIO_BLK_F_BLK_SIZE) & 1);
	CU_ASSERT_FALSE(((f) >> VIRTIO_BLK_F_RO) & 1);
	wr(0x030, 1);
	CU_ASSERT_EQUAL(rd(0x034), 0);              /* one request queue */
	char err[256] = "";
	CU_ASSERT_PTR_NULL(virtio_blk_create(&bus, "/nonexistent/disk.img", false, NULL, err, sizeof(err)));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "/nonexistent/disk.img"));
	CU_ASSERT_PTR_NULL(virtio_blk_create(&bus, "/tmp", true, NULL, err, sizeof(err)));
}

static void test_blk_io(void)
{
	blk_new(false, "disk-serial-0123456789abc");
	/* read sectors 3..4 */
	memset(gp(DATA), 0, 1024);
	CU_ASSERT_EQUAL(blk_req(VIRTIO_BLK_T_IN, 3, 1024, false), VIRTIO_BLK_S_OK);
	CU_ASSERT_EQUAL(used_len(0, 0), 1025);
	bool same = true;
	for (unsigned i = 0; i < 1024; i++)
		same &= *gp(DATA + i) == (uint8_t)((3 * 512 + i) / 512 + (3 * 512 + i) * 7);
	CU_ASSERT_TRUE(same);
	CU_ASSERT_TRUE(irq_level);
	ack_all();
	/* write sector 5 through an indirect table */
	memset(gp(DATA), 0x5A, 512);
	CU_ASSERT_EQUAL(blk_req(VIRTIO_BLK_T_OUT, 5, 512, true), VIRTIO_BLK_S_OK);
	CU_ASSERT_EQUAL(used_len(0, 1), 1);
	CU_ASSERT_EQUAL(file_byte(5 * 512), 0x5A);
	CU_ASSERT_EQUAL(file_byte(6 * 512 - 1), 0x5A);
	CU_ASSERT_NOT_EQUAL(file_byte(6 * 512), 0x5A);
	/* read it back */
	memset(gp(DATA), 0, 512);
	CU_ASSERT_EQUAL(blk_req(VIRTIO_BLK_T_IN, 5, 512, false), VIRTIO_BLK_S_OK);
	CU_ASSERT_EQUAL(*gp(DATA + 511), 0x5A);
	/* the last sector is in range */
	CU_ASSERT_EQUAL(blk_req(VIRTIO_BLK_T_IN, SECTORS - 1, 512, false), VIRTIO_BLK_S_OK);
	CU_ASSERT_EQUAL(blk_req(VIRTIO_BLK_T_FLUSH, 0, 0, false), VIRTIO_BLK_S_OK);
	memset(gp(DATA), 0, 32);
	CU_ASSERT_EQUAL(blk_req(VIRTIO_BLK_T_GET_ID, 0, 20, false), VIRTIO_BLK_S_OK);
	CU_ASSERT_EQUAL(memcmp(gp(DATA), "disk-serial-01234567", 20), 0);
	CU_ASSERT_EQUAL(*gp(DATA + 20), 0);
	CU_ASSERT_EQUAL(blk_req(11 /* DISCARD */, 0, 16, false), VIRTIO_BLK_S_UNSUPP);
	CU_ASSERT_EQUAL(blk_req(0x1234, 0, 0, false), VIRTIO_BLK_S_UNSUPP);
	/* out of range */
	CU_ASSERT_EQUAL(blk_req(VIRTIO_BLK_T_IN, SECTORS - 1, 1024, false), VIRTIO_BLK_S_IOERR);
	CU_ASSERT_EQUAL(blk_req(VIRTIO_BLK_T_IN, SECTORS, 512, false), VIRTIO_BLK_S_IOERR);
	CU_ASSERT_EQUAL(blk_req(VIRTIO_BLK_T_OUT, UINT64_MAX, 512, false), VIRTIO_BLK_S_IOERR);
	CU_ASSERT_EQUAL(blk_req(VIRTIO_BLK_T_IN, UINT64_MAX / 512 + 1, 512, false), VIRTIO_BLK_S_IOERR);
	/* not a multiple of 512 */
	CU_ASSERT_EQUAL(blk_req(VIRTIO_BLK_T_IN, 0, 100, false), VIRTIO_BLK_S_IOERR);
	/* a request without a header: IOERR in the status byte */
	struct sg s = { STATUS, 1, true };
	*gp(STATUS) = 0xAA;
	post(0, &s, 1, false);
	notify(0);
	CU_ASSERT_EQUAL(*gp(STATUS), VIRTIO_BLK_S_IOERR);
	CU_ASSERT_FALSE(needs_reset());
	CU_ASSERT_EQUAL(shared_seen, 0);
	/* a 256-sector read spanning the chunked copy: 64 sectors = the whole disk */
	CU_ASSERT_EQUAL(blk_req(VIRTIO_BLK_T_IN, 0, SECTORS * 512, false), VIRTIO_BLK_S_OK);
	CU_ASSERT_EQUAL(*gp(DATA + 5 * 512), 0x5A);
}

static void test_blk_read_only(void)
{
	blk_new(true, NULL);
	CU_ASSERT_TRUE(((dev_feats()) >> VIRTIO_BLK_F_RO) & 1);
	memset(gp(DATA), 0x77, 512);
	CU_ASSERT_EQUAL(blk_req(VIRTIO_BLK_T_OUT, 7, 512, false), VIRTIO_BLK_S_IOERR);
	CU_ASSERT_NOT_EQUAL(file_byte(7 * 512), 0x77);
	CU_ASSERT_EQUAL(blk_req(VIRTIO_BLK_T_IN, 7, 512, false), VIRTIO_BLK_S_OK);
	CU_ASSERT_EQUAL(blk_req(VIRTIO_BLK_T_FLUSH, 0, 0, false), VIRTIO_BLK_S_OK);
	memset(gp(DATA), 0, 32);
	CU_ASSERT_EQUAL(blk_req(VIRTIO_BLK_T_GET_ID, 0, 20, false), VIRTIO_BLK_S_OK);
	CU_ASSERT_EQUAL(strcmp((char *)gp(DATA), "rmmemu-vda"), 0);
}

/* ---- hostile drivers ---- */

/* The device is marked, says so through a config interrupt, serves nothing more, and works
 * again after a reset. */
static void expect_reset_needed(void)
{
	CU_ASSERT_TRUE(needs_reset());
	CU_ASSERT_TRUE(rd(0x060) & VIRTIO_INT_CONFIG);
	CU_ASSERT_TRUE(irq_level);
	uint16_t u = used_idx(0);
	notify(0);
	CU_ASSERT_EQUAL(used_idx(0), u);
	blk_new(false, NULL);
	CU_ASSERT_FALSE(needs_reset());
	CU_ASSERT_FALSE(irq_level);
	CU_ASSERT_EQUAL(blk_req(VIRTIO_BLK_T_IN, 0, 512, false), VIRTIO_BLK_S_OK);
}

static void post_raw_head(uint16_t head)
{
	uint64_t avail = QAREA(0) + 0x1000;
	g16(avail + 4 + 2 * (avail_idx[0] % QSIZE), head);
	avail_idx[0]++;
	g16(avail + 2, avail_idx[0]);
}

static void test_hostile_chains(void)
{
	uint64_t d0 = QAREA(0);
	/* a loop: 0 -> 1 -> 0 */
	blk_new(false, NULL);
	put_desc(d0, 0, HDR | SHARED, 16, 1, 1);
	put_desc(d0, 1, DATA | SHARED, 512, 1 | 2, 0);
	post_raw_head(0);
	notify(0);
	expect_reset_needed();
	/* a self loop */
	put_desc(d0, 0, HDR | SHARED, 16, 1, 0);
	post_raw_head(0);
	notify(0);
	expect_reset_needed();
	/* next beyond the queue */
	put_desc(d0, 0, HDR | SHARED, 16, 1, QSIZE);
	post_raw_head(0);
	notify(0);
	expect_reset_needed();
	/* head beyond the queue */
	post_raw_head(QSIZE + 3);
	notify(0);
	expect_reset_needed();
	/* avail idx far beyond what the ring holds */
	g16(QAREA(0) + 0x1000 + 2, (uint16_t)(avail_idx[0] + 300));
	notify(0);
	expect_reset_needed();
	/* a readable descriptor after a writable one */
	put_desc(d0, 0, STATUS | SHARED, 1, 1 | 2, 1);
	put_desc(d0, 1, HDR | SHARED, 16, 0, 0);
	post_raw_head(0);
	notify(0);
	expect_reset_needed();
}

/* Reset, then negotiate VERSION_1 only: status 11. */
static void features_ok(void)
{
	wr(0x070, 0);
	wr(0x070, 3);
	wr(0x024, 0);
	wr(0x020, 0);
	wr(0x024, 1);
	wr(0x020, 1);
	wr(0x070, 11);
	CU_ASSERT_EQUAL(rd(0x070), 11);
}

static void test_hostile_addresses(void)
{
	uint64_t d0 = QAREA(0);
	struct sg s[3] = { { HDR, 16, false }, { DATA, 512, true }, { STATUS, 1, true } };
	blk_new(false, NULL);
	g32(HDR, VIRTIO_BLK_T_IN);
	g64(HDR + 8, 0);
	/* data outside guest memory */
	s[1].ipa = MEM_BASE + MEM_SIZE - 256;
	post(0, s, 3, false);
	notify(0);
	expect_reset_needed();
	/* a length that wraps */
	put_desc(d0, 0, HDR | SHARED, 16, 1, 1);
	put_desc(d0, 1, 0xFFFFFFFFFFFFF000ULL, 0x2000, 1 | 2, 2);
	put_desc(d0, 2, STATUS | SHARED, 1, 2, 0);
	post_raw_head(0);
	notify(0);
	expect_reset_needed();
	/* bits above the shared bit */
	put_desc(d0, 1, DATA | SHARED | (1ULL << 40), 512, 1 | 2, 2);
	post_raw_head(0);
	notify(0);
	expect_reset_needed();
	/* a buffer straddling the protected/shared boundary */
	put_desc(d0, 1, SHARED - 256, 512, 1 | 2, 2);
	post_raw_head(0);
	notify(0);
	expect_reset_needed();
	/* the descriptor table itself outside memory: the queue is refused at QueueReady */
	features_ok();
	wr(0x030, 0);
	wr(0x038, QSIZE);
	wr(0x080, 0);
	wr(0x084, 0x3);               /* 0x3_0000_0000: above the 33-bit IPA space */
	wr(0x044, 1);
	CU_ASSERT_TRUE(needs_reset());
	CU_ASSERT_EQUAL(rd(0x044), 0);
	/* a queue size that is not a power of two */
	features_ok();
	wr(0x030, 0);
	wr(0x038, 3);
	wr(0x044, 1);
	CU_ASSERT_TRUE(needs_reset());
	/* rings in memory the host refuses (valid IPA, no memory): fails at the first notify */
	features_ok();
	CU_ASSERT_FALSE(needs_reset());
	wr(0x038, QSIZE);
	wr(0x080, 0x1000);
	wr(0x084, 1);
	wr(0x090, 0x2000);
	wr(0x094, 1);
	wr(0x0A0, 0x3000);
	wr(0x0A4, 1);
	wr(0x044, 1);
	CU_ASSERT_FALSE(needs_reset());
	wr(0x070, 15);
	notify(0);
	CU_ASSERT_TRUE(needs_reset());
}

static void test_hostile_indirect(void)
{
	uint64_t d0 = QAREA(0), t = QAREA(0) + 0x3000;
	blk_new(false, NULL);
	/* a loop inside the table */
	put_desc(t, 0, HDR | SHARED, 16, 1, 1);
	put_desc(t, 1, STATUS | SHARED, 1, 1 | 2, 0);
	put_desc(d0, 0, t | SHARED, 32, 4, 0);
	post_raw_head(0);
	notify(0);
	expect_reset_needed();
	/* nested indirect */
	put_desc(t, 0, t | SHARED, 32, 4, 0);
	put_desc(d0, 0, t | SHARED, 32, 4, 0);
	post_raw_head(0);
	notify(0);
	expect_reset_needed();
	/* INDIRECT with NEXT */
	put_desc(t, 0, HDR | SHARED, 16, 0, 0);
	put_desc(d0, 0, t | SHARED, 16, 4 | 1, 1);
	post_raw_head(0);
	notify(0);
	expect_reset_needed();
	/* a table length that is not a multiple of 16, and one larger than a chain may be */
	put_desc(d0, 0, t | SHARED, 24, 4, 0);
	post_raw_head(0);
	notify(0);
	expect_reset_needed();
	put_desc(d0, 0, t | SHARED, 16 * (VIRTIO_QUEUE_MAX + 1), 4, 0);
	post_raw_head(0);
	notify(0);
	expect_reset_needed();
	/* indirect while the driver did not accept the feature */
	drv_setup(~(1ULL << VIRTIO_F_INDIRECT_DESC), 1, true);
	put_desc(t, 0, HDR | SHARED, 16, 0, 0);
	put_desc(d0, 0, t | SHARED, 16, 4, 0);
	post_raw_head(0);
	notify(0);
	CU_ASSERT_TRUE(needs_reset());
}

static void test_hostile_protocol(void)
{
	/* buffers posted and notified before DRIVER_OK are not served until DRIVER_OK */
	blk_new(false, NULL);
	drv_setup(ALL_FEATURES, 1, false);
	g32(HDR, VIRTIO_BLK_T_FLUSH);
	struct sg s[2] = { { HDR, 16, false }, { STATUS, 1, true } };
	*gp(STATUS) = 0xAA;
	post(0, s, 2, false);
	notify(0);
	CU_ASSERT_EQUAL(used_idx(0), 0);
	CU_ASSERT_EQUAL(*gp(STATUS), 0xAA);
	wr(0x070, 15);
	CU_ASSERT_EQUAL(used_idx(0), 1);
	CU_ASSERT_EQUAL(*gp(STATUS), VIRTIO_BLK_S_OK);
	/* notify of queues that do not exist */
	uint8_t st = virtio_status(dev);
	notify(1);
	notify(5);
	wr(0x050, 0xFFFFFFFFU);
	wr(0x050, 0x10000U);
	CU_ASSERT_EQUAL(virtio_status(dev), st);
	/* queue registers of a missing queue, and of a ready queue, are ignored */
	wr(0x030, 9);
	wr(0x038, 8);
	wr(0x044, 1);
	CU_ASSERT_EQUAL(rd(0x044), 0);
	wr(0x030, 0);
	wr(0x080, 0x1234);
	CU_ASSERT_EQUAL(blk_req(VIRTIO_BLK_T_FLUSH, 0, 0, false), VIRTIO_BLK_S_OK);
	/* the config space: odd sizes read 0, writes are ignored */
	uint64_t v = 99;
	CU_ASSERT_TRUE(virtio_mmio(dev, 0x100, 3, false, &v));
	CU_ASSERT_EQUAL(v, 0);
	v = 0;
	CU_ASSERT_TRUE(virtio_mmio(dev, 0x100, 8, true, &v));
	CU_ASSERT_EQUAL(cfg(0, 8), SECTORS);
	CU_ASSERT_TRUE(virtio_mmio(dev, 0x1FC, 8, false, &v));
	CU_ASSERT_EQUAL(v, 0);
	/* the console before its driver: input waits, notifies do nothing */
	console_new();
	notify(0);
	notify(1);
	CU_ASSERT_EQUAL(outlen, 0);
	CU_ASSERT_FALSE(needs_reset());
	/* the driver resets: the line drops */
	drv_setup(ALL_FEATURES, 2, true);
	struct sg t = { BUF, 8, true };
	post(0, &t, 1, false);
	notify(0);
	virtio_console_input(dev, "k", 1);
	CU_ASSERT_TRUE(irq_level);
	wr(0x070, 0);
	CU_ASSERT_FALSE(irq_level);
	CU_ASSERT_EQUAL(rd(0x060), 0);
}

/* Input from one thread while the test's driver posts receive buffers and acknowledges
 * interrupts: the device lock keeps the ring consistent, every byte arrives once. Guest memory is
 * touched under mem_lock on both sides (never held across a device call: the device calls the
 * memory callbacks with its own lock held). */
static void *input_thread(void *arg)
{
	for (int i = 0; i < 2000;) {
		if (virtio_console_input(dev, "i", 1) == 1)
			i++;
		else
			usleep(10);
	}
	return NULL;
}

static void test_threads(void)
{
	console_new();
	drv_setup(ALL_FEATURES, 2, true);
	threaded = true;
	pthread_t th;
	CU_ASSERT_EQUAL_FATAL(pthread_create(&th, NULL, input_thread, NULL), 0);
	uint16_t seen = 0;
	unsigned got = 0, bad = 0;
	for (long i = 0; i < 2000000 && got < 2000; i++) {
		pthread_mutex_lock(&mem_lock);
		bool idle = avail_idx[0] == used_idx(0);
		if (idle) {
			struct sg s = { BUF + 0x100 * (avail_idx[0] % QSIZE), 64, true };
			post(0, &s, 1, false);
		}
		pthread_mutex_unlock(&mem_lock);
		if (idle)
			notify(0);
		pthread_mutex_lock(&mem_lock);
		for (; seen != used_idx(0); seen++) {
			uint32_t n = used_len(0, seen);
			const uint8_t *b = gp(BUF + 0x100 * (seen % QSIZE));
			for (uint32_t k = 0; k < n; k++)
				bad += b[k] != 'i';
			got += n;
		}
		pthread_mutex_unlock(&mem_lock);
		ack_all();
	}
	pthread_join(th, NULL);
	threaded = false;
	CU_ASSERT_EQUAL(got, 2000);
	CU_ASSERT_EQUAL(bad, 0);
	CU_ASSERT_FALSE(needs_reset());
}

int main(void)
{
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	CU_pSuite s = CU_add_suite("virtio", NULL, NULL);
	CU_add_test(s, "registers", test_registers);
	CU_add_test(s, "feature negotiation", test_negotiation);
	CU_add_test(s, "console transmit", test_console_tx);
	CU_add_test(s, "console receive", test_console_rx);
	CU_add_test(s, "block config", test_blk_config);
	CU_add_test(s, "block read write flush get_id", test_blk_io);
	CU_add_test(s, "block read-only image", test_blk_read_only);
	CU_add_test(s, "hostile chains", test_hostile_chains);
	CU_add_test(s, "hostile addresses", test_hostile_addresses);
	CU_add_test(s, "hostile indirect tables", test_hostile_indirect);
	CU_add_test(s, "protocol misuse", test_hostile_protocol);
	CU_add_test(s, "input from another thread", test_threads);
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	unsigned failed = CU_get_number_of_failures();
	virtio_destroy(dev);
	if (img[0])
		unlink(img);
	CU_cleanup_registry();
	return failed ? 1 : 0;
}
