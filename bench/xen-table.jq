# One kernel's Xen run as Markdown: p50/p95/max per method, and the issue's
# targets checked.
include "stats";

def v: if . == null then "-" else tostring end;
def cell: if . == null then "-" else "\(.p50) / \(.p95) / \(.max)" end;
def mid: if . == null then "-" else .p50 | tostring end;
def row: "| \(.method) | \(.consistency | join(", ")) | \(.snapshots - .failed)/\(.snapshots) | \(.beyond_ms | cell) | \(.stall_ms | mid) | \(.copy_ms | mid) | \(.drain_ms | mid) | \(.presync_ms | mid) | \(.blocked_ms | cell) | \(.protocol_ms | mid) | \(.thaw_ms | mid) | \(.checks.ext4_clean)/\(.checks.xfs_clean)/\(.checks.db_intact) |";
def met(c): if c then "met" else "NOT met" end;

(.summary | map({key: .method, value: .}) | from_entries) as $m
| "### \(.guest.guest_kernel) (\(.label)), Xen 4.17, PV guest, \(.guest.xenstored), \(.guest.rounds) rounds",
"",
"Host load (1/5/15 min) before: \(.host.load_before.load1)/\(.host.load_before.load5)/\(.host.load_before.load15), after: \(.host.load_after.load1)/\(.host.load_after.load5)/\(.host.load_after.load15). Extra agent configuration: \(if .guest.agent_conf == "" or .guest.agent_conf == ";" then "none" else .guest.agent_conf end).",
"",
"All times in ms. Stall: the longest SQLite commit (WAL, synchronous=FULL) on either filesystem that overlapped the snapshot; beyond dom0: that stall minus dom0's own snapshot (the copy), p50 / p95 / max. Blocked: from the end of the pre-sync to the last filesystem frozen (the whole freeze for the loop). Protocol: the rest of the freeze window once the freeze call, dom0's copy and the thaw call are taken out. Copies passing: ext4 e2fsck -fn clean / xfs_repair -n after log replay / database integrity, of the snapshots that succeeded.",
"",
"| method | consistency | ok | stall beyond dom0 | stall p50 | dom0 copy p50 | drain p50 | pre-sync p50 | blocked | protocol p50 | thaw p50 | copies passing |",
"|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
(.summary[] | row),
"",
"Targets:",
(if $m.module.beyond_ms and $m.loop.beyond_ms then
	($m.loop.beyond_ms.p50 / 3 | round1) as $goal
	| "- stall beyond dom0, p50, module <= 1/3 of the loop's: \($m.module.beyond_ms.p50) vs \($goal): \(met($m.module.beyond_ms.p50 <= $goal))\(if $m.module.beyond_ms.p50 > $goal then ", missed by \($m.module.beyond_ms.p50 - $goal | round1) ms" else "" end)",
	(if $m.xo.beyond_ms then "- the same through the sync hook: \($m.xo.beyond_ms.p50) vs \($goal): \(met($m.xo.beyond_ms.p50 <= $goal))\(if $m.xo.beyond_ms.p50 > $goal then ", missed by \($m.xo.beyond_ms.p50 - $goal | round1) ms" else "" end)" else empty end)
else "- stall beyond dom0 against the loop's: not checked, no stall figures for the module or the loop" end),
(.summary[] | select(.blocked_ms != null and .method != "loop")
	| "- blocked phase, \(.method): p95 \(.blocked_ms.p95) <= 2 x p50 \(.blocked_ms.p50) and < 500: \(met(.blocked_ms.p95 <= 2 * .blocked_ms.p50 and .blocked_ms.p95 < 500))"),
(.summary[] | select(.method != "none") | .snapshots as $n
	| "- every snapshot of \(.method) taken and its copies passing the checks: \(met(.failed == 0 and ([.checks[]] | all(. == $n))))"),
""
