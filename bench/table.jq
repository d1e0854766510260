# One kernel's run as Markdown: medians [min-max] per size and method, and
# the issue's targets checked at the largest size.

def cell: "\(.median) [\(.min)-\(.max)]";

def row: "| \(.nfs) | \(.method) | \(.freeze_ms | cell) | \(.blocked_ms | cell) | \(.skew_ms | cell) | \(.overhead_ms | cell) | \(.total_ms | cell) |";

(.summary | map(.nfs) | max) as $top
| [.summary[] | select(.nfs == $top)] as $big
| def at(m): ($big | map(select(.method == m))[0]);
"### \(.guest.kernel) (\(.label)), \(.guest.repeats) repeats, hold \(.guest.hold_ms) ms",
"",
"Host load (1/5/15 min) before: \(.host.load_before.load1)/\(.host.load_before.load5)/\(.host.load_before.load15), after: \(.host.load_after.load1)/\(.host.load_after.load5)/\(.host.load_after.load15). Guest: \(.guest.cpus) vCPUs (TCG), \(.guest.mem_kib / 1024 | floor) MiB, dirty_ratio \(.guest.dirty_ratio), \(.guest.write_size / 1024) KiB writes; drain: vm.dirty_bytes \(.guest.drain_bytes / 1048576) MiB for \(.guest.drain_ms) ms.",
"",
"All times in ms, median [min-max]. Freeze all: request to the last filesystem frozen. Writers blocked before hold: from the start of the phase that blocks writers (the freeze proper, after any pre-sync or drain) to the last filesystem frozen. Skew: first to last filesystem frozen. Stall overhead: the longest write() any writer saw, minus the hold.",
"",
"| FS | method | freeze all | writers blocked before hold | skew | stall overhead | request to thaw |",
"|---:|---|---:|---:|---:|---:|---:|",
(.summary[] | row),
"",
(if at("loop") and at("presync") and at("parallel") then
	"Targets at \($top) filesystems, module with pre-sync (d) against the loop (a) and parallel userspace (b):",
	"- stall overhead <= 1/5 of the loop's: \(at("presync").overhead_ms.median) vs \(at("loop").overhead_ms.median / 5 | . * 10 | round / 10): \(if at("presync").overhead_ms.median <= at("loop").overhead_ms.median / 5 then "met" else "NOT met" end)",
	"- stall overhead <= parallel userspace's: \(at("presync").overhead_ms.median) vs \(at("parallel").overhead_ms.median): \(if at("presync").overhead_ms.median <= at("parallel").overhead_ms.median then "met" else "NOT met" end)",
	"- skew <= 1/10 of the loop's: \(at("presync").skew_ms.median) vs \(at("loop").skew_ms.median / 10 | . * 10 | round / 10): \(if at("presync").skew_ms.median <= at("loop").skew_ms.median / 10 then "met" else "NOT met" end)",
	(if at("presync-drain") then
	"- drained pre-sync overhead <= 1/3 of parallel userspace's: \(at("presync-drain").overhead_ms.median) vs \(at("parallel").overhead_ms.median / 3 | . * 10 | round / 10): \(if at("presync-drain").overhead_ms.median <= at("parallel").overhead_ms.median / 3 then "met" else "NOT met" end)"
	else empty end),
	""
else empty end)
