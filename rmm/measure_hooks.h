/*
 * Measurement hooks called by RMI commands. Implemented in attest/ (RIM extension with the
 * specification's measurement descriptors).
 */
#ifndef RMM_MEASURE_HOOKS_H
#define RMM_MEASURE_HOOKS_H

#include <stdint.h>

#include "rmm/realm.h"

/* REALM_CREATE: initialise the RIM from the measured subset of RmiRealmParams (raw 4 KiB image). */
void measurement_realm_params_measure(struct rd *rd, const uint8_t *params_granule);
/* DATA_CREATE: extend the RIM with a DATA descriptor (content hashed only if flags == MEASURE). */
void measurement_data_granule_measure(struct rd *rd, const void *data, uint64_t ipa, uint64_t flags);
/* RTT_INIT_RIPAS: extend the RIM with a RIPAS descriptor for [base, top). */
void measurement_init_ripas_measure(struct rd *rd, uint64_t base, uint64_t top);
/* REC_CREATE (runnable REC): extend the RIM with a REC descriptor of the raw RmiRecParams image. */
void measurement_rec_params_measure(struct rd *rd, const uint8_t *params_granule);

#endif
