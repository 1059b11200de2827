/*
 * The PL011 UART the reference host emulates when the realm has a vGIC (ARM DDI 0183, r1p5): TX is
 * instant (the FIFO is always empty, so the TX interrupt is raised by every character written and
 * stays until UARTICR clears it), RX has a 32-byte FIFO fed by the host from its console input,
 * the RX interrupt asserts at the UARTIFLS level and the RX timeout as soon as data waits below it
 * (no character times to wait for). PrimeCell IDs so that Linux's AMBA bus binds amba-pl011.
 */
#include <string.h>

#include "host/vm_internal.h"

#define DR     0x000
#define RSR    0x004
#define FR     0x018
#define ILPR   0x020
#define IBRD   0x024
#define FBRD   0x028
#define LCR_H  0x02C
#define CR     0x030
#define IFLS   0x034
#define IMSC   0x038
#define RIS    0x03C
#define MIS    0x040
#define ICR    0x044
#define DMACR  0x048

#define FR_RXFE  (1U << 4)
#define FR_RXFF  (1U << 6)
#define FR_TXFE  (1U << 7)
#define LCRH_FEN (1U << 4)
#define INT_RX   (1U << 4)
#define INT_TX   (1U << 5)
#define INT_RT   (1U << 6)

/* PeriphID0..3 (part 0x011, designer 0x41, revision 3: r1p5, 32-byte FIFOs), PCellID0..3. */
static const uint8_t ids[8] = { 0x11, 0x10, 0x34, 0x00, 0x0D, 0xF0, 0x05, 0xB1 };

void pl011_reset(struct pl011 *u, FILE *out)
{
	memset(u, 0, sizeof(*u));
	u->out = out;
	u->cr = 0x300;        /* TXE, RXE */
	u->ifls = 0x12;       /* half full both ways */
	u->tx_int = true;
}

static unsigned depth(const struct pl011 *u)
{
	return (u->lcr_h & LCRH_FEN) ? PL011_FIFO : 1;
}

static unsigned rx_trigger(const struct pl011 *u)
{
	static const unsigned eighths[8] = { 1, 2, 4, 6, 7, 7, 7, 7 };
	if (!(u->lcr_h & LCRH_FEN))
		return 1;
	return PL011_FIFO * eighths[(u->ifls >> 3) & 7] / 8;
}

static uint32_t ris(const struct pl011 *u)
{
	uint32_t r = u->tx_int ? INT_TX : 0;
	if (u->rx_count >= rx_trigger(u))
		r |= INT_RX;
	if (u->rx_count)
		r |= INT_RT;
	return r;
}

bool pl011_irq(const struct pl011 *u)
{
	return (ris(u) & u->imsc) != 0;
}

unsigned pl011_rx_room(const struct pl011 *u)
{
	unsigned d = depth(u);
	return u->rx_count < d ? d - u->rx_count : 0;
}

/* The realm takes input: a driver enabled the RX (or RX timeout) interrupt, or code polls UARTDR.
 * Until then the host leaves the bytes in its input: a driver that drains the FIFO when it starts
 * (Linux's amba-pl011 does) would lose what came before. */
bool pl011_listening(const struct pl011 *u)
{
	return (u->imsc & (INT_RX | INT_RT)) || u->dr_read;
}

void pl011_rx_push(struct pl011 *u, uint8_t c)
{
	if (!pl011_rx_room(u))
		return;
	u->rx[(u->rx_head + u->rx_count) % PL011_FIFO] = c;
	u->rx_count++;
	u->rx_bytes++;
}

static uint32_t reg_read(struct pl011 *u, unsigned off)
{
	switch (off) {
	case DR: {
		u->dr_read = true;
		if (!u->rx_count)
			return 0;
		uint8_t c = u->rx[u->rx_head];
		u->rx_head = (u->rx_head + 1) % PL011_FIFO;
		u->rx_count--;
		return c;
	}
	case FR:
		return FR_TXFE | (u->rx_count ? 0 : FR_RXFE) | (pl011_rx_room(u) ? 0 : FR_RXFF);
	case ILPR: return u->ilpr;
	case IBRD: return u->ibrd;
	case FBRD: return u->fbrd;
	case LCR_H: return u->lcr_h;
	case CR: return u->cr;
	case IFLS: return u->ifls;
	case IMSC: return u->imsc;
	case RIS: return ris(u);
	case MIS: return ris(u) & u->imsc;
	case DMACR: return u->dmacr;
	default:
		if (off >= 0xFE0 && off <= 0xFFC)
			return ids[(off - 0xFE0) / 4];
		return 0;
	}
}

static void reg_write(struct pl011 *u, unsigned off, uint32_t v)
{
	switch (off) {
	case DR:
		fputc((int)(v & 0xFF), u->out);
		u->tx_unflushed = (v & 0xFF) != '\n';
		if (!u->tx_unflushed)
			fflush(u->out);
		u->tx_bytes++;
		u->tx_int = true;
		break;
	case ILPR: u->ilpr = v & 0xFF; break;
	case IBRD: u->ibrd = v & 0xFFFF; break;
	case FBRD: u->fbrd = v & 0x3F; break;
	case LCR_H: u->lcr_h = v & 0xFF; break;
	case CR: u->cr = v & 0xFFFF; break;
	case IFLS: u->ifls = v & 0x3F; break;
	case IMSC: u->imsc = v & 0x7FF; break;
	case ICR:
		if (v & INT_TX)
			u->tx_int = false;
		break;   /* RX and RT follow the FIFO */
	case DMACR: u->dmacr = v & 7; break;
	default: break;
	}
}

void pl011_access(struct pl011 *u, unsigned off, unsigned size, bool write, uint64_t *val)
{
	(void)size;
	if (write)
		reg_write(u, off & ~3U, (uint32_t)*val);
	else
		*val = reg_read(u, off & ~3U);
	if (!write && (off & 3))
		*val >>= 8 * (off & 3);
}

void pl011_flush(struct pl011 *u)
{
	if (u->tx_unflushed) {
		fflush(u->out);
		u->tx_unflushed = false;
	}
}
