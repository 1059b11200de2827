/* RMI_GRANULE_DELEGATE / RMI_GRANULE_UNDELEGATE */
#include "rmi/rmi.h"

void rmi_granule_delegate(struct rmm *rmm, const uint64_t a[6], uint64_t res[5])
{
	struct gref g;

	if (!granule_find_state(rmm, PA(a[0]), GRANULE_STATE_UNDELEGATED, &g)) {
		res[0] = RMI_ERROR_INPUT;
		return;
	}
	/* The monitor refuses granules that are not in the non-secure PAS (secure, root). */
	if (!gtsi_delegate(rmm, &g)) {
		res[0] = RMI_ERROR_INPUT;
		return;
	}
	granule_set_state(rmm, &g, GRANULE_STATE_DELEGATED);
	granule_zero(&g);
	res[0] = RMI_SUCCESS;
}

void rmi_granule_undelegate(struct rmm *rmm, const uint64_t a[6], uint64_t res[5])
{
	struct gref g;

	if (!granule_find_state(rmm, PA(a[0]), GRANULE_STATE_DELEGATED, &g)) {
		res[0] = RMI_ERROR_INPUT;
		return;
	}
	/* Scrub before the granule returns to the normal world. */
	granule_zero(&g);
	gtsi_undelegate(rmm, &g);
	granule_set_state(rmm, &g, GRANULE_STATE_UNDELEGATED);
	res[0] = RMI_SUCCESS;
}
