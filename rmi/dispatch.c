/* RMI command table: FID -> handler, argument and result names (for tracing and the console). */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "rmi/rmi.h"

#define ARGS(...) (const char *const[]){ __VA_ARGS__ }
#define CMD(fid_, name_, fn_, na_, an_, nr_, rn_) { fid_, name_, fn_, na_, an_, nr_, rn_ }

static const struct rmi_cmd_desc cmds[] = {
	CMD(SMC_RMI_VERSION, "RMI_VERSION", rmi_version, 1, ARGS("req"), 2, ARGS("lower", "higher")),
	CMD(SMC_RMI_GRANULE_DELEGATE, "RMI_GRANULE_DELEGATE", rmi_granule_delegate, 1, ARGS("addr"), 0, NULL),
	CMD(SMC_RMI_GRANULE_UNDELEGATE, "RMI_GRANULE_UNDELEGATE", rmi_granule_undelegate, 1, ARGS("addr"), 0, NULL),
	CMD(SMC_RMI_DATA_CREATE, "RMI_DATA_CREATE", rmi_data_create, 5,
	    ARGS("rd", "data", "ipa", "src", "flags"), 0, NULL),
	CMD(SMC_RMI_DATA_CREATE_UNKNOWN, "RMI_DATA_CREATE_UNKNOWN", rmi_data_create_unknown, 3,
	    ARGS("rd", "data", "ipa"), 0, NULL),
	CMD(SMC_RMI_DATA_DESTROY, "RMI_DATA_DESTROY", rmi_data_destroy, 2, ARGS("rd", "ipa"), 2,
	    ARGS("data", "top")),
	CMD(SMC_RMI_REALM_ACTIVATE, "RMI_REALM_ACTIVATE", rmi_realm_activate, 1, ARGS("rd"), 0, NULL),
	CMD(SMC_RMI_REALM_CREATE, "RMI_REALM_CREATE", rmi_realm_create, 2, ARGS("rd", "params_ptr"), 0, NULL),
	CMD(SMC_RMI_REALM_DESTROY, "RMI_REALM_DESTROY", rmi_realm_destroy, 1, ARGS("rd"), 0, NULL),
	CMD(SMC_RMI_REC_CREATE, "RMI_REC_CREATE", rmi_rec_create, 3, ARGS("rd", "rec", "params_ptr"), 0, NULL),
	CMD(SMC_RMI_REC_DESTROY, "RMI_REC_DESTROY", rmi_rec_destroy, 1, ARGS("rec"), 0, NULL),
	CMD(SMC_RMI_REC_ENTER, "RMI_REC_ENTER", rmi_rec_enter, 2, ARGS("rec", "run_ptr"), 0, NULL),
	CMD(SMC_RMI_RTT_CREATE, "RMI_RTT_CREATE", rmi_rtt_create, 4, ARGS("rd", "rtt", "ipa", "level"), 0, NULL),
	CMD(SMC_RMI_RTT_DESTROY, "RMI_RTT_DESTROY", rmi_rtt_destroy, 3, ARGS("rd", "ipa", "level"), 2,
	    ARGS("rtt", "top")),
	CMD(SMC_RMI_RTT_MAP_UNPROTECTED, "RMI_RTT_MAP_UNPROTECTED", rmi_rtt_map_unprotected, 4,
	    ARGS("rd", "ipa", "level", "desc"), 0, NULL),
	CMD(SMC_RMI_RTT_READ_ENTRY, "RMI_RTT_READ_ENTRY", rmi_rtt_read_entry, 3, ARGS("rd", "ipa", "level"), 4,
	    ARGS("walk_level", "state", "desc", "ripas")),
	CMD(SMC_RMI_RTT_UNMAP_UNPROTECTED, "RMI_RTT_UNMAP_UNPROTECTED", rmi_rtt_unmap_unprotected, 3,
	    ARGS("rd", "ipa", "level"), 1, ARGS("top")),
	CMD(SMC_RMI_PSCI_COMPLETE, "RMI_PSCI_COMPLETE", rmi_psci_complete, 3,
	    ARGS("calling_rec", "target_rec", "status"), 0, NULL),
	CMD(SMC_RMI_FEATURES, "RMI_FEATURES", rmi_features, 1, ARGS("index"), 1, ARGS("value")),
	CMD(SMC_RMI_RTT_FOLD, "RMI_RTT_FOLD", rmi_rtt_fold, 3, ARGS("rd", "ipa", "level"), 1, ARGS("rtt")),
	CMD(SMC_RMI_REC_AUX_COUNT, "RMI_REC_AUX_COUNT", rmi_rec_aux_count, 1, ARGS("rd"), 1, ARGS("aux_count")),
	CMD(SMC_RMI_RTT_INIT_RIPAS, "RMI_RTT_INIT_RIPAS", rmi_rtt_init_ripas, 3, ARGS("rd", "base", "top"), 1,
	    ARGS("out_top")),
	CMD(SMC_RMI_RTT_SET_RIPAS, "RMI_RTT_SET_RIPAS", rmi_rtt_set_ripas, 4, ARGS("rd", "rec", "base", "top"), 1,
	    ARGS("out_top")),
};

const struct rmi_cmd_desc *rmi_cmd_table(unsigned *count)
{
	*count = sizeof(cmds) / sizeof(cmds[0]);
	return cmds;
}

/* SMCCC: the function ID is W0 (bits 63:32 of X0 are not part of it) and bit 16 is the SVE hint
 * of SMCCC 1.3, which the RMM ignores (as TF-RMM's handle_ns_smc). */
#define SMCCC_SVE_HINT (1ULL << 16)

const struct rmi_cmd_desc *rmi_cmd_by_fid(uint64_t fid)
{
	fid = (uint32_t)fid & ~SMCCC_SVE_HINT;
	if (fid < RMI_FID(0) || fid > RMI_FID(0x1F))
		return NULL;
	for (unsigned i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (cmds[i].fid == fid)
			return &cmds[i];
	return NULL;
}

bool rmi_dispatch(struct rmm *rmm, uint64_t fid, const uint64_t a[6], uint64_t res[5])
{
	const struct rmi_cmd_desc *c = rmi_cmd_by_fid(fid);
	if (!c)
		return false;
	c->fn(rmm, a, res);
	return true;
}

const char *rmmemu_rmi_name(uint64_t fid)
{
	const struct rmi_cmd_desc *c = rmi_cmd_by_fid(fid);
	return c ? c->name : NULL;
}

uint64_t rmmemu_rmi_fid(const char *name)
{
	if (!strncasecmp(name, "SMC_", 4))
		name += 4;
	if (!strncasecmp(name, "RMI_", 4))
		name += 4;
	for (unsigned i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (!strcasecmp(cmds[i].name + 4, name))
			return cmds[i].fid;
	return 0;
}

unsigned rmmemu_rmi_nargs(uint64_t fid)
{
	const struct rmi_cmd_desc *c = rmi_cmd_by_fid(fid);
	return c ? c->nargs : 6;
}

unsigned rmmemu_rmi_nresults(uint64_t fid)
{
	const struct rmi_cmd_desc *c = rmi_cmd_by_fid(fid);
	return c ? c->nres : 4;
}

const char *rmmemu_rmi_status_name(unsigned status)
{
	static const char *const names[] = { "RMI_SUCCESS", "RMI_ERROR_INPUT", "RMI_ERROR_REALM",
					     "RMI_ERROR_REC", "RMI_ERROR_RTT" };
	return status < 5 ? names[status] : "RMI_ERROR_UNKNOWN";
}

void rmmemu_format_return(uint64_t x0, char *buf, size_t len)
{
	if (x0 == SMCCC_NOT_SUPPORTED) {
		snprintf(buf, len, "SMCCC_NOT_SUPPORTED");
		return;
	}
	unsigned st = RMI_RETURN_STATUS(x0), idx = RMI_RETURN_INDEX(x0);
	if (x0 >> 16)
		snprintf(buf, len, "0x%llx", (unsigned long long)x0);
	else if (st == RMI_ERROR_RTT)
		snprintf(buf, len, "%s(level %u)", rmmemu_rmi_status_name(st), idx);
	else if (idx)
		snprintf(buf, len, "%s(index %u)", rmmemu_rmi_status_name(st), idx);
	else
		snprintf(buf, len, "%s", rmmemu_rmi_status_name(st));
}
