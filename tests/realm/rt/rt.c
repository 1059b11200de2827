/* Realm payload runtime: boot, console, SMC wrappers, exception dispatch. */
#include "rt.h"

uint64_t rt_ipa_bits;
uint64_t rt_shared_bit;
unsigned rt_pass, rt_fail;
static rt_handler_t handler;
static uint8_t realm_config[4096] __attribute__((aligned(4096)));

void rt_smc_call(struct rt_smc *r)
{
	register uint64_t x0 __asm__("x0") = r->x[0];
	register uint64_t x1 __asm__("x1") = r->x[1];
	register uint64_t x2 __asm__("x2") = r->x[2];
	register uint64_t x3 __asm__("x3") = r->x[3];
	register uint64_t x4 __asm__("x4") = r->x[4];
	register uint64_t x5 __asm__("x5") = r->x[5];
	register uint64_t x6 __asm__("x6") = r->x[6];
	register uint64_t x7 __asm__("x7") = r->x[7];
	register uint64_t x8 __asm__("x8") = r->x[8];
	register uint64_t x9 __asm__("x9") = r->x[9];
	register uint64_t x10 __asm__("x10") = r->x[10];
	__asm__ volatile("smc #0"
			 : "+r"(x0), "+r"(x1), "+r"(x2), "+r"(x3), "+r"(x4), "+r"(x5), "+r"(x6), "+r"(x7),
			   "+r"(x8), "+r"(x9), "+r"(x10)
			 :
			 : "x11", "x12", "x13", "x14", "x15", "x16", "x17", "memory");
	r->x[0] = x0; r->x[1] = x1; r->x[2] = x2; r->x[3] = x3; r->x[4] = x4; r->x[5] = x5;
	r->x[6] = x6; r->x[7] = x7; r->x[8] = x8; r->x[9] = x9; r->x[10] = x10;
}

uint64_t rt_smc6(uint64_t fid, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4, uint64_t a5, struct rt_smc *out)
{
	struct rt_smc r = { { fid, a1, a2, a3, a4, a5, 0, 0, 0, 0, 0 } };
	rt_smc_call(&r);
	if (out)
		*out = r;
	return r.x[0];
}

uint64_t rt_host_call(uint16_t imm, uint64_t a1, uint64_t a2, struct rt_host_call *hc)
{
	for (unsigned i = 0; i < 31; i++)
		hc->gprs[i] = 0;
	hc->imm = imm;
	hc->gprs[1] = a1;
	hc->gprs[2] = a2;
	rt_smc6(RSI_HOST_CALL, (uint64_t)hc, 0, 0, 0, 0, NULL);
	return hc->gprs[0];
}

/* ---- console ---- */

void rt_putc(char c)
{
	*(volatile uint8_t *)rt_mmio(RT_UART_OFFSET) = (uint8_t)c;
}

void rt_puts(const char *s)
{
	while (*s)
		rt_putc(*s++);
}

static void put_num(uint64_t v, unsigned base, int width, char pad, bool neg)
{
	char buf[24];
	int n = 0;
	do {
		unsigned d = (unsigned)(v % base);
		buf[n++] = (char)(d < 10 ? '0' + d : 'a' + d - 10);
		v /= base;
	} while (v);
	if (neg)
		buf[n++] = '-';
	while (n < width--)
		rt_putc(pad);
	while (n)
		rt_putc(buf[--n]);
}

void rt_vprintf(const char *fmt, va_list ap)
{
	for (; *fmt; fmt++) {
		if (*fmt != '%') {
			rt_putc(*fmt);
			continue;
		}
		fmt++;
		bool alt = false;
		char pad = ' ';
		int width = 0, lng = 0;
		if (*fmt == '#') {
			alt = true;
			fmt++;
		}
		if (*fmt == '0') {
			pad = '0';
			fmt++;
		}
		while (*fmt >= '0' && *fmt <= '9')
			width = width * 10 + (*fmt++ - '0');
		while (*fmt == 'l') {
			lng++;
			fmt++;
		}
		switch (*fmt) {
		case 'd': {
			int64_t v = lng ? va_arg(ap, int64_t) : va_arg(ap, int);
			put_num(v < 0 ? (uint64_t)-v : (uint64_t)v, 10, width, pad, v < 0);
			break;
		}
		case 'u':
			put_num(lng ? va_arg(ap, uint64_t) : va_arg(ap, unsigned), 10, width, pad, false);
			break;
		case 'x':
			if (alt)
				rt_puts("0x");
			put_num(lng ? va_arg(ap, uint64_t) : va_arg(ap, unsigned), 16, width, pad, false);
			break;
		case 'p':
			rt_puts("0x");
			put_num((uint64_t)va_arg(ap, void *), 16, width, pad, false);
			break;
		case 's':
			rt_puts(va_arg(ap, const char *));
			break;
		case 'c':
			rt_putc((char)va_arg(ap, int));
			break;
		case '%':
			rt_putc('%');
			break;
		default:
			rt_putc('?');
			break;
		}
	}
}

void rt_printf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	rt_vprintf(fmt, ap);
	va_end(ap);
}

void rt_check(bool ok, const char *name, const char *fmt, ...)
{
	if (ok) {
		rt_pass++;
		rt_printf("PASS %s\n", name);
		return;
	}
	rt_fail++;
	rt_printf("FAIL %s: ", name);
	va_list ap;
	va_start(ap, fmt);
	rt_vprintf(fmt, ap);
	va_end(ap);
	rt_putc('\n');
}

/* ---- exceptions ---- */

void rt_set_handler(rt_handler_t h)
{
	handler = h;
}

volatile unsigned rt_sea_count;
volatile uint64_t rt_sea_esr, rt_sea_far;

bool rt_skip_sea(unsigned kind, struct rt_frame *f)
{
	if (RT_KIND_SYNC(kind) && ESR_EC(f->esr) == 0x25 && (f->esr & 0x3F) == 0x10) {
		rt_sea_count++;
		rt_sea_esr = f->esr;
		rt_sea_far = f->far;
		f->elr += 4;
		return true;
	}
	return false;
}

void rt_exception(unsigned kind, struct rt_frame *f);
void rt_exception(unsigned kind, struct rt_frame *f)
{
	if (handler && handler(kind, f))
		return;
	rt_printf("UNEXPECTED EXCEPTION kind %u ESR %#lx ELR %#lx FAR %#lx SPSR %#lx\n", kind,
		  (unsigned long)f->esr, (unsigned long)f->elr, (unsigned long)f->far, (unsigned long)f->spsr);
	rt_fail++;
	rt_exit();
}

/* ---- boot ---- */

unsigned rt_cpu(void)
{
	return (unsigned)(read_sysreg(mpidr_el1) & 0xFF);
}

void rt_exit(void)
{
	rt_printf("DONE pass=%u fail=%u\n", rt_pass, rt_fail);
	rt_smc6(PSCI_SYSTEM_OFF, 0, 0, 0, 0, 0, NULL);
	for (;;)
		__asm__ volatile("wfi");
}

void rt_cpu_off(void)
{
	rt_smc6(PSCI_CPU_OFF, 0, 0, 0, 0, 0, NULL);
	for (;;)
		__asm__ volatile("wfi");
}

__attribute__((weak)) void secondary_main(unsigned cpu)
{
	(void)cpu;
	rt_cpu_off();
}

void rt_boot(uint64_t x0);
void rt_boot(uint64_t x0)
{
	(void)x0;
	for (volatile uint64_t *p = (volatile uint64_t *)__bss_start; p < (volatile uint64_t *)__bss_end; p++)
		*p = 0;
	/* The IPA width tells where the unprotected (shared) half starts: console and devices. */
	struct rt_smc r;
	if (rt_smc6(RSI_REALM_CONFIG, (uint64_t)realm_config, 0, 0, 0, 0, &r) != RSI_SUCCESS) {
		rt_smc6(PSCI_SYSTEM_OFF, 0, 0, 0, 0, 0, NULL);
	}
	rt_ipa_bits = *(volatile uint64_t *)realm_config;
	rt_shared_bit = 1UL << (rt_ipa_bits - 1);
	main();
	rt_exit();
}

void rt_secondary(uint64_t cpu);
void rt_secondary(uint64_t cpu)
{
	secondary_main((unsigned)cpu);
	rt_cpu_off();
}
