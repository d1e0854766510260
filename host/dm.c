// SPDX-License-Identifier: GPL-2.0
/*
 * Device-mapper ioctls on /dev/mapper/control, without libdevmapper: five
 * calls, and the static build of the tool takes no library for them.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/dm-ioctl.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "dm.h"

/* Room for a header and a table of one target or a message. */
union dm_buffer {
	struct dm_ioctl io;
	char bytes[16384];
};

/* Fills the header for one device; the payload starts at io->data_start. */
static int dm_header(union dm_buffer *buf, const char *name, dev_t dev, uint32_t flags)
{
	struct dm_ioctl *io = &buf->io;

	memset(io, 0, sizeof(*io));
	io->version[0] = DM_VERSION_MAJOR;
	io->data_size = sizeof(*buf);
	io->data_start = sizeof(*io);
	io->flags = flags;
	if (!name) {
		io->dev = dev;
		return 0;
	}
	if (strlen(name) >= sizeof(io->name))
		return -ENAMETOOLONG;
	strcpy(io->name, name);
	return 0;
}

static int dm_call(int control, unsigned long request, union dm_buffer *buf)
{
	if (ioctl(control, request, buf) < 0)
		return -errno;
	if (buf->io.flags & DM_BUFFER_FULL_FLAG)
		return -EMSGSIZE;
	return 0;
}

int dm_open(void)
{
	int fd = open("/dev/mapper/control", O_RDWR | O_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

int dm_status(int control, const char *name, dev_t dev, struct dm_device *out)
{
	union dm_buffer buf;
	int r;

	r = dm_header(&buf, name, dev, 0);
	r = r ?: dm_call(control, DM_DEV_STATUS, &buf);
	if (r)
		return r;
	snprintf(out->name, sizeof(out->name), "%s", buf.io.name);
	snprintf(out->uuid, sizeof(out->uuid), "%s", buf.io.uuid);
	out->dev = buf.io.dev;
	out->open_count = buf.io.open_count;
	out->suspended = buf.io.flags & DM_SUSPEND_FLAG;
	return 0;
}

int dm_table_read(int control, const char *name, struct dm_table *out)
{
	struct dm_target_spec *spec;
	union dm_buffer buf;
	int r;

	r = dm_header(&buf, name, 0, DM_STATUS_TABLE_FLAG);
	r = r ?: dm_call(control, DM_TABLE_STATUS, &buf);
	if (r)
		return r;
	if (buf.io.target_count != 1)
		return buf.io.target_count ? -EMSGSIZE : -ENODATA;
	spec = (struct dm_target_spec *)(buf.bytes + buf.io.data_start);
	out->length = spec->length;
	snprintf(out->type, sizeof(out->type), "%s", spec->target_type);
	if (snprintf(out->params, sizeof(out->params), "%s", (char *)(spec + 1)) >=
	    (int)sizeof(out->params))
		return -EMSGSIZE;
	return 0;
}

int dm_table_load(int control, const char *name, const struct dm_table *table)
{
	struct dm_target_spec *spec;
	union dm_buffer buf;
	int r;

	r = dm_header(&buf, name, 0, 0);
	if (r)
		return r;
	buf.io.target_count = 1;
	spec = (struct dm_target_spec *)(buf.bytes + buf.io.data_start);
	memset(spec, 0, sizeof(*spec));
	spec->length = table->length;
	snprintf(spec->target_type, sizeof(spec->target_type), "%s", table->type);
	snprintf((char *)(spec + 1), sizeof(table->params), "%s", table->params);
	return dm_call(control, DM_TABLE_LOAD, &buf);
}

int dm_suspend(int control, const char *name)
{
	union dm_buffer buf;
	int r = dm_header(&buf, name, 0, DM_SUSPEND_FLAG);

	return r ?: dm_call(control, DM_DEV_SUSPEND, &buf);
}

int dm_resume(int control, const char *name)
{
	union dm_buffer buf;
	int r = dm_header(&buf, name, 0, 0);

	return r ?: dm_call(control, DM_DEV_SUSPEND, &buf);
}

int dm_message(int control, dev_t dev, const char *message)
{
	struct dm_target_msg *msg;
	union dm_buffer buf;
	size_t room;
	int r;

	r = dm_header(&buf, NULL, dev, 0);
	if (r)
		return r;
	msg = (struct dm_target_msg *)(buf.bytes + buf.io.data_start);
	msg->sector = 0;
	room = sizeof(buf) - buf.io.data_start - sizeof(*msg);
	if (strlen(message) >= room)
		return -EMSGSIZE;
	strcpy(msg->message, message);
	return dm_call(control, DM_TARGET_MSG, &buf);
}

static size_t doubled_dashes(char *out, size_t size, const char *s)
{
	size_t n = 0;

	for (; *s; s++) {
		if (*s == '-' && n < size)
			out[n++] = '-';
		if (n < size)
			out[n++] = *s;
	}
	return n;
}

int dm_lvm_name(char *out, size_t size, const char *vg, const char *lv)
{
	size_t n = doubled_dashes(out, size, vg);

	if (n < size)
		out[n++] = '-';
	n += doubled_dashes(out + n, size - n, lv);
	if (n >= size)
		return -ENAMETOOLONG;
	out[n] = '\0';
	return 0;
}
