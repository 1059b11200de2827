/* Helpers shared by the RTT and DATA commands. */
#ifndef RMI_RTT_COMMON_H
#define RMI_RTT_COMMON_H

#include "rmm/realm.h"
#include "rmm/rmm.h"
#include "rtt/s2tt.h"

/* ipa inside the realm's IPA space and aligned to an entry at `level`. */
bool validate_map_addr(uint64_t ipa, int level, const struct rd *rd);
/* Find an RD granule; false if `addr` is not one. */
bool rd_lookup(struct rmm *rmm, uint64_t addr, struct gref *g, struct rd **rd);

#endif
