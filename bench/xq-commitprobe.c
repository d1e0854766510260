// SPDX-License-Identifier: GPL-2.0
/*
 * In-guest program of the Xen benchmark (bench/xen): a database committing
 * transactions as an application does. Opens DB with SQLite in WAL mode and
 * synchronous=FULL (every commit ends in an fsync of the log), commits one
 * small row per transaction, back to back, until STOPFILE exists, and
 * writes one line per commit to OUT:
 *
 *   xq-commitprobe DB OUT STOPFILE
 *   -> "START_MS LATENCY_MS" per commit
 *
 * START_MS is CLOCK_BOOTTIME, which /proc/uptime shows too: marks taken
 * from /proc/uptime place a snapshot among the commits. A commit blocked
 * by a frozen filesystem shows as one long commit that ends at the thaw.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

/* Rows kept: older ones go, so the database stays small on a small disk. */
#define KEEP_ROWS 2000

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int run(sqlite3 *db, const char *sql)
{
	char *err = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &err) == SQLITE_OK)
		return 0;
	fprintf(stderr, "xq-commitprobe: %s: %s\n", sql, err ? err : sqlite3_errmsg(db));
	sqlite3_free(err);
	return -1;
}

int main(int argc, char **argv)
{
	sqlite3_stmt *insert, *trim;
	sqlite3 *db;
	FILE *out;
	long commits = 0;
	double t0;

	if (argc != 4) {
		fprintf(stderr, "usage: xq-commitprobe DB OUT STOPFILE\n");
		return 2;
	}
	out = fopen(argv[2], "w");
	if (!out) {
		perror(argv[2]);
		return 1;
	}
	setvbuf(out, NULL, _IOLBF, 0);
	if (sqlite3_open(argv[1], &db) != SQLITE_OK) {
		fprintf(stderr, "xq-commitprobe: %s: %s\n", argv[1], sqlite3_errmsg(db));
		return 1;
	}
	if (run(db, "PRAGMA journal_mode=WAL") || run(db, "PRAGMA synchronous=FULL") ||
	    run(db, "CREATE TABLE IF NOT EXISTS commits(id INTEGER PRIMARY KEY, at REAL, v BLOB)"))
		return 1;
	if (sqlite3_prepare_v2(db, "INSERT INTO commits(at, v) VALUES (?, randomblob(200))", -1,
			       &insert, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "DELETE FROM commits WHERE id < (SELECT max(id) FROM commits) - ?",
			       -1, &trim, NULL) != SQLITE_OK) {
		fprintf(stderr, "xq-commitprobe: %s\n", sqlite3_errmsg(db));
		return 1;
	}
	sqlite3_bind_int(trim, 1, KEEP_ROWS);
	while (access(argv[3], F_OK) != 0) {
		t0 = now_ms();
		if (run(db, "BEGIN"))
			return 1;
		sqlite3_bind_double(insert, 1, t0);
		if (sqlite3_step(insert) != SQLITE_DONE ||
		    (++commits % KEEP_ROWS == 0 && sqlite3_step(trim) != SQLITE_DONE)) {
			fprintf(stderr, "xq-commitprobe: %s\n", sqlite3_errmsg(db));
			return 1;
		}
		sqlite3_reset(insert);
		sqlite3_reset(trim);
		if (run(db, "COMMIT"))
			return 1;
		fprintf(out, "%.1f %.1f\n", t0, now_ms() - t0);
	}
	sqlite3_finalize(insert);
	sqlite3_finalize(trim);
	sqlite3_close(db);
	return fclose(out) ? 1 : 0;
}
