/*
 * A tiny bare-metal runtime for realm test payloads: console on an emulated UART at an unprotected
 * IPA (the host sees each byte as an MMIO write exit), RSI and PSCI calls, exception vectors with
 * C handlers, result reporting ("PASS name" / "FAIL name: ..." lines, then "DONE pass=N fail=M").
 */
#ifndef REALM_RT_H
#define REALM_RT_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- platform (kvmtool-like MMIO map, in the unprotected half of the IPA space) ---- */
#define RT_UART_OFFSET     0x01000000UL   /* 8250 THR: a byte written here is console output */
#define RT_TESTDEV_OFFSET  0x0A000000UL   /* host-emulated 256-byte register file */
#define RT_TESTDEV_SIZE    0x100UL
#define RT_HOSTCALL_DONE   0x0D0E         /* RsiHostCall imm: payload finished, X1 = failures */

extern uint64_t rt_ipa_bits;              /* from RSI_REALM_CONFIG */
extern uint64_t rt_shared_bit;            /* 1 << (ipa_bits - 1) */
static inline volatile void *rt_mmio(uint64_t offset) { return (volatile void *)(rt_shared_bit | offset); }

/* ---- console ---- */
void rt_putc(char c);
void rt_puts(const char *s);
void rt_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void rt_vprintf(const char *fmt, va_list ap);

/* ---- results ---- */
extern unsigned rt_pass, rt_fail;
void rt_check(bool ok, const char *name, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
#define CHECK_EQ(name, got, want)                                                                  \
	({ uint64_t __g = (uint64_t)(got), __w = (uint64_t)(want);                                  \
	   rt_check(__g == __w, name, "got %#lx want %#lx", (unsigned long)__g, (unsigned long)__w); })

/* ---- SMC ---- */
struct rt_smc { uint64_t x[11]; };
void rt_smc_call(struct rt_smc *r);
uint64_t rt_smc6(uint64_t fid, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4, uint64_t a5, struct rt_smc *out);

#define RSI_VERSION               0xC4000190UL
#define RSI_FEATURES              0xC4000191UL
#define RSI_MEASUREMENT_READ      0xC4000192UL
#define RSI_MEASUREMENT_EXTEND    0xC4000193UL
#define RSI_ATTEST_TOKEN_INIT     0xC4000194UL
#define RSI_ATTEST_TOKEN_CONTINUE 0xC4000195UL
#define RSI_REALM_CONFIG          0xC4000196UL
#define RSI_IPA_STATE_SET         0xC4000197UL
#define RSI_IPA_STATE_GET         0xC4000198UL
#define RSI_HOST_CALL             0xC4000199UL
#define RSI_ABI_1_0               0x10000UL
#define RSI_SUCCESS               0UL
#define RSI_ERROR_INPUT           1UL
#define RIPAS_EMPTY               0UL
#define RIPAS_RAM                 1UL

#define PSCI_VERSION              0x84000000UL
#define PSCI_CPU_OFF              0x84000002UL
#define PSCI_CPU_ON               0xC4000003UL
#define PSCI_AFFINITY_INFO        0xC4000004UL
#define PSCI_SYSTEM_OFF           0x84000008UL
#define PSCI_FEATURES             0x8400000AUL

struct rt_host_call {
	uint16_t imm;
	uint16_t pad[3];
	uint64_t gprs[31];
} __attribute__((aligned(256)));
/* RSI_HOST_CALL with imm and X1.. = args; returns the host's X0, fills out->gprs. */
uint64_t rt_host_call(uint16_t imm, uint64_t a1, uint64_t a2, struct rt_host_call *out);

/* ---- exceptions ---- */
struct rt_frame {
	uint64_t x[31];
	uint64_t elr, spsr, esr, far, sp_el0;
};
/* kind = vector index: 0-3 current EL SP0, 4-7 current EL SPx, 8-11 lower EL AArch64
 * (sync, irq, fiq, serror each). Return true when handled (the frame is restored, ELR included). */
typedef bool (*rt_handler_t)(unsigned kind, struct rt_frame *f);
void rt_set_handler(rt_handler_t h);
#define RT_KIND_SYNC(k)  (((k) & 3) == 0)
#define RT_KIND_IRQ(k)   (((k) & 3) == 1)
#define ESR_EC(esr)      (((esr) >> 26) & 0x3F)

/* A handler for payloads that provoke synchronous external aborts: a data abort from the current
 * EL with FSC 0x10 is counted, its ESR/FAR kept, and the access skipped. */
extern volatile unsigned rt_sea_count;
extern volatile uint64_t rt_sea_esr, rt_sea_far;
bool rt_skip_sea(unsigned kind, struct rt_frame *f);

/* ---- system ---- */
#define read_sysreg(r) ({ uint64_t __v; __asm__ volatile("mrs %0, " #r : "=r"(__v)); __v; })
#define write_sysreg(r, v) __asm__ volatile("msr " #r ", %0" : : "r"((uint64_t)(v)))
#define isb() __asm__ volatile("isb" ::: "memory")
void rt_eret_to(uint64_t pc, uint64_t spsr, uint64_t sp_el0);
extern char rt_secondary_entry[];
extern char __image_end[], __bss_start[], __bss_end[], __ram_end[];

unsigned rt_cpu(void);                /* MPIDR_EL1.Aff0 */
void rt_exit(void) __attribute__((noreturn));   /* report DONE, PSCI SYSTEM_OFF */
void rt_cpu_off(void) __attribute__((noreturn));

/* Implemented by the payload. */
void main(void);
void secondary_main(unsigned cpu);    /* weak default: CPU_OFF */

#endif
