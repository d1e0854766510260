// SPDX-License-Identifier: GPL-2.0
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdarg.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "discovery.h"
#include "sysfs.h"

/* Deeper than any real stack (partition, LVM over md over loop, ...). */
#define MAX_STACK_DEPTH	16

/*
 * Never frozen: a FUSE filesystem's daemon runs in userspace and may need
 * the very disks being frozen to answer the sync that freezing makes.
 * Types without a freeze operation of their own (vfat, iso9660, ...) are
 * kept: the module freezes them at the VFS level, and FIFREEZE answers
 * EOPNOTSUPP, which the fallback reports and goes past.
 */
static const char *const unfreezable_fstypes[] = { "fuseblk", "fuse" };

struct mount {
	unsigned int major, minor;
	char *root, *mountpoint, *fstype, *source;
	int sb;			/* index into scan.sbs, -1: not a disk filesystem */
};

enum { SB_NEW, SB_VISITING, SB_DONE };

struct stacked {		/* upper sits on a loop device backed by a file of lower */
	size_t upper, lower;
};

struct scan {
	const char *sysfs, *dev;
	const char *const *test_disks;
	struct mount *mounts;
	size_t nmounts;
	struct disc_fs *sbs;
	unsigned char *state;
	size_t nsbs;
	struct stacked *stack;
	size_t nstack;
	struct discovery *d;
};

/* Appends room for one more: the capacity is n rounded up to a power of two. */
static int grow(void *array, size_t n, size_t size)
{
	void **p = array;
	void *grown;

	if (n & (n - 1))
		return 0;
	grown = realloc(*p, (n ? 2 * n : 1) * size);
	if (!grown)
		return -ENOMEM;
	*p = grown;
	return 0;
}

/* snprintf into a PATH_MAX buffer; -ENAMETOOLONG rather than a cut path. */
static int pathf(char *buf, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int pathf(char *buf, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, PATH_MAX, fmt, ap);
	va_end(ap);
	return n < 0 || n >= PATH_MAX ? -ENAMETOOLONG : 0;
}

/* mountinfo escapes ' ', '\t', '\n' and '\\' as \ooo. */
static void unescape(char *s)
{
	char *out = s;

	while (*s) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
		    s[3] >= '0' && s[3] <= '7') {
			*out++ = (s[1] - '0') << 6 | (s[2] - '0') << 3 | (s[3] - '0');
			s += 4;
		} else {
			*out++ = *s++;
		}
	}
	*out = '\0';
}

/*
 * "36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue"
 * Lines that do not parse are skipped: the kernel writes this file.
 */
static int parse_mountinfo_line(char *line, struct mount *m)
{
	char *field[6], *save = NULL, *tok;
	int i;

	for (i = 0; i < 6; i++) {
		field[i] = strtok_r(i ? NULL : line, " \n", &save);
		if (!field[i])
			return -EINVAL;
	}
	while ((tok = strtok_r(NULL, " \n", &save)) && strcmp(tok, "-"))
		;
	if (!tok)
		return -EINVAL;
	if (sscanf(field[2], "%u:%u", &m->major, &m->minor) != 2)
		return -EINVAL;
	m->root = field[3];
	m->mountpoint = field[4];
	m->fstype = strtok_r(NULL, " \n", &save);
	m->source = strtok_r(NULL, " \n", &save);
	if (!m->fstype || !m->source)
		return -EINVAL;
	unescape(m->root);
	unescape(m->mountpoint);
	unescape(m->source);
	return 0;
}

static int read_mounts(struct scan *s, const char *path)
{
	char *line = NULL;
	size_t cap = 0;
	struct mount m;
	FILE *f;
	int r = 0;

	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (getline(&line, &cap, f) > 0) {
		if (parse_mountinfo_line(line, &m) < 0)
			continue;
		if (grow(&s->mounts, s->nmounts, sizeof(*s->mounts)) < 0) {
			r = -ENOMEM;
			break;
		}
		m.root = strdup(m.root);
		m.mountpoint = strdup(m.mountpoint);
		m.fstype = strdup(m.fstype);
		m.source = strdup(m.source);
		m.sb = -1;
		s->mounts[s->nmounts++] = m;
		if (!m.root || !m.mountpoint || !m.fstype || !m.source) {
			r = -ENOMEM;
			break;
		}
	}
	free(line);
	fclose(f);
	return r;
}

static bool is_test_disk(const struct scan *s, const char *name)
{
	const char *const *t;

	for (t = s->test_disks; t && *t; t++)
		if (!strcmp(*t, name))
			return true;
	return false;
}

int discovery_check_test_disk(const char *name)
{
	char path[PATH_MAX];

	if (!*name || strchr(name, '/') || strlen(name) >= DISC_NAME_LEN)
		return -EINVAL;
	pathf(path, "/sys/block/%s", name);
	return access(path, F_OK) ? -ENODEV : 0;
}

static int add_disk(struct scan *s, const char *name)
{
	struct discovery *d = s->d;
	struct disc_disk disk = { 0 };
	char path[PATH_MAX], value[64];
	const char *id;

	if (strlen(name) >= sizeof(disk.name))
		return 0;
	pathf(path, "%s/block/%s/device/nodename", s->sysfs, name);
	if (sysfs_read_line(path, value, sizeof(value)) == 0 && !strncmp(value, "device/vbd/", 11)) {
		id = value + 11;
		if (!isdigit((unsigned char)*id))
			return 0;
		disk.devid = strtoul(id, NULL, 10);
	} else if (!is_test_disk(s, name)) {
		return 0;
	}
	pathf(path, "%s/block/%s/dev", s->sysfs, name);
	if (sysfs_read_line(path, value, sizeof(value)) < 0 ||
	    sscanf(value, "%u:%u", &disk.major, &disk.minor) != 2)
		return 0;
	if (d->ndisks == DISC_MAX_DISKS)
		return -E2BIG;
	strcpy(disk.name, name);
	if (grow(&d->disks, d->ndisks, sizeof(*d->disks)) < 0)
		return -ENOMEM;
	d->disks[d->ndisks++] = disk;
	return 0;
}

/* xvdz before xvdaa, as the kernel names them. */
static int disk_cmp(const void *a, const void *b)
{
	const char *x = ((const struct disc_disk *)a)->name;
	const char *y = ((const struct disc_disk *)b)->name;
	size_t lx = strlen(x), ly = strlen(y);

	return lx != ly ? (lx < ly ? -1 : 1) : strcmp(x, y);
}

static int scan_disks(struct scan *s)
{
	char path[PATH_MAX];
	struct dirent *de;
	DIR *dir;
	int r = 0;

	pathf(path, "%s/block", s->sysfs);
	dir = opendir(path);
	if (!dir)
		return -errno;
	while (!r && (de = readdir(dir)))
		if (de->d_name[0] != '.')
			r = add_disk(s, de->d_name);
	closedir(dir);
	if (s->d->ndisks)
		qsort(s->d->disks, s->d->ndisks, sizeof(*s->d->disks), disk_cmp);
	return r;
}

static int disk_index(const struct discovery *d, const char *name)
{
	size_t i;

	for (i = 0; i < d->ndisks; i++)
		if (!strcmp(d->disks[i].name, name))
			return i;
	return -1;
}

static bool path_under(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	if (!strcmp(dir, "/"))
		return path[0] == '/';
	return !strncmp(path, dir, n) && (path[n] == '/' || path[n] == '\0');
}

/* The superblock holding path: the deepest mount above it, the topmost of equals. */
static int sb_holding(const struct scan *s, const char *path)
{
	size_t i, best_len = 0;
	int best = -1;

	for (i = 0; i < s->nmounts; i++) {
		size_t len = strlen(s->mounts[i].mountpoint);

		if (path_under(path, s->mounts[i].mountpoint) && (best < 0 || len >= best_len)) {
			best = i;
			best_len = len;
		}
	}
	return best < 0 ? -1 : s->mounts[best].sb;
}

static void merge_disks(struct disc_fs *into, const struct disc_fs *from)
{
	size_t i;

	for (i = 0; i < DISC_MAX_DISKS / 64; i++)
		into->on_disks[i] |= from->on_disks[i];
}

static int resolve_sb(struct scan *s, size_t sb);

static int add_stacked(struct scan *s, size_t upper, size_t lower)
{
	if (grow(&s->stack, s->nstack, sizeof(*s->stack)) < 0)
		return -ENOMEM;
	s->stack[s->nstack++] = (struct stacked){ .upper = upper, .lower = lower };
	return 0;
}

static int loop_leaves(struct scan *s, size_t sb, const char *backing)
{
	int lower = sb_holding(s, backing);
	int r;

	if (lower < 0 || (size_t)lower == sb)
		return 0;
	r = resolve_sb(s, lower);
	if (r < 0)
		return r;
	merge_disks(&s->sbs[sb], &s->sbs[lower]);
	return add_stacked(s, sb, lower);
}

static int add_leaves(struct scan *s, size_t sb, const char *devdir, int depth);

/* Each entry of dir links to a block device: slaves/, btrfs devices/. */
static int add_leaves_linked(struct scan *s, size_t sb, const char *dir, int depth)
{
	char link[PATH_MAX], real[PATH_MAX];
	struct dirent *de;
	DIR *d = opendir(dir);
	int r = 0;

	if (!d)
		return 0;
	while (!r && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		if (!pathf(link, "%s/%s", dir, de->d_name) && realpath(link, real))
			r = add_leaves(s, sb, real, depth);
	}
	closedir(d);
	return r;
}

/* Walks a block device down to the Xen disks under it. */
static int add_leaves(struct scan *s, size_t sb, const char *devdir, int depth)
{
	char path[PATH_MAX], sub[PATH_MAX];
	char *name = strrchr(devdir, '/') + 1;
	int disk;

	if (depth > MAX_STACK_DEPTH)
		return -ELOOP;
	disk = disk_index(s->d, name);
	if (disk >= 0) {
		s->sbs[sb].on_disks[disk / 64] |= 1ULL << (disk % 64);
		return 0;
	}
	pathf(path, "%s/partition", devdir);
	if (access(path, F_OK) == 0) {
		pathf(sub, "%s", devdir);
		return add_leaves(s, sb, dirname(sub), depth + 1);
	}
	pathf(path, "%s/loop/backing_file", devdir);
	if (sysfs_read_line(path, sub, sizeof(sub)) == 0)
		return loop_leaves(s, sb, sub);
	pathf(path, "%s/slaves", devdir);
	return add_leaves_linked(s, sb, path, depth + 1);
}

/* The sysfs name of a mount source such as /dev/mapper/vg-lv ("dm-3"). */
static int source_name(const struct scan *s, const char *source, char *name, size_t len)
{
	char path[PATH_MAX], real[PATH_MAX];
	const char *base;

	if (strncmp(source, "/dev/", 5))
		return -ENODEV;
	if (!pathf(path, "%s/%s", s->dev, source + 5) && realpath(path, real))
		base = strrchr(real, '/') + 1;
	else
		base = strrchr(source, '/') + 1;
	if (strlen(base) >= len)
		return -ENAMETOOLONG;
	strcpy(name, base);
	return 0;
}

/* btrfs has no block device of its own: walk the members of its fsid. */
static int btrfs_leaves(struct scan *s, size_t sb, const char *source)
{
	char name[NAME_MAX + 1], path[PATH_MAX];
	struct dirent *fsid;
	DIR *fsids;

	if (source_name(s, source, name, sizeof(name)) < 0)
		return 0;
	pathf(path, "%s/fs/btrfs", s->sysfs);
	fsids = opendir(path);
	if (!fsids)
		return 0;
	while ((fsid = readdir(fsids))) {
		if (fsid->d_name[0] != '.' &&
		    !pathf(path, "%s/fs/btrfs/%s/devices/%s", s->sysfs, fsid->d_name, name) &&
		    access(path, F_OK) == 0)
			break;
	}
	if (!fsid) {
		closedir(fsids);
		return 0;
	}
	pathf(path, "%s/fs/btrfs/%s/devices", s->sysfs, fsid->d_name);
	closedir(fsids);
	return add_leaves_linked(s, sb, path, 0);
}

static int resolve_sb(struct scan *s, size_t sb)
{
	struct disc_fs *fs = &s->sbs[sb];
	char path[PATH_MAX], devdir[PATH_MAX];
	int r = 0;

	/* A loop cycle cannot be built, but a fake tree could claim one. */
	if (s->state[sb] != SB_NEW)
		return 0;
	s->state[sb] = SB_VISITING;
	if (fs->major) {
		pathf(path, "%s/dev/block/%u:%u", s->sysfs, fs->major, fs->minor);
		if (realpath(path, devdir))
			r = add_leaves(s, sb, devdir, 0);
	} else if (!strcmp(fs->fstype, "btrfs")) {
		r = btrfs_leaves(s, sb, fs->source);
	}
	s->state[sb] = SB_DONE;
	return r;
}

static bool better_mount(const struct mount *m, const struct disc_fs *fs, bool fs_root)
{
	bool m_root = !strcmp(m->root, "/");

	if (m_root != fs_root)
		return m_root;
	return strlen(m->mountpoint) < strlen(fs->mountpoint);
}

static int copy_str(char *dst, size_t len, const char *src)
{
	if (strlen(src) >= len)
		return -ENAMETOOLONG;
	strcpy(dst, src);
	return 0;
}

/* One entry per superblock that could sit on a disk; mounts point at it. */
static int collect_sbs(struct scan *s, bool *sb_root)
{
	size_t i, j;

	for (i = 0; i < s->nmounts; i++) {
		struct mount *m = &s->mounts[i];
		struct disc_fs *fs;

		if (!m->major && strcmp(m->fstype, "btrfs"))
			continue;
		for (j = 0; j < s->nsbs; j++)
			if (s->sbs[j].major == m->major && s->sbs[j].minor == m->minor)
				break;
		if (j == s->nsbs) {
			if (grow(&s->sbs, s->nsbs, sizeof(*s->sbs)) < 0)
				return -ENOMEM;
			fs = &s->sbs[s->nsbs++];
			*fs = (struct disc_fs){ .major = m->major, .minor = m->minor };
			if (copy_str(fs->fstype, sizeof(fs->fstype), m->fstype) < 0 ||
			    copy_str(fs->source, sizeof(fs->source), m->source) < 0)
				return -ENAMETOOLONG;
			sb_root[j] = false;
		}
		fs = &s->sbs[j];
		m->sb = j;
		fs->nmounts++;
		if (fs->nmounts == 1 || better_mount(m, fs, sb_root[j])) {
			if (copy_str(fs->mountpoint, sizeof(fs->mountpoint), m->mountpoint) < 0)
				return -ENAMETOOLONG;
			sb_root[j] = !strcmp(m->root, "/");
		}
	}
	return 0;
}

static bool on_any_disk(const struct disc_fs *fs)
{
	size_t i;

	for (i = 0; i < DISC_MAX_DISKS / 64; i++)
		if (fs->on_disks[i])
			return true;
	return false;
}

/* A filesystem on a loop device freezes before the one holding its file. */
static void assign_levels(struct scan *s)
{
	bool changed = true;
	size_t i, rounds;

	for (rounds = 0; changed && rounds <= s->nsbs; rounds++) {
		changed = false;
		for (i = 0; i < s->nstack; i++) {
			struct disc_fs *up = &s->sbs[s->stack[i].upper];
			struct disc_fs *low = &s->sbs[s->stack[i].lower];

			if (low->level < up->level + 1) {
				low->level = up->level + 1;
				changed = true;
			}
		}
	}
}

static bool in_list(char *const *list, const char *s)
{
	for (; list && *list; list++)
		if (!strcmp(*list, s))
			return true;
	return false;
}

static const char *exclusion(const struct scan *s, size_t sb, const struct xq_config *cfg)
{
	const struct disc_fs *fs = &s->sbs[sb];
	size_t i, j;

	for (i = 0; i < sizeof(unfreezable_fstypes) / sizeof(unfreezable_fstypes[0]); i++)
		if (!strcmp(fs->fstype, unfreezable_fstypes[i]))
			return "FUSE filesystems are not frozen";
	if (!cfg)
		return NULL;
	if (in_list(cfg->exclude_fstypes, fs->fstype))
		return "excluded by exclude_fstype";
	for (i = 0; i < s->nmounts; i++) {
		if (s->mounts[i].sb != (int)sb)
			continue;
		for (j = 0; j < cfg->nexclude_mounts; j++)
			if (!fnmatch(cfg->exclude_mounts[j], s->mounts[i].mountpoint, 0))
				return "excluded by exclude_mount";
	}
	return NULL;
}

static int keep_disk_filesystems(struct scan *s, const struct xq_config *cfg)
{
	struct discovery *d = s->d;
	size_t i;

	for (i = 0; i < s->nsbs; i++) {
		if (!on_any_disk(&s->sbs[i]))
			continue;
		if (grow(&d->fs, d->nfs, sizeof(*d->fs)) < 0)
			return -ENOMEM;
		d->fs[d->nfs] = s->sbs[i];
		d->fs[d->nfs++].excluded = exclusion(s, i, cfg);
	}
	return 0;
}

int discovery_scan(struct discovery *d, const struct discovery_roots *roots,
		   const struct xq_config *cfg)
{
	static const struct discovery_roots real = { 0 };
	struct scan s = { .d = d };
	bool *sb_root = NULL;
	size_t i;
	int r;

	if (!roots)
		roots = &real;
	s.sysfs = roots->sysfs ? roots->sysfs : "/sys";
	s.dev = roots->dev ? roots->dev : "/dev";
	s.test_disks = roots->test_as_xen_disks;
	*d = (struct discovery){ 0 };

	r = read_mounts(&s, roots->mountinfo ? roots->mountinfo : "/proc/self/mountinfo");
	if (!r)
		r = scan_disks(&s);
	if (!r) {
		sb_root = calloc(s.nmounts + 1, sizeof(*sb_root));
		r = sb_root ? collect_sbs(&s, sb_root) : -ENOMEM;
	}
	if (!r) {
		s.state = calloc(s.nsbs + 1, 1);
		r = s.state ? 0 : -ENOMEM;
	}
	for (i = 0; !r && i < s.nsbs; i++)
		r = resolve_sb(&s, i);
	if (!r) {
		assign_levels(&s);
		r = keep_disk_filesystems(&s, cfg);
	}

	for (i = 0; i < s.nmounts; i++) {
		free(s.mounts[i].root);
		free(s.mounts[i].mountpoint);
		free(s.mounts[i].fstype);
		free(s.mounts[i].source);
	}
	free(s.mounts);
	free(s.sbs);
	free(s.state);
	free(s.stack);
	free(sb_root);
	if (r < 0)
		discovery_free(d);
	return r;
}

void discovery_free(struct discovery *d)
{
	free(d->disks);
	free(d->fs);
	*d = (struct discovery){ 0 };
}

const struct disc_disk *discovery_find_vbd(const struct discovery *d, const char *vbd)
{
	const char *id = vbd;
	size_t i;

	if (!strncmp(id, "device/vbd/", 11))
		id += 11;
	for (i = 0; i < d->ndisks; i++) {
		char num[16];

		snprintf(num, sizeof(num), "%u", d->disks[i].devid);
		if ((d->disks[i].devid && !strcmp(num, id)) || !strcmp(d->disks[i].name, vbd))
			return &d->disks[i];
	}
	return NULL;
}

bool discovery_fs_on_disk(const struct discovery *d, const struct disc_fs *fs,
			  const struct disc_disk *disk)
{
	size_t i = disk - d->disks;

	return i < d->ndisks && fs->on_disks[i / 64] & (1ULL << (i % 64));
}
