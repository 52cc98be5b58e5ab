// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The privilege drop before any guest code runs (--user/--group), and
 * no_new_privs: shared by the seccomp sandbox (sandbox.c) and builds
 * without libseccomp (sandbox-none.c).
 */
#include "core/sandbox.h"

#include <errno.h>
#include <grp.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "core/util.h"
#include "core/vmm.h"

static int drop_ids(const struct vmm_config *cfg)
{
	uid_t ruid, euid, suid;

	if (geteuid() == 0) {
		/* The bounding set goes with root; no_new_privs keeps it so. */
		for (int cap = 0; cap <= 63; cap++)
			if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 &&
			    errno == EINVAL)
				break;
		if (setgroups(0, NULL) < 0)
			return -errno;
	}
	if (setresgid(cfg->gid, cfg->gid, cfg->gid) < 0 ||
	    setresuid(cfg->uid, cfg->uid, cfg->uid) < 0)
		return -errno;
	/* Trust, but verify: there must be no way back. */
	if (getresuid(&ruid, &euid, &suid) < 0 || ruid != cfg->uid ||
	    euid != cfg->uid || suid != cfg->uid)
		return -EPERM;
	if (cfg->uid != 0 && setuid(0) == 0)
		return -EPERM;
	return 0;
}

int sandbox_drop_privileges(const struct vmm_config *cfg)
{
	int r;

	if (cfg->drop_ids) {
		r = drop_ids(cfg);
		if (r < 0) {
			vmm_error("cannot drop to uid %u gid %u: %s", cfg->uid,
				  cfg->gid, strerror(-r));
			return r;
		}
	}
	if ((cfg->drop_ids || cfg->sandbox) &&
	    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		r = -errno;
		vmm_error("cannot set no_new_privs: %s", strerror(errno));
		return r;
	}
	return 0;
}
