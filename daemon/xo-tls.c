// SPDX-License-Identifier: GPL-2.0
/*
 * The files of Xen Orchestra's door, read once at start (see xo-http.h):
 * the token, root-only, and the certificate and key, the key root-only.
 * Without either of the two, a self-signed pair is generated once with
 * GnuTLS and kept where they were expected.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <gnutls/gnutls.h>
#include <gnutls/crypto.h>
#include <gnutls/x509.h>

#include "log.h"
#include "xo-http.h"

#define PEM_MAX		(64 * 1024)
#define CERT_YEARS	20

/* The whole file, NUL-terminated; private: owned by us, no access for others. */
static int read_small(const char *path, bool private, size_t max, char **out, char *err,
		      size_t errlen)
{
	struct stat st;
	char *buf;
	ssize_t n;
	size_t got = 0;
	int fd, r = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		r = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(-r));
		return r;
	}
	if (fstat(fd, &st) < 0) {
		r = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(-r));
	} else if (!S_ISREG(st.st_mode) || (size_t)st.st_size > max) {
		r = -EINVAL;
		snprintf(err, errlen, "%s: not a regular file of at most %zu bytes", path, max);
	} else if (private && (st.st_uid != geteuid() || (st.st_mode & 077))) {
		r = -EPERM;
		snprintf(err, errlen, "%s: must belong to root and be readable by root alone "
			 "(owner %u, mode %04o; chown root: and chmod 600 it)", path,
			 (unsigned int)st.st_uid, (unsigned int)(st.st_mode & 07777));
	}
	if (r) {
		close(fd);
		return r;
	}
	buf = calloc(1, st.st_size + 1);
	if (!buf) {
		close(fd);
		snprintf(err, errlen, "%s: %s", path, strerror(ENOMEM));
		return -ENOMEM;
	}
	while (got < (size_t)st.st_size && (n = read(fd, buf + got, st.st_size - got)) > 0)
		got += n;
	close(fd);
	buf[got] = '\0';
	*out = buf;
	return 0;
}

int xo_read_token(const char *path, char **secret, char *err, size_t errlen)
{
	size_t len;
	char *s;
	int r;

	r = read_small(path, true, XO_SECRET_MAX, &s, err, errlen);
	if (r)
		return r;
	/* one line: xo-server's syncHookSecret as it is */
	len = strlen(s);
	while (len && (s[len - 1] == '\n' || s[len - 1] == '\r'))
		s[--len] = '\0';
	if (!len || strchr(s, '\n')) {
		snprintf(err, errlen, "%s: expected one line, the syncHookSecret of xo-server's "
			 "[xapiOptions]", path);
		explicit_bzero(s, len);
		free(s);
		return -EINVAL;
	}
	*secret = s;
	return 0;
}

static int write_new(const char *path, const gnutls_datum_t *d, mode_t mode, char *err,
		     size_t errlen)
{
	char dir[PATH_MAX];
	int fd, r = 0;

	snprintf(dir, sizeof(dir), "%s", path);
	if (mkdir(dirname(dir), 0700) < 0 && errno != EEXIST) {
		r = -errno;
		snprintf(err, errlen, "%s: %s", dir, strerror(-r));
		return r;
	}
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
	if (fd < 0 || write(fd, d->data, d->size) != (ssize_t)d->size || fsync(fd) < 0)
		r = -errno;
	if (fd >= 0 && close(fd) < 0 && !r)
		r = -errno;
	if (r) {
		snprintf(err, errlen, "cannot write %s: %s", path, strerror(-r));
		if (fd >= 0)
			unlink(path);
	}
	return r;
}

/* An ECDSA P-256 key and a certificate for this host name, signed by itself. */
static int generate(const char *cert_path, const char *key_path, char *err, size_t errlen)
{
	gnutls_x509_privkey_t key = NULL;
	gnutls_x509_crt_t crt = NULL;
	gnutls_datum_t kd = { 0 }, cd = { 0 };
	unsigned char serial[16];
	char host[256] = "xquiesced";
	time_t now = time(NULL);
	int g;

	gethostname(host, sizeof(host) - 1);
	if ((g = gnutls_x509_privkey_init(&key)) ||
	    (g = gnutls_x509_privkey_generate(key, GNUTLS_PK_ECDSA,
					      GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0)) ||
	    (g = gnutls_x509_crt_init(&crt)) || (g = gnutls_x509_crt_set_version(crt, 3)) ||
	    (g = gnutls_rnd(GNUTLS_RND_NONCE, serial, sizeof(serial))))
		goto fail;
	serial[0] &= 0x7f;	/* a positive number */
	if ((g = gnutls_x509_crt_set_serial(crt, serial, sizeof(serial))) ||
	    (g = gnutls_x509_crt_set_activation_time(crt, now - 3600)) ||
	    (g = gnutls_x509_crt_set_expiration_time(crt, now + CERT_YEARS * 365 * 86400LL)) ||
	    (g = gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, host,
					       strlen(host))) ||
	    (g = gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_DNSNAME, host, strlen(host),
						      GNUTLS_FSAN_SET)) ||
	    (g = gnutls_x509_crt_set_key(crt, key)) ||
	    (g = gnutls_x509_crt_set_basic_constraints(crt, 0, -1)) ||
	    (g = gnutls_x509_crt_set_key_usage(crt, GNUTLS_KEY_DIGITAL_SIGNATURE)) ||
	    (g = gnutls_x509_crt_set_key_purpose_oid(crt, GNUTLS_KP_TLS_WWW_SERVER, 0)) ||
	    (g = gnutls_x509_crt_sign2(crt, crt, key, GNUTLS_DIG_SHA256, 0)) ||
	    (g = gnutls_x509_privkey_export2(key, GNUTLS_X509_FMT_PEM, &kd)) ||
	    (g = gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_PEM, &cd)))
		goto fail;
	gnutls_x509_crt_deinit(crt);
	gnutls_x509_privkey_deinit(key);
	g = write_new(key_path, &kd, 0600, err, errlen);
	if (!g)
		g = write_new(cert_path, &cd, 0644, err, errlen);
	if (g)
		unlink(key_path);
	gnutls_free(kd.data);
	gnutls_free(cd.data);
	return g;
fail:
	snprintf(err, errlen, "cannot generate a certificate: %s", gnutls_strerror(g));
	if (crt)
		gnutls_x509_crt_deinit(crt);
	if (key)
		gnutls_x509_privkey_deinit(key);
	gnutls_free(kd.data);
	return -EINVAL;
}

int xo_read_cert(const char *cert_path, const char *key_path, char **cert_pem, char **key_pem,
		 bool *generated, char *err, size_t errlen)
{
	bool no_cert = access(cert_path, F_OK) && errno == ENOENT;
	bool no_key = access(key_path, F_OK) && errno == ENOENT;
	int r;

	*generated = false;
	if (no_cert && no_key) {
		r = generate(cert_path, key_path, err, errlen);
		if (r)
			return r;
		*generated = true;
	}
	r = read_small(key_path, true, PEM_MAX, key_pem, err, errlen);
	if (r)
		return r;
	r = read_small(cert_path, false, PEM_MAX, cert_pem, err, errlen);
	if (r) {
		explicit_bzero(*key_pem, strlen(*key_pem));
		free(*key_pem);
		*key_pem = NULL;
	}
	return r;
}
