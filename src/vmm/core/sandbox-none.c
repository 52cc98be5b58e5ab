// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The sandbox of a build without libseccomp (a cross build whose target
 * has no libseccomp package, e.g. riscv64 on Debian bookworm): the id drop
 * works, --sandbox on is refused rather than silently ignored.
 */
#include "core/sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "core/util.h"
#include "core/vmm.h"

bool sandbox_active(void)
{
	return false;
}

int sandbox_enter(const struct vmm_config *cfg)
{
	if (cfg->sandbox) {
		vmm_error("--sandbox on: this duvisor-vmm was built without "
			  "libseccomp");
		return -ENOTSUP;
	}
	return sandbox_drop_privileges(cfg);
}

int sandbox_enter_vcpu_thread(void)
{
	return 0;
}

void sandbox_try_forbidden_syscall(void)
{
	vmm_info("test: no sandbox in this build");
}
