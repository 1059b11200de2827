/*
 * rmi/ — one function per RMI command, named after the specification. Each takes the SMC
 * arguments X1..X6 in a[0..5] and writes X0..X4 into res[0..4] (res is zeroed by the caller).
 * The RMM core's lock is held by the caller.
 */
#ifndef RMI_RMI_H
#define RMI_RMI_H

#include <stdint.h>

#include "rmm/rmm.h"

typedef void (*rmi_handler_fn)(struct rmm *rmm, const uint64_t a[6], uint64_t res[5]);

void rmi_version(struct rmm *rmm, const uint64_t a[6], uint64_t res[5]);
void rmi_features(struct rmm *rmm, const uint64_t a[6], uint64_t res[5]);
void rmi_granule_delegate(struct rmm *rmm, const uint64_t a[6], uint64_t res[5]);
void rmi_granule_undelegate(struct rmm *rmm, const uint64_t a[6], uint64_t res[5]);
void rmi_realm_create(struct rmm *rmm, const uint64_t a[6], uint64_t res[5]);
void rmi_realm_activate(struct rmm *rmm, const uint64_t a[6], uint64_t res[5]);
void rmi_realm_destroy(struct rmm *rmm, const uint64_t a[6], uint64_t res[5]);
void rmi_rec_create(struct rmm *rmm, const uint64_t a[6], uint64_t res[5]);
void rmi_rec_destroy(struct rmm *rmm, const uint64_t a[6], uint64_t res[5]);
void rmi_rec_aux_count(struct rmm *rmm, const uint64_t a[6], uint64_t res[5]);
void rmi_rec_enter(struct rmm *rmm, const uint64_t a[6], uint64_t res[5]);
void rmi_psci_complete(struct rmm *rmm, const uint64_t a[6], uint64_t res[5]);
void rmi_data_create(struct rmm *rmm, const uint64_t a[6], uint64_t res[5]);
void rmi_data_create_unknown(struct rmm *rmm, const uint64_t a[6], uint64_t res[5]);
void rmi_data_destroy(struct rmm *rmm, const uint64_t a[6], uint64_t res[5]);
void rmi_rtt_create(struct rmm *rmm, const uint64_t a[6], uint64_t res[5]);
void rmi_rtt_destroy(struct rmm *rmm, const uint64_t a[6], uint64_t res[5]);
void rmi_rtt_fold(struct rmm *rmm, const uint64_t a[6], uint64_t res[5]);
void rmi_rtt_map_unprotected(struct rmm *rmm, const uint64_t a[6], uint64_t res[5]);
void rmi_rtt_unmap_unprotected(struct rmm *rmm, const uint64_t a[6], uint64_t res[5]);
void rmi_rtt_read_entry(struct rmm *rmm, const uint64_t a[6], uint64_t res[5]);
void rmi_rtt_init_ripas(struct rmm *rmm, const uint64_t a[6], uint64_t res[5]);
void rmi_rtt_set_ripas(struct rmm *rmm, const uint64_t a[6], uint64_t res[5]);

/* Dispatch by FID; returns false for an FID outside RMI 1.0. */
bool rmi_dispatch(struct rmm *rmm, uint64_t fid, const uint64_t a[6], uint64_t res[5]);

/* Descriptor of a command for decoding / tracing / the console. */
struct rmi_cmd_desc {
	uint64_t fid;
	const char *name;
	rmi_handler_fn fn;
	unsigned nargs;
	const char *const *arg_names;
	unsigned nres;
	const char *const *res_names;
};
const struct rmi_cmd_desc *rmi_cmd_by_fid(uint64_t fid);
const struct rmi_cmd_desc *rmi_cmd_table(unsigned *count);

static inline uint64_t pack_return_code(unsigned status, unsigned index)
{
	return RMI_PACK_RETURN(status, index);
}

#endif
