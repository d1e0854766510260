# Turns xq-bench's JSON lines (slurped) into one run file: the host's load
# before and after, the guest's settings, the median and spread of each
# measure per size and method, every cycle and the wait curves.
# Arguments: $run_label, $git, $cpu, $drive, $before, $after (see bench/run).

include "stats";

def spread: {
	median: (quantile(0.5) | round1), q1: (quantile(0.25) | round1),
	q3: (quantile(0.75) | round1), p95: (quantile(0.95) | round1), min: (min | round1), max: (max | round1), n: length
};

(map(select(.type == "meta"))[0] | del(.type)) as $meta
| [map(select(.type == "cycle"))[] | del(.type)] as $cycles
| ($meta.methods | map(.name)) as $order
| {
	"label": $run_label,
	git: $git,
	host: { cpu: $cpu, accel: "tcg", drive: $drive, load_before: $before, load_after: $after },
	guest: $meta,
	summary: [
		$cycles | group_by([.nfs, .method])[]
		| {
			nfs: .[0].nfs,
			method: .[0].method,
			freeze_ms: (map(.freeze_ms) | spread),
			blocked_ms: (map(.blocked_ms) | spread),
			skew_ms: (map(.skew_ms) | spread),
			stall_ms: (map(.stall_ms) | spread),
			overhead_ms: (map(.overhead_ms) | spread),
			total_ms: (map(.total_ms) | spread)
		}
	] | sort_by([.nfs, (.method as $m | $order | index($m))]),
	cycles: $cycles,
	traces: [map(select(.type == "trace"))[] | del(.type)]
}
