// SPDX-License-Identifier: GPL-2.0-or-later
#include "core/options.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

struct kv {
	char key[24];
	const char *value;           /* points into the spec */
	size_t value_len;
};

/* Takes the next key=value off *s; returns 1, 0 at the end, or -EINVAL. */
static int next_kv(const char **s, struct kv *kv)
{
	const char *end, *eq;
	size_t key_len;

	if (!**s)
		return 0;
	end = strchrnul(*s, ',');
	eq = memchr(*s, '=', (size_t)(end - *s));
	if (!eq)
		return -EINVAL;
	key_len = (size_t)(eq - *s);
	if (!key_len || key_len >= sizeof(kv->key))
		return -EINVAL;
	memcpy(kv->key, *s, key_len);
	kv->key[key_len] = '\0';
	kv->value = eq + 1;
	kv->value_len = (size_t)(end - kv->value);
	*s = *end ? end + 1 : end;
	return 1;
}

static bool value_is(const struct kv *kv, const char *word)
{
	return kv->value_len == strlen(word) &&
	       !memcmp(kv->value, word, kv->value_len);
}

static int parse_switch(const struct kv *kv, bool *out)
{
	if (value_is(kv, "on"))
		*out = true;
	else if (value_is(kv, "off"))
		*out = false;
	else
		return -EINVAL;
	return 0;
}

static int parse_fd(const struct kv *kv, int *fd)
{
	char buf[16];
	uint64_t v;

	if (!kv->value_len || kv->value_len >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, kv->value, kv->value_len);
	buf[kv->value_len] = '\0';
	if (parse_uint(buf, INT32_MAX, &v) < 0)
		return -EINVAL;
	*fd = (int)v;
	return 0;
}

static int copy_value(const struct kv *kv, char *dst, size_t size)
{
	if (!kv->value_len || kv->value_len >= size)
		return -EINVAL;
	memcpy(dst, kv->value, kv->value_len);
	dst[kv->value_len] = '\0';
	return 0;
}

/*
 * virtio-blk IDs are 20 bytes: longer serials are cut, as other VMMs do
 * (libvirt allows longer ones). udev makes by-id names of printable ASCII.
 */
static int copy_serial(const struct kv *kv, char *dst)
{
	size_t len = MIN(kv->value_len, (size_t)VMM_DISK_SERIAL_MAX);

	for (size_t i = 0; i < kv->value_len; i++)
		if (kv->value[i] < ' ' || kv->value[i] > '~')
			return -EINVAL;
	memcpy(dst, kv->value, len);
	dst[len] = '\0';
	return kv->value_len ? 0 : -EINVAL;
}

static int fail(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* One key=value of an option into @ctx: 0, -EINVAL for a bad value,
 * -ENOENT for a key the option does not have. */
typedef int (*kv_handler)(const struct kv *kv, void *ctx);

/* Every key=value of @spec, each given to @fn; @what names the option. */
static int parse_kv_list(const char *spec, const char *what, kv_handler fn,
			 void *ctx, char *err, size_t errlen)
{
	struct kv kv;
	int r;

	while ((r = next_kv(&spec, &kv)) > 0) {
		r = fn(&kv, ctx);
		if (r == -ENOENT)
			return fail(err, errlen, "unknown %s option '%s'", what,
				    kv.key);
		if (r < 0)
			return fail(err, errlen, "invalid value for '%s'",
				    kv.key);
	}
	if (r < 0)
		return fail(err, errlen, "expected key=value");
	return 0;
}

static int disk_kv(const struct kv *kv, void *ctx)
{
	struct vmm_disk_config *disk = ctx;

	if (!strcmp(kv->key, "path"))
		return copy_value(kv, disk->path, sizeof(disk->path));
	if (!strcmp(kv->key, "fd"))
		return parse_fd(kv, &disk->fd);
	if (!strcmp(kv->key, "readonly"))
		return parse_switch(kv, &disk->readonly);
	if (!strcmp(kv->key, "direct"))
		return parse_switch(kv, &disk->direct);
	if (!strcmp(kv->key, "serial"))
		return copy_serial(kv, disk->serial);
	return -ENOENT;
}

int parse_disk_option(const char *spec, struct vmm_disk_config *disk,
		      char *err, size_t errlen)
{
	*disk = (struct vmm_disk_config){ .fd = -1 };
	if (parse_kv_list(spec, "disk", disk_kv, disk, err, errlen) < 0)
		return -EINVAL;
	if (!disk->path[0] == (disk->fd < 0))
		return fail(err, errlen, "give exactly one of path= and fd=");
	return 0;
}

static int parse_mac(const struct kv *kv, uint8_t mac[6])
{
	char buf[18];
	unsigned int b[6];
	char end;

	if (copy_value(kv, buf, sizeof(buf)) < 0 ||
	    sscanf(buf, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3],
		   &b[4], &b[5], &end) != 6)
		return -EINVAL;
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)b[i];
	/* A NIC's own address is unicast. */
	return mac[0] & 1 ? -EINVAL : 0;
}

static int net_kv(const struct kv *kv, void *ctx)
{
	struct vmm_net_config *nic = ctx;

	if (!strcmp(kv->key, "tap"))
		return copy_value(kv, nic->tap, sizeof(nic->tap));
	if (!strcmp(kv->key, "fd"))
		return parse_fd(kv, &nic->fd);
	if (!strcmp(kv->key, "mac")) {
		nic->has_mac = true;
		return parse_mac(kv, nic->mac);
	}
	return -ENOENT;
}

int parse_net_option(const char *spec, struct vmm_net_config *nic,
		     char *err, size_t errlen)
{
	*nic = (struct vmm_net_config){ .fd = -1 };
	if (parse_kv_list(spec, "net", net_kv, nic, err, errlen) < 0)
		return -EINVAL;
	if (!nic->tap[0] == (nic->fd < 0))
		return fail(err, errlen, "give exactly one of tap= and fd=");
	return 0;
}

static int parse_kv_size(const struct kv *kv, uint64_t *out)
{
	char buf[32];

	if (copy_value(kv, buf, sizeof(buf)) < 0 ||
	    parse_size(buf, true, out) < 0 || !*out)
		return -EINVAL;
	return 0;
}

static int parse_kv_uint(const struct kv *kv, uint64_t max, uint64_t *out)
{
	char buf[16];

	if (copy_value(kv, buf, sizeof(buf)) < 0 || parse_uint(buf, max, out) < 0)
		return -EINVAL;
	return 0;
}

static int balloon_kv(const struct kv *kv, void *ctx)
{
	struct vmm_balloon_config *b = ctx;
	uint64_t period;
	int r;

	if (!strcmp(kv->key, "stats-period")) {
		r = parse_kv_uint(kv, INT32_MAX, &period);
		b->stats_period = (uint32_t)period;
		return r;
	}
	if (!strcmp(kv->key, "deflate-on-oom"))
		return parse_switch(kv, &b->deflate_on_oom);
	if (!strcmp(kv->key, "free-page-reporting"))
		return parse_switch(kv, &b->free_page_reporting);
	if (!strcmp(kv->key, "target"))
		return parse_kv_size(kv, &b->target);
	return -ENOENT;
}

int parse_balloon_option(const char *spec, struct vmm_balloon_config *b,
			 char *err, size_t errlen)
{
	*b = (struct vmm_balloon_config){ .enabled = true };
	return parse_kv_list(spec, "balloon", balloon_kv, b, err, errlen);
}

/* Guest CIDs: 0-2 are the hypervisor, local and host addresses, and
 * 2^32 - 1 is VMADDR_CID_ANY; Linux keeps CIDs in 32 bits. */
static int parse_cid(const struct kv *kv, uint32_t *cid)
{
	char buf[16];
	uint64_t v;

	if (copy_value(kv, buf, sizeof(buf)) < 0 ||
	    parse_uint(buf, UINT32_MAX - 1, &v) < 0 || v < 3)
		return -EINVAL;
	*cid = (uint32_t)v;
	return 0;
}

/* Room for "_4294967295" after the name in "/proc/self/fd/N/NAME_P",
 * the address guest connections are made to (sockaddr_un: 108 bytes). */
#define VSOCK_NAME_MAX 64

static int vsock_kv(const struct kv *kv, void *ctx)
{
	struct vmm_vsock_config *vsock = ctx;

	if (!strcmp(kv->key, "cid"))
		return parse_cid(kv, &vsock->cid);
	if (!strcmp(kv->key, "uds"))
		return copy_value(kv, vsock->uds, sizeof(vsock->uds));
	if (!strcmp(kv->key, "uds-fd"))
		return parse_fd(kv, &vsock->uds_fd);
	if (!strcmp(kv->key, "dir-fd"))
		return parse_fd(kv, &vsock->dir_fd);
	return -ENOENT;
}

int parse_vsock_option(const char *spec, struct vmm_vsock_config *vsock,
		       char *err, size_t errlen)
{
	const char *base;

	*vsock = (struct vmm_vsock_config){ .uds_fd = -1, .dir_fd = -1 };
	if (parse_kv_list(spec, "vsock", vsock_kv, vsock, err, errlen) < 0)
		return -EINVAL;
	if (!vsock->cid)
		return fail(err, errlen, "cid= is required (3 to 4294967294)");
	if (vsock->dir_fd >= 0 && (!vsock->uds[0] || strchr(vsock->uds, '/')))
		return fail(err, errlen, "dir-fd= needs uds=NAME, a name in "
			    "that directory");
	if (!vsock->uds[0] && vsock->uds_fd < 0)
		return fail(err, errlen, "give uds=, uds-fd= or both");
	base = strrchr(vsock->uds, '/');
	base = base ? base + 1 : vsock->uds;
	if (vsock->uds[0] && (!base[0] || !strcmp(base, ".") ||
			      !strcmp(base, "..") ||
			      strlen(base) > VSOCK_NAME_MAX))
		return fail(err, errlen, "uds= must end in a socket name of at "
			    "most %d bytes", VSOCK_NAME_MAX);
	vsock->enabled = true;
	return 0;
}
