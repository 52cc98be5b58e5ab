// SPDX-License-Identifier: GPL-2.0-or-later
/* Statistics of domains shared by several procedures (domain_stats.h). */
#include <errno.h>
#include <fcntl.h>
#include <libvirt/libvirt.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "domain_lifecycle.h"
#include "domain_stats.h"

static bool not_running(struct dv_domain *dom, GError **error)
{
	g_set_error(error, DV_DRIVER_ERROR, VIR_ERR_OPERATION_INVALID,
		    "domain '%s' is not running", dv_domain_name(dom));
	return false;
}

GHashTable *dv_domain_block_stats(struct dv_domain *dom, GError **error)
{
	struct dv_monitor *mon = dv_domain_monitor(dom, error);

	return mon ? dv_monitor_block_stats(mon, error) : NULL;
}

static bool number(GHashTable *reply, const char *key, uint64_t *v)
{
	const char *s = g_hash_table_lookup(reply, key);
	guint64 n;

	if (!s || !g_ascii_string_to_unsigned(s, 10, 0, G_MAXUINT64, &n, NULL))
		return false;
	*v = n;
	return true;
}

bool dv_disk_stats_parse(GHashTable *reply, int index,
			 struct dv_disk_stats *out)
{
	const struct {
		const char *name;
		uint64_t *dest;
	} fields[] = {
		{ "rd_reqs", &out->rd_reqs }, { "rd_bytes", &out->rd_bytes },
		{ "rd_ns", &out->rd_ns }, { "wr_reqs", &out->wr_reqs },
		{ "wr_bytes", &out->wr_bytes }, { "wr_ns", &out->wr_ns },
		{ "fl_reqs", &out->fl_reqs }, { "fl_ns", &out->fl_ns },
		{ "errors", &out->errors },
	};
	uint64_t disks;

	if (index < 0 || !number(reply, "disks", &disks) ||
	    (uint64_t)index >= disks)
		return false;
	for (guint i = 0; i < G_N_ELEMENTS(fields); i++) {
		char key[40];

		g_snprintf(key, sizeof(key), "disk.%d.%s", index,
			   fields[i].name);
		if (!number(reply, key, fields[i].dest))
			return false;
	}
	return true;
}

static bool block_device_size(const char *path, uint64_t *size,
			      GError **error)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	int r = fd < 0 ? -1 : ioctl(fd, BLKGETSIZE64, size);
	int err = errno;

	if (fd >= 0)
		close(fd);
	if (r < 0)
		g_set_error(error, DV_DRIVER_ERROR, VIR_ERR_SYSTEM_ERROR,
			    "cannot get the size of '%s': %s", path,
			    g_strerror(err));
	return r == 0;
}

bool dv_disk_block_info(const struct duvisor_disk_def *disk,
			struct dv_block_info *info, GError **error)
{
	g_autofree char *path = duvisor_disk_source_path(disk, error);
	struct stat st;

	if (!path) {
		if (error && !*error)
			g_set_error(error, DV_DRIVER_ERROR,
				    VIR_ERR_OPERATION_INVALID,
				    "disk '%s' does not currently have a "
				    "source assigned", disk->target);
		return false;
	}
	if (stat(path, &st) < 0) {
		g_set_error(error, DV_DRIVER_ERROR, VIR_ERR_SYSTEM_ERROR,
			    "cannot stat '%s': %s", path, g_strerror(errno));
		return false;
	}
	if (S_ISBLK(st.st_mode)) {
		/* No image format: the guest sees the whole device. */
		if (!block_device_size(path, &info->physical, error))
			return false;
		info->capacity = info->allocation = info->physical;
		return true;
	}
	info->capacity = info->physical = (uint64_t)st.st_size;
	info->allocation = (uint64_t)st.st_blocks * 512;
	return true;
}

GArray *dv_vcpu_tids_parse(const char *list, guint max)
{
	g_autoptr(GArray) tids = g_array_new(FALSE, TRUE, sizeof(pid_t));
	g_auto(GStrv) words = g_strsplit(list, ",", -1);

	for (guint i = 0; words[i]; i++) {
		guint64 n;
		pid_t tid;

		if (i >= max ||
		    !g_ascii_string_to_unsigned(words[i], 10, 0, G_MAXINT32, &n,
						NULL))
			return NULL;
		tid = (pid_t)n;
		g_array_append_val(tids, tid);
	}
	return g_steal_pointer(&tids);
}

bool dv_domain_vmm_stat(struct dv_domain *dom, pid_t *pid,
			struct dv_proc_stat *st, GError **error)
{
	uint64_t start_time;
	const char *pty;
	int64_t vmm_pid;
	bool starting;

	if (!dv_domain_vmm_identity(dom, &vmm_pid, &start_time, &pty,
				    &starting))
		return not_running(dom, error);
	*pid = (pid_t)vmm_pid;
	if (!dv_proc_stat_read(*pid, st)) {
		g_set_error(error, DV_DRIVER_ERROR, VIR_ERR_OPERATION_FAILED,
			    "cannot read the CPU time of domain '%s'",
			    dv_domain_name(dom));
		return false;
	}
	return true;
}

GArray *dv_domain_vcpu_threads(struct dv_domain *dom, pid_t *pid,
			       GError **error)
{
	struct dv_monitor *mon = dv_domain_monitor(dom, error);
	g_autoptr(GHashTable) status = NULL;
	g_autoptr(GArray) tids = NULL;
	GArray *threads;
	const char *list;

	if (!mon || !(status = dv_monitor_query_status(mon, error)))
		return NULL;
	*pid = dv_monitor_pid(mon);
	list = g_hash_table_lookup(status, "vcpu_tids");
	tids = list ? dv_vcpu_tids_parse(list, dom->def->vcpus) : NULL;
	if (!tids) {
		g_set_error(error, DV_DRIVER_ERROR, VIR_ERR_OPERATION_FAILED,
			    "the VMM of domain '%s' did not name its vCPU "
			    "threads", dv_domain_name(dom));
		return NULL;
	}
	threads = g_array_sized_new(FALSE, TRUE, sizeof(struct dv_vcpu_thread),
				    tids->len);
	for (guint i = 0; i < tids->len; i++) {
		struct dv_vcpu_thread t = { .tid = g_array_index(tids, pid_t,
								 i) };

		if (!dv_proc_task_stat_read(*pid, t.tid, &t.stat))
			t.tid = 0;
		g_array_append_val(threads, t);
	}
	return threads;
}
