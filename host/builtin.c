// SPDX-License-Identifier: GPL-2.0
/*
 * The built-in snapshot backends. Under emulation one lvcreate costs
 * 460-900 ms, most of it the process, its device scan, memory locking and
 * two metadata commits: far too long for a frozen guest, and none of it
 * tied to the moment of the snapshot. So the LVM tools make each snapshot
 * before the guest is asked to freeze, and while it is frozen only its
 * point in time is moved to now, by device-mapper calls that leave LVM's
 * metadata true:
 *
 * - thin: the pool deletes the staged snapshot's thin device and creates
 *   it again, same id, from the origin (suspended meanwhile, as the pool
 *   requires). LVM's metadata names that id and origin already, and the
 *   pool's transaction id does not move.
 * - thick: the staged snapshot's table is swapped for an error target,
 *   which lets its exception store go; the store's header is wiped, and
 *   the same table loaded again starts an empty store, so the snapshot
 *   begins now. The origin stays suspended throughout, as lvcreate has it
 *   when a snapshot starts.
 * - a file: reflinked again into its staged copy, emptied when staged.
 *
 * Anything else (a plain file on ext4, a ZFS volume, a network disk) is
 * refused before the guest is asked, with the disk named and --command as
 * the way out, instead of a full copy that would keep the guest frozen.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <linux/fs.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "builtin.h"
#include "command.h"
#include "dm.h"

/* Outside the freeze: room for a slow host, still bounded. */
#define LVM_TIMEOUT_MS (120 * 1000)

static const char lvs_type[] =
	"lvm lvs --noheadings --separator ' ' -o vg_name,lv_name,segtype -- \"$XQ_LV\" 2>/dev/null";
static const char lvs_thin_id[] = "lvm lvs --noheadings -o thin_id -- \"$XQ_LV\"";
static const char lvcreate[] =
	"lvm lvcreate -qq -s ${XQ_SIZE:+\"$XQ_SIZE\"} -n \"$XQ_NAME\" -- \"$XQ_LV\"";
static const char lvchange_off[] = "lvm lvchange -qq -an -- \"$XQ_LV\"";
static const char lvrename[] = "lvm lvrename -qq -- \"$XQ_LV\" \"$XQ_NAME\"";
static const char lvremove[] = "lvm lvremove -qq -f -- \"$XQ_LV\"";

enum disk_kind { DISK_THIN, DISK_THICK, DISK_REFLINK };

struct staged_disk {
	const struct vdi *vdi;
	enum disk_kind kind;
	char *made;		/* what exists: vg/lv-xq-staged-<uuid>, FILE.xq-staged-<uuid>, or NULL */
	char *final;		/* its name once committed */
	bool captured;
	char origin[128];	/* LVM: the origin's device-mapper name */
	char snapshot[128];	/* thick: the snapshot's */
	struct dm_table table;	/* thick: the snapshot's, loaded again at capture */
	int cow_fd;		/* thick: its exception store, O_DIRECT */
	dev_t pool;		/* thin: the pool, and the ids of the two devices in it */
	unsigned long origin_id, snapshot_id;
	int src_fd;		/* reflink: the disk's file */
};

/* The disk's name in xenstore (xvda), for messages. */
static const char *dev_of(const struct staged_disk *d)
{
	return d->vdi->dev ? d->vdi->dev : "?";
}

static int refuse(char *why, size_t size, int err, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int refuse(char *why, size_t size, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, size, fmt, ap);
	va_end(ap);
	return err;
}

/*
 * One LVM tool: XQ_LV, XQ_NAME and XQ_SIZE in its environment. A signal
 * cuts the staging short, never a removal or a rename.
 */
static int lvm(const char *cmd, const char *lv, const char *name, const char *size,
	       char **output)
{
	char *env[4] = { NULL }, *out = NULL;
	int r = -ENOMEM, status, i;

	if (asprintf(&env[0], "XQ_LV=%s", lv) >= 0 &&
	    asprintf(&env[1], "XQ_NAME=%s", name ? name : "") >= 0 &&
	    asprintf(&env[2], "XQ_SIZE=%s", size ? size : "") >= 0)
		r = command_run(cmd, env, LVM_TIMEOUT_MS, cmd != lvrename && cmd != lvremove, &out,
				&status);
	for (i = 0; i < 3; i++)
		free(env[i]);
	if (output && !r)
		*output = out;
	else
		free(out);
	return r;
}

/* -l 20%ORIGIN or -L 2G, from $XQ_LVM_SNAPSHOT_SIZE (default 20%ORIGIN). */
static char *thick_size(void)
{
	const char *size = getenv("XQ_LVM_SNAPSHOT_SIZE");
	char *opt;

	if (!size || !*size)
		size = "20%ORIGIN";
	if (asprintf(&opt, "-%c%s", strchr(size, '%') ? 'l' : 'L', size) < 0)
		return NULL;
	return opt;
}

static int stage_thin(struct builtin *b, struct staged_disk *d, const char *vg,
		      const char *name, char *why, size_t size)
{
	const char *dev = dev_of(d);
	unsigned int major, minor;
	char *out = NULL, active[128];
	struct dm_device status;
	struct dm_table origin;
	int consumed = 0, r;

	if (dm_table_read(b->control, d->origin, &origin) || strcmp(origin.type, "thin") ||
	    sscanf(origin.params, "%u:%u %lu%n", &major, &minor, &d->origin_id, &consumed) != 3 ||
	    origin.params[consumed])
		return refuse(why, size, -EINVAL, "disk %s: %s is not a thin volume as LVM activates"
			      " one (an external origin?): give --command", dev, d->origin);
	d->pool = makedev(major, minor);
	r = lvm(lvs_thin_id, d->made, NULL, NULL, &out);
	if (!r && sscanf(out, "%lu", &d->snapshot_id) != 1)
		r = -EPROTO;
	free(out);
	if (r)
		return refuse(why, size, r, "disk %s: no thin id for %s from lvs", dev, d->made);
	/* The pool deletes only a device nobody has open: lvcreate leaves it inactive. */
	r = dm_lvm_name(active, sizeof(active), vg, name);
	if (!r && !dm_status(b->control, active, 0, &status) &&
	    lvm(lvchange_off, d->made, NULL, NULL, NULL))
		return refuse(why, size, -EBUSY, "disk %s: cannot deactivate %s", dev, d->made);
	return r;
}

static int stage_thick(struct builtin *b, struct staged_disk *d, const char *vg,
		       const char *name, char *why, size_t size)
{
	const char *dev = dev_of(d);
	unsigned int major, minor;
	struct dm_table origin;
	struct dm_device cow;
	char path[160];
	struct stat st;
	int r;

	r = dm_lvm_name(d->snapshot, sizeof(d->snapshot), vg, name);
	if (!r && (dm_table_read(b->control, d->origin, &origin) ||
		   strcmp(origin.type, "snapshot-origin") ||
		   dm_table_read(b->control, d->snapshot, &d->table) ||
		   strcmp(d->table.type, "snapshot") ||
		   sscanf(d->table.params, "%*u:%*u %u:%u", &major, &minor) != 2))
		r = -EINVAL;
	if (!r && dm_status(b->control, NULL, makedev(major, minor), &cow))
		r = -ENODEV;
	if (r)
		return refuse(why, size, r, "disk %s: %s has not the device-mapper tables of an"
			      " LVM snapshot: give --command", dev, d->made);
	snprintf(path, sizeof(path), "/dev/mapper/%s", cow.name);
	d->cow_fd = open(path, O_WRONLY | O_DIRECT | O_CLOEXEC);
	if (d->cow_fd < 0 || fstat(d->cow_fd, &st) || st.st_rdev != cow.dev)
		return refuse(why, size, -ENODEV, "disk %s: %s is not the exception store of %s",
			      dev, path, d->made);
	return 0;
}

static int stage_lvm(struct builtin *b, struct staged_disk *d, const char *vg, const char *lv,
		     const char *segtype, char *why, size_t size)
{
	const char *dev = dev_of(d);
	char *name = NULL, *origin = NULL, *opt = NULL;
	bool thin = !strcmp(segtype, "thin");
	int r = -ENOMEM;

	if (b->control < 0) {
		b->control = dm_open();
		if (b->control < 0)
			return refuse(why, size, b->control, "disk %s: cannot open"
				      " /dev/mapper/control: %s", dev, strerror(-b->control));
	}
	d->kind = thin ? DISK_THIN : DISK_THICK;
	if (asprintf(&name, "%s-xq-staged-%s", lv, b->uuid) < 0 ||
	    asprintf(&origin, "%s/%s", vg, lv) < 0 ||
	    asprintf(&d->final, "%s/%s-xq-%s", vg, lv, b->uuid) < 0 ||
	    (!thin && !(opt = thick_size())))
		goto out;
	r = dm_lvm_name(d->origin, sizeof(d->origin), vg, lv);
	if (r) {
		refuse(why, size, r, "disk %s: %s: name too long", dev, origin);
		goto out;
	}
	r = lvm(lvcreate, origin, name, opt, NULL);
	if (r) {
		refuse(why, size, r, "disk %s: lvcreate of a snapshot of %s failed", dev, origin);
		goto out;
	}
	r = asprintf(&d->made, "%s/%s", vg, name) < 0 ? -ENOMEM : 0;
	if (!r)
		r = (thin ? stage_thin : stage_thick)(b, d, vg, name, why, size);
out:
	if (r == -ENOMEM)
		refuse(why, size, r, "disk %s: out of memory", dev);
	free(name);
	free(origin);
	free(opt);
	return r;
}

static int stage_reflink(struct builtin *b, struct staged_disk *d, const char *src,
			 char *why, size_t size)
{
	const char *dev = dev_of(d);
	struct stat st;
	int dst, r = 0;

	d->kind = DISK_REFLINK;
	d->src_fd = open(src, O_RDONLY | O_CLOEXEC);
	if (d->src_fd < 0 || fstat(d->src_fd, &st))
		return refuse(why, size, -errno, "disk %s: cannot open %s: %s", dev, src,
			      strerror(errno));
	if (asprintf(&d->final, "%s.xq-%s", src, b->uuid) < 0 ||
	    asprintf(&d->made, "%s.xq-staged-%s", src, b->uuid) < 0) {
		d->made = NULL;
		return refuse(why, size, -ENOMEM, "disk %s: out of memory", dev);
	}
	dst = open(d->made, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, st.st_mode & 0777);
	if (dst < 0) {
		r = refuse(why, size, -errno, "disk %s: cannot create %s: %s", dev, d->made,
			   strerror(errno));
		free(d->made);
		d->made = NULL;
		return r;
	}
	/* Tried now, so that a filesystem without reflinks fails before the freeze. */
	if (ioctl(dst, FICLONE, d->src_fd) < 0)
		r = refuse(why, size, -errno, "disk %s: no reflink copy of %s (%s): on a filesystem"
			   " without reflinks (xfs and btrfs have them), give --command", dev, src,
			   strerror(errno));
	/* Emptied, so that the capture only maps extents, unsharing none. */
	else if (ftruncate(dst, 0))
		r = refuse(why, size, -errno, "disk %s: cannot empty %s: %s", dev, d->made,
			   strerror(errno));
	close(dst);
	return r;
}

static int stage_disk(struct builtin *b, struct staged_disk *d, char *why, size_t size)
{
	const char *params = d->vdi->params ? d->vdi->params : "";
	const char *dev = dev_of(d);
	const char *src = params, *scheme_end = strstr(params, ":/");
	char *out = NULL, vg[128], lv[128], segtype[32];
	struct stat st;
	int r;

	/* qdisk writes FORMAT:PATH */
	if (scheme_end && params[0] >= 'a' && params[0] <= 'z')
		src = scheme_end + 1;
	if (stat(src, &st))
		st.st_mode = 0;
	if (S_ISREG(st.st_mode))
		return stage_reflink(b, d, src, why, size);
	if (S_ISBLK(st.st_mode)) {
		r = lvm(lvs_type, src, NULL, NULL, &out);
		if (r == -EINTR)
			return refuse(why, size, r, "interrupted");
		if (!r && sscanf(out, "%127s %127s %31s", vg, lv, segtype) == 3)
			r = stage_lvm(b, d, vg, lv, segtype, why, size);
		else
			r = 1;	/* not LVM's */
		free(out);
		if (r <= 0)
			return r;
	}
	return refuse(why, size, -EINVAL, "disk %s: %s is neither an LVM logical volume nor a"
		      " file: give --command", dev, params);
}

int builtin_stage(struct builtin *b, const struct disks *disks, const char *uuid, char *why,
		  size_t why_size)
{
	unsigned int i;
	int r = 0;

	memset(b, 0, sizeof(*b));
	b->control = -1;
	snprintf(b->uuid, sizeof(b->uuid), "%s", uuid);
	b->disk = calloc(disks->n, sizeof(*b->disk));
	if (!b->disk)
		return refuse(why, why_size, -ENOMEM, "out of memory");
	for (i = 0; i < disks->n && !r; i++) {
		struct staged_disk *d = &b->disk[b->n++];

		d->vdi = &disks->vdi[i];
		d->cow_fd = d->src_fd = -1;
		r = stage_disk(b, d, why, why_size);
	}
	if (r)
		builtin_discard(b);
	return r;
}

/* The pool makes the staged snapshot again, of the origin as it is now. */
static int snap_again(int control, struct staged_disk *d, char *why, size_t size)
{
	char msg[64];
	int r;

	snprintf(msg, sizeof(msg), "delete %lu", d->snapshot_id);
	r = dm_message(control, d->pool, msg);
	if (r)
		return refuse(why, size, r, "disk %s: the thin pool refused '%s': %s", dev_of(d),
			      msg, strerror(-r));
	snprintf(msg, sizeof(msg), "create_snap %lu %lu", d->snapshot_id, d->origin_id);
	r = dm_message(control, d->pool, msg);
	if (r)
		return refuse(why, size, r, "disk %s: the thin pool refused '%s' (%s) after"
			      " deleting the staged snapshot's data: %s has none; lvremove it",
			      dev_of(d), msg, strerror(-r), d->made);
	return 0;
}

/* An empty exception store under the staged snapshot's table: it begins now. */
static int store_again(int control, struct staged_disk *d, char *why, size_t size)
{
	static char zeros[4096] __attribute__((aligned(4096)));
	const struct dm_table error = { .length = d->table.length, .type = "error" };
	struct dm_device snapshot;
	const char *step;
	int r;

	r = dm_status(control, d->snapshot, 0, &snapshot);
	if (r || snapshot.open_count)
		return refuse(why, size, r ? r : -EBUSY, "disk %s: %s is %s", dev_of(d), d->made,
			      r ? "gone" : "in use");
	step = "let the staged snapshot go";
	r = dm_table_load(control, d->snapshot, &error);
	r = r ?: dm_resume(control, d->snapshot);
	if (!r) {
		step = "wipe the exception store's header";
		if (pwrite(d->cow_fd, zeros, sizeof(zeros), 0) != sizeof(zeros))
			r = errno ? -errno : -EIO;
	}
	if (!r) {
		step = "start the snapshot again";
		r = dm_table_load(control, d->snapshot, &d->table);
		r = r ?: dm_resume(control, d->snapshot);
	}
	if (r)
		return refuse(why, size, r, "disk %s: cannot %s of %s: %s", dev_of(d), step,
			      d->made, strerror(-r));
	return 0;
}

/* Either, with the origin suspended throughout, as lvcreate has it. */
static int capture_lvm(int control, struct staged_disk *d, char *why, size_t size)
{
	int r, resumed;

	r = dm_suspend(control, d->origin);
	if (r)
		return refuse(why, size, r, "disk %s: cannot suspend %s: %s", dev_of(d), d->origin,
			      strerror(-r));
	r = (d->kind == DISK_THIN ? snap_again : store_again)(control, d, why, size);
	resumed = dm_resume(control, d->origin);
	if (!r && resumed)
		r = refuse(why, size, resumed, "disk %s: cannot resume %s: %s", dev_of(d),
			   d->origin, strerror(-resumed));
	return r;
}

static int capture_reflink(struct staged_disk *d, char *why, size_t size)
{
	const char *dev = dev_of(d);
	int dst, r = 0;

	dst = open(d->made, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
	if (dst < 0 || ioctl(dst, FICLONE, d->src_fd) < 0)
		r = refuse(why, size, -errno, "disk %s: no reflink copy into %s: %s", dev, d->made,
			   strerror(errno));
	if (dst >= 0)
		close(dst);
	return r;
}

static unsigned int discard_one(struct staged_disk *d)
{
	int r;

	if (d->cow_fd >= 0)
		close(d->cow_fd);
	d->cow_fd = -1;
	if (!d->made)
		return 0;
	if (d->kind == DISK_REFLINK)
		r = unlink(d->made) && errno != ENOENT ? -errno : 0;
	else
		r = lvm(lvremove, d->made, NULL, NULL, NULL);
	if (r) {
		fprintf(stderr, "xquiesce-host: could not remove %s, not a quiesced snapshot\n",
			d->made);
		return 1;
	}
	free(d->made);
	d->made = NULL;
	return 0;
}

int builtin_capture(struct builtin *b, char *const requested[], unsigned int nreq, char **ids,
		    char *why, size_t why_size)
{
	unsigned int i;
	int r = 0;

	for (i = 0; i < b->n && !r; i++) {
		struct staged_disk *d = &b->disk[i];
		char *tmp = *ids;

		if (!vdi_listed(d->vdi, requested, nreq))
			continue;
		if (d->kind == DISK_REFLINK)
			r = capture_reflink(d, why, why_size);
		else
			r = capture_lvm(b->control, d, why, why_size);
		if (r)
			break;
		d->captured = true;
		if (asprintf(ids, "%s%s %s\n", tmp ? tmp : "", d->vdi->uuid, d->final) < 0) {
			*ids = tmp;
			return refuse(why, why_size, -ENOMEM, "out of memory");
		}
		free(tmp);
	}
	return r;
}

/* A rename is durable once its directory is. */
static int sync_path_and_dir(const char *path)
{
	char *copy = strdup(path);
	int fd, r = 0;

	if (!copy)
		return -ENOMEM;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fsync(fd))
		r = -errno;
	if (fd >= 0)
		close(fd);
	fd = r ? -1 : open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (!r && (fd < 0 || fsync(fd)))
		r = -errno;
	if (fd >= 0)
		close(fd);
	free(copy);
	return r;
}

int builtin_commit(struct builtin *b, char *why, size_t why_size)
{
	unsigned int i;
	int r = 0;

	for (i = 0; i < b->n && !r; i++) {
		struct staged_disk *d = &b->disk[i];

		/* staged for a disk the guest did not list */
		if (!d->captured) {
			discard_one(d);
			continue;
		}
		if (d->kind == DISK_REFLINK)
			r = rename(d->made, d->final) ? -errno : sync_path_and_dir(d->final);
		else
			r = lvm(lvrename, d->made, d->final, NULL, NULL);
		if (r) {
			refuse(why, why_size, r, "cannot rename %s to %s", d->made, d->final);
			break;
		}
		free(d->made);
		d->made = d->final;
		d->final = NULL;
	}
	return r;
}

unsigned int builtin_discard(struct builtin *b)
{
	unsigned int i, left = 0;

	for (i = 0; i < b->n; i++)
		left += discard_one(&b->disk[i]);
	return left;
}

void builtin_free(struct builtin *b)
{
	unsigned int i;

	for (i = 0; i < b->n; i++) {
		struct staged_disk *d = &b->disk[i];

		if (d->cow_fd >= 0)
			close(d->cow_fd);
		if (d->src_fd >= 0)
			close(d->src_fd);
		free(d->made);
		free(d->final);
	}
	if (b->control >= 0)
		close(b->control);
	free(b->disk);
	memset(b, 0, sizeof(*b));
	b->control = -1;
}
